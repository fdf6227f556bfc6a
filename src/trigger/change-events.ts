// Reading a trigger's change stream in batches and turning its events (or scanned documents) into TriggerEvents.
import type { ChangeStream, ChangeStreamDocument, Document, ResumeToken, Timestamp } from 'mongodb';
import type { TriggerEvent } from '../engine/trigger-event.js';

export type TriggerChangeStream = ChangeStream<Document, ChangeStreamDocument<Document>>;

export interface ChangeBatch {
  events: TriggerEvent[];
  /** Events read from the stream, including those skipped (no document any more). */
  received: number;
  /** Where the stream stands after this batch: covers every event read, or the high-water mark when drained. */
  resumeToken: ResumeToken;
  /** Cluster time of the last event read. */
  clusterTime: Timestamp | undefined;
  /** The stream answered "nothing more" (the token is then its postBatchResumeToken). */
  drained: boolean;
  /** The server closed the stream without an invalidate event reaching us. */
  ended: boolean;
  /** The token of an `invalidate` event: the collection was dropped or renamed and the stream has ended. */
  invalidateToken?: ResumeToken;
}

/**
 * Reads up to `maxEvents` events: blocks (up to the stream's maxAwaitTimeMS) only while the batch is empty,
 * then takes what is already buffered, so a lone event is not held back waiting for more.
 */
export async function readChangeBatch(stream: TriggerChangeStream, maxEvents: number): Promise<ChangeBatch> {
  const events: TriggerEvent[] = [];
  let received = 0;
  let clusterTime: Timestamp | undefined;
  let drained = false;
  while (received < maxEvents) {
    if (received > 0 && stream.bufferedCount() === 0) break;
    const change = await stream.tryNext();
    if (change === null) {
      drained = true;
      break;
    }
    received += 1;
    if ('clusterTime' in change && change.clusterTime) clusterTime = change.clusterTime;
    if (change.operationType === 'invalidate') {
      return {
        events,
        received,
        resumeToken: change._id,
        clusterTime,
        drained,
        ended: true,
        invalidateToken: change._id,
      };
    }
    const event = triggerEventOf(change);
    if (event) events.push(event);
  }
  return {
    events,
    received,
    resumeToken: stream.resumeToken,
    clusterTime,
    drained,
    ended: drained && stream.closed,
  };
}

/** The TriggerEvent of an insert, update or replace; null for other events and updates of deleted documents. */
export function triggerEventOf(change: ChangeStreamDocument<Document>): TriggerEvent | null {
  if (
    change.operationType !== 'insert' &&
    change.operationType !== 'update' &&
    change.operationType !== 'replace'
  ) {
    return null;
  }
  // updateLookup finds nothing when the document was deleted since the update: nothing left to start from.
  if (!change.fullDocument) return null;
  return {
    document: change.fullDocument,
    documentKey: change.documentKey,
    ns: { db: change.ns.db, coll: change.ns.coll ?? '' },
    operationType: change.operationType,
    ...(change.clusterTime ? { clusterTime: change.clusterTime } : {}),
  };
}

/** A document found by a backfill or reconcile scan, as if it had just been inserted. */
export function scannedTriggerEvent(
  document: Document,
  ns: { db: string; coll: string },
  reason: 'backfill' | 'reconcile',
): TriggerEvent {
  return { document, documentKey: { _id: document._id as unknown }, ns, operationType: reason };
}
