// The TTL monitor, as mongod runs it: every `ttlMonitorSleepSecs` (60 s by default) one pass deletes the documents
// that a TTL index (a single-field index with expireAfterSeconds) says have expired, each delete recorded like any
// other so change streams see a `delete` event and the journal keeps it. Other features (retention of finished
// sagas) build on it, so it stays independent of the command layer.
import type { Document } from 'bson';
import type { Collection } from './collection.js';
import type { CollectionIndex } from './collection-index.js';
import { valuesAtParts } from './document-paths.js';
import type { Engine } from './engine.js';

/** The earliest date BSON holds: a range from it holds only dates (index order sorts values by type first). */
const EARLIEST_DATE = new Date(-8_640_000_000_000_000);

export interface TtlMonitorOptions {
  /** Milliseconds between passes; read again before each wait, so setParameter takes effect on the next one. */
  intervalMs: () => number;
  /** Now, in epoch milliseconds; injected so tests move time instead of waiting for it. */
  clock: () => number;
  onError: (error: unknown) => void;
}

/**
 * When `doc` expires under a TTL index on `parts`: the earliest date at that path (a field holding an array of
 * dates expires with its earliest one) plus `expireAfterSeconds`; undefined when no date is there.
 */
function expiresAt(doc: Document, parts: readonly string[], expireAfterSeconds: number): number | undefined {
  let earliest: number | undefined;
  for (const value of valuesAtParts(doc, parts)) {
    if (!(value instanceof Date)) continue;
    const time = value.getTime();
    if (earliest === undefined || time < earliest) earliest = time;
  }
  return earliest === undefined ? undefined : earliest + expireAfterSeconds * 1000;
}

/** TTL indexes of a collection: single-field, with a numeric expireAfterSeconds (mongod ignores compound ones). */
function ttlIndexes(collection: Collection): CollectionIndex[] {
  const found: CollectionIndex[] = [];
  for (const index of collection.indexes.values()) {
    const seconds = index.spec.expireAfterSeconds;
    if (typeof seconds === 'number' && Number.isFinite(seconds) && Object.keys(index.spec.key).length === 1) {
      found.push(index);
    }
  }
  return found;
}

export class TtlMonitor {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly engine: Engine,
    private readonly options: TtlMonitorOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      try {
        this.pass();
      } catch (error) {
        this.options.onError(error);
      }
      this.schedule();
    }, this.options.intervalMs());
    // The monitor never keeps a process alive on its own.
    this.timer.unref();
  }

  /** One pass over every collection; returns how many documents it deleted. */
  pass(): number {
    const now = this.options.clock();
    let deleted = 0;
    for (const collection of this.engine.allCollections()) {
      if (collection.options.viewOn !== undefined) continue;
      for (const index of ttlIndexes(collection)) {
        const parts = Object.keys(index.spec.key)[0]!.split('.');
        const seconds = index.spec.expireAfterSeconds!;
        // Through the index's key order, only the dates up to the cutoff are read (a range from the earliest
        // date); an index holding arrays (multikey) is scanned whole.
        const cutoff = new Date(now - seconds * 1000);
        const candidates =
          index.inRange(
            { lower: { value: EARLIEST_DATE, inclusive: true }, upper: { value: cutoff, inclusive: true } },
            collection.documents,
          ) ?? collection.documents.values();
        const expired = [...candidates].filter((doc) => {
          const at = expiresAt(doc, parts, seconds);
          // One an open transaction holds is left for a later pass, as mongod's monitor retries its conflicts.
          return (
            at !== undefined && at <= now && index.covers(doc) && !this.engine.isLocked(collection, doc._id)
          );
        });
        if (expired.length === 0) continue;
        this.engine.write(() => {
          for (const doc of expired) {
            // Another TTL index of this pass may have removed it already.
            if (collection.findById(doc._id) !== doc) continue;
            this.engine.deleteDocument(collection, doc);
            deleted += 1;
          }
        });
      }
    }
    return deleted;
  }
}
