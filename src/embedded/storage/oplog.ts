// Bounded, in-order history of oplog entries with a cluster clock and waiters for new entries.
import { EventEmitter } from 'node:events';
import { Timestamp } from 'bson';
import type { OplogEntry } from './oplog-entry.js';

/** Orders two cluster times: negative, zero or positive. */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.t !== b.t ? (a.t < b.t ? -1 : 1) : a.i === b.i ? 0 : a.i < b.i ? -1 : 1;
}

export interface OplogOptions {
  /** Entries kept for change streams; older ones are dropped and resuming before them fails (286). */
  maxEntries: number;
}

export class Oplog {
  private entries: OplogEntry[] = [];
  /** Index of the first live entry in `entries` (dropped ones are compacted lazily). */
  private head = 0;
  private lastTime = new Timestamp({ t: Math.floor(Date.now() / 1000), i: 0 });
  /** Newest cluster time that history no longer covers; null while nothing was ever dropped. */
  private truncatedThrough: Timestamp | null = null;
  private readonly emitter = new EventEmitter();

  constructor(private readonly options: OplogOptions) {
    this.emitter.setMaxListeners(0);
  }

  /** Next cluster time: wall-clock seconds, with `i` counting within one second, never going back. */
  nextTimestamp(): Timestamp {
    const seconds = Math.floor(Date.now() / 1000);
    const next =
      seconds > this.lastTime.t
        ? new Timestamp({ t: seconds, i: 1 })
        : new Timestamp({ t: this.lastTime.t, i: this.lastTime.i + 1 });
    this.lastTime = next;
    return next;
  }

  /** The newest cluster time handed out (the server's operationTime). */
  get clusterTime(): Timestamp {
    return this.lastTime;
  }

  /**
   * Winds the clock back to `ts` (a time it showed before): the timestamps handed out since then belong to a batch
   * the journal refused, which never reached the oplog, so no reply or change event ever carried them.
   */
  releaseTimestampsAfter(ts: Timestamp): void {
    if (compareTimestamps(ts, this.lastTime) < 0) this.lastTime = ts;
  }

  /** Appends entries whose `ts` came from nextTimestamp(), then wakes waiting change streams. */
  append(entries: readonly OplogEntry[]): void {
    if (entries.length === 0) return;
    for (const entry of entries) this.entries.push(entry);
    const overflow = this.size - this.options.maxEntries;
    if (overflow > 0) {
      const lastDropped = this.entries[this.head + overflow - 1];
      this.head += overflow;
      if (lastDropped) this.truncatedThrough = lastDropped.ts;
      if (this.head > 4096 && this.head * 2 > this.entries.length) {
        this.entries = this.entries.slice(this.head);
        this.head = 0;
      }
    }
    this.emitter.emit('append', entries);
  }

  /** Restores history and clock after a restart (persistence only). */
  restore(entries: readonly OplogEntry[], clusterTime: Timestamp, truncatedThrough: Timestamp | null): void {
    this.entries = entries.slice(-this.options.maxEntries);
    this.head = 0;
    this.lastTime = clusterTime;
    this.truncatedThrough = truncatedThrough;
    if (entries.length > this.entries.length) {
      this.truncatedThrough = entries[entries.length - this.entries.length - 1]?.ts ?? truncatedThrough;
    }
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Newest cluster time no longer in history, or null when history is complete. */
  get truncatedBefore(): Timestamp | null {
    return this.truncatedThrough;
  }

  /** True when every entry after `ts` is still in history. */
  covers(ts: Timestamp): boolean {
    return this.truncatedThrough === null || compareTimestamps(ts, this.truncatedThrough) >= 0;
  }

  /** Position of the first retained entry with ts > `after` (binary search), for use with entryAt(). */
  positionAfter(after: Timestamp): number {
    let low = this.head;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const entry = this.entries[mid];
      if (entry && compareTimestamps(entry.ts, after) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Absolute position one past the newest entry. */
  get endPosition(): number {
    return this.entries.length;
  }

  /**
   * Entry at an absolute position from positionAfter()/endPosition. Positions stay valid across appends but
   * not across compaction, so callers keep a timestamp and re-derive the position on each read.
   */
  entryAt(position: number): OplogEntry | undefined {
    return position >= this.head ? this.entries[position] : undefined;
  }

  /** Retained entries with ts > `after`, oldest first, at most `limit`. */
  entriesAfter(after: Timestamp, limit = Infinity): OplogEntry[] {
    const start = this.positionAfter(after);
    const end = Math.min(this.entries.length, start + limit);
    return this.entries.slice(start, end);
  }

  /** All retained entries, oldest first (snapshots). */
  retained(): OplogEntry[] {
    return this.entries.slice(this.head);
  }

  /**
   * Resolves when an entry newer than `after` exists, after `timeoutMs`, or when `signal` aborts —
   * whichever comes first. No polling: it listens for append(). With `relevant`, appends of only irrelevant
   * entries (other collections' writes, for a collection stream) do not wake the caller; it reads them later.
   */
  waitForNewer(
    after: Timestamp,
    timeoutMs: number,
    signal?: AbortSignal,
    relevant?: (entry: OplogEntry) => boolean,
  ): Promise<void> {
    if (compareTimestamps(this.lastTime, after) > 0 || signal?.aborted || timeoutMs <= 0)
      return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.emitter.off('append', onAppend);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const onAppend = (entries: readonly OplogEntry[]): void => {
        if (compareTimestamps(this.lastTime, after) <= 0) return;
        if (relevant === undefined || entries.some(relevant)) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.on('append', onAppend);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
