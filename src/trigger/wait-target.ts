// A collection that sagas wait on (`.waitFor`) as a change target: each changed document resumes the sagas whose
// wait it matches. Candidates come from one indexed query per batch on the waits' equality keys
// (model/wait-keys.ts); each candidate's filter is then checked by MongoDB itself against the stored document, so
// matching has MongoDB's semantics. A wait ends once, whoever gets there first (store/wait-store.ts).
import type { Document } from 'bson';
import type { Db } from 'mongodb';
import type { TriggerEvent } from '../engine/trigger-event.js';
import type { WaitResumer } from '../engine/wait-resumer.js';
import { splitNamespace, waitKeysOfDocument } from '../model/wait-keys.js';
import { storedWaitFilter, type WaitingSaga, type WaitStore } from '../store/wait-store.js';
import { scannedTriggerEvent } from './change-events.js';
import type { ChangeTarget, HandledBatch } from './change-target.js';

export function waitLeaseId(ns: string): string {
  return `wait:${ns}`;
}

/** The wait watcher's target for namespace `ns` (`<db>.<collection>`). */
export function waitTarget(ns: string, db: Db, waits: WaitStore, resumer: WaitResumer): ChangeTarget {
  const [database, collection] = splitNamespace(ns);
  const source = db.client.db(database).collection(collection);
  const filterOf = (wait: WaitingSaga): Document => storedWaitFilter(wait.waiting);

  /** The document as stored now if it still matches `wait`'s filter (MongoDB decides), else null. */
  const matchingNow = (wait: WaitingSaga, id: unknown): Promise<Document | null> =>
    source.findOne({ $and: [{ _id: id }, filterOf(wait)] });

  async function handle(events: TriggerEvent[]): Promise<HandledBatch> {
    const keysOf = events.map((event) => new Set(waitKeysOfDocument(ns, event.document)));
    const candidates = await waits.findWaiting([...new Set(keysOf.flatMap((keys) => [...keys]))]);
    // Every (document, wait) pair worth asking MongoDB about: each equality field of the wait's filter is equal in
    // the document, and the change is one the wait counts. The pairs are independent: checked and resumed at once
    // (a wait that two documents of the batch match is resumed by one of them; the other finds it ended).
    const pairs = events.flatMap((event, index) =>
      candidates
        .filter(
          (wait) =>
            wait.waiting.keys.every((key) => keysOf[index]!.has(key)) &&
            (!isChange(event) || wait.waiting.on.includes(event.operationType)),
        )
        .map((wait) => ({ event, wait })),
    );
    const resumed = await Promise.all(
      pairs.map(async ({ event, wait }) => {
        const document = await matchingNow(wait, event.document._id);
        return (
          document !== null && (await resumer.matched(wait, document, wait.waiting.timeoutAt !== undefined))
        );
      }),
    );
    const started = resumed.filter(Boolean).length;
    const resumedBy = new Set(pairs.filter((_, index) => resumed[index]).map(({ event }) => event));
    return { started, rejected: 0, duplicates: events.length - resumedBy.size };
  }

  return {
    id: waitLeaseId(ns),
    name: waitLeaseId(ns),
    source,
    pipeline: [{ $match: { operationType: { $in: ['insert', 'update', 'replace', 'invalidate'] } } }],
    fullDocument: 'updateLookup',
    // No position yet (first start, or lost): a wait stored meanwhile may have missed its document.
    initialScan: () => 'reconcile',
    handle,
    async scan(reason, { batchSize, signal }, onBatch) {
      let read = 0;
      let chunk: WaitingSaga[] = [];
      // The open waits a chunk at a time, each chunk's documents looked up at once.
      const flush = async (): Promise<void> => {
        const found = await Promise.all(chunk.map((wait) => source.findOne(filterOf(wait))));
        read += chunk.length;
        chunk = [];
        const events = found.flatMap((document) =>
          document ? [scannedTriggerEvent(document, { db: database, coll: collection }, reason)] : [],
        );
        if (events.length > 0) await onBatch(events);
      };
      for await (const wait of waits.waitingOn(ns)) {
        if (signal.aborted) throw new Error(`${reason} of the waits on ${ns} interrupted`);
        chunk.push(wait);
        if (chunk.length >= batchSize) await flush();
      }
      await flush();
      return read;
    },
  };
}

/** A change event (not a document found by a scan, which matches whatever operations the wait counts). */
function isChange(
  event: TriggerEvent,
): event is TriggerEvent & { operationType: 'insert' | 'update' | 'replace' } {
  return (
    event.operationType === 'insert' || event.operationType === 'update' || event.operationType === 'replace'
  );
}
