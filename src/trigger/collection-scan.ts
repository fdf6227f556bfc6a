// Backfill and reconcile: every document of the trigger collection that matches the filter, in batches, as
// TriggerEvents; a saga's `_id`, derived from its {saga, key}, turns documents that already have one into duplicates.
import type { Collection, Document } from 'mongodb';
import type { TriggerEvent } from '../engine/trigger-event.js';
import { scannedTriggerEvent } from './change-events.js';
import { partitionCondition, type TriggerPartition } from './trigger-partition.js';

export type ScanReason = 'backfill' | 'reconcile';

/**
 * Calls `onBatch` with up to `batchSize` events at a time; returns how many documents were scanned.
 * @throws Error when `signal` aborts mid-scan: an interrupted scan must not be followed by a checkpoint.
 */
export async function scanMatchingDocuments(
  source: Collection,
  filter: Readonly<Record<string, unknown>>,
  options: { reason: ScanReason; batchSize: number; signal: AbortSignal; partition?: TriggerPartition },
  onBatch: (events: TriggerEvent[]) => Promise<void>,
): Promise<number> {
  const ns = { db: source.dbName, coll: source.collectionName };
  // A partition scans its share only: the same hash ranges as its change stream, evaluated by the server.
  const query: Document = options.partition
    ? { $and: [filter, { $expr: partitionCondition('$_id', options.partition) }] }
    : filter;
  const cursor = source.find(query, { batchSize: options.batchSize });
  let scanned = 0;
  try {
    let batch: TriggerEvent[] = [];
    for await (const document of cursor) {
      if (options.signal.aborted) break;
      batch.push(scannedTriggerEvent(document, ns, options.reason));
      scanned += 1;
      if (batch.length >= options.batchSize) {
        await onBatch(batch);
        batch = [];
      }
    }
    if (options.signal.aborted) throw new Error(`${options.reason} scan of ${source.namespace} interrupted`);
    if (batch.length > 0) await onBatch(batch);
  } finally {
    await cursor.close().catch(() => undefined);
  }
  return scanned;
}
