// A change-stream cursor: reads the oplog from its resume point, turns entries into events for its scope,
// runs the user's stages, and waits for new entries when there is nothing to return.
import { calculateObjectSize } from 'bson';
import type { Document } from '../query/index.js';
import { MongoCommandError } from '../errors.js';
import { eventsForEntry, mayYieldEvents, type EventContext } from './change-event-builder.js';
import { historyNeededAfter, type ChangeStreamOptions } from './change-stream-options.js';
import { applyUserStages } from './change-stream-pipeline.js';
import { cursorNamespace, type ChangeStreamScope } from './change-stream-scope.js';
import type { ChangeStreamSource } from './change-stream-source.js';
import type { OplogEntry } from '../storage/oplog-entry.js';
import {
  compareResumePoints,
  encodeResumeToken,
  timestampBefore,
  type ResumePoint,
  type ResumeToken,
} from './resume-token.js';

export interface ChangeStreamBatch {
  events: Document[];
  /** Where the stream stands after this batch; resuming from it neither skips nor replays an event. */
  postBatchResumeToken: ResumeToken;
  /** True when the stream ended (after an invalidate): reply with cursor id 0 and drop the cursor. */
  closed: boolean;
}

/** Room left for the reply envelope around a batch within MongoDB's 16 MiB document limit. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024;

export function historyLostError(): MongoCommandError {
  return new MongoCommandError(
    'ChangeStreamHistoryLost',
    'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
  );
}

export class ChangeStreamCursor {
  /** Everything up to and including this point has been delivered or skipped. */
  private position: ResumePoint;
  private ended = false;
  private busy = false;
  private readonly context: EventContext;
  /** Which appended entries wake this cursor while it waits: only those that may yield events for it. */
  private readonly concernsStream: (entry: OplogEntry) => boolean;

  constructor(
    private readonly source: ChangeStreamSource,
    readonly scope: ChangeStreamScope,
    readonly options: ChangeStreamOptions,
    private readonly userStages: readonly Document[],
    start: ResumePoint,
  ) {
    this.position = start;
    this.context = { scope, options, source };
    this.concernsStream = (entry) => mayYieldEvents(entry, scope);
  }

  /** The `cursor.ns` of aggregate/getMore replies. */
  get namespace(): string {
    return cursorNamespace(this.scope);
  }

  get closed(): boolean {
    return this.ended;
  }

  /** The token a reply carries as postBatchResumeToken right now. */
  get resumeToken(): ResumeToken {
    return encodeResumeToken(this.position);
  }

  /**
   * Events after the current position: at most `batchSize` (undefined = as many as fit in 16 MiB), waiting
   * up to `maxTimeMS` (0 = not at all) for the first one. An abort of `signal` ends the wait early.
   */
  async nextBatch(
    batchSize: number | undefined,
    maxTimeMS: number,
    signal?: AbortSignal,
  ): Promise<ChangeStreamBatch> {
    if (this.busy)
      throw new MongoCommandError('OperationFailed', 'The change stream cursor is already in use');
    this.busy = true;
    try {
      const deadline = Date.now() + maxTimeMS;
      for (;;) {
        const events = this.readAvailable(batchSize ?? Infinity);
        const batch = { events, postBatchResumeToken: this.resumeToken, closed: this.ended };
        if (events.length > 0 || this.ended || batchSize === 0) return batch;
        const remaining = deadline - Date.now();
        if (remaining <= 0 || signal?.aborted === true) return batch;
        // The position is at the cluster time after a full read, so this waits for genuinely new entries.
        await this.source.oplog.waitForNewer(
          historyNeededAfter(this.position),
          remaining,
          signal,
          this.concernsStream,
        );
      }
    } finally {
      this.busy = false;
    }
  }

  /**
   * Reads events synchronously (no entry can be appended meanwhile) and commits the new position only when
   * the whole read succeeded, so a failing event fails every retry the same way instead of being skipped.
   */
  private readAvailable(limit: number): Document[] {
    if (this.ended) return [];
    const oplog = this.source.oplog;
    if (!oplog.covers(historyNeededAfter(this.position))) throw historyLostError();

    let position = this.position;
    const events: Document[] = [];
    let bytes = 0;
    let full = false;
    // Entries at the position's own time are read again: an entry may still owe its invalidate.
    let cursor = oplog.positionAfter(timestampBefore(position.ts));
    scan: for (let entry = oplog.entryAt(cursor); entry !== undefined; entry = oplog.entryAt(++cursor)) {
      for (const pending of eventsForEntry(entry, this.context)) {
        if (compareResumePoints(pending.point, position) <= 0) continue;
        if (events.length >= limit) {
          full = true;
          break scan;
        }
        const event = applyUserStages(pending.build(), this.userStages);
        if (event !== null) {
          // The first event always goes out, whatever its size, so sizes are computed only once a second
          // event needs room beside it (most batches of a waiting stream hold one event).
          if (events.length > 0) {
            if (events.length === 1) bytes = calculateObjectSize(events[0]!);
            const size = calculateObjectSize(event);
            if (bytes + size > MAX_BATCH_BYTES) {
              full = true;
              break scan;
            }
            bytes += size;
          }
          events.push(event);
        }
        position = pending.point;
        if (pending.invalidates) {
          this.ended = true;
          break scan;
        }
      }
      // Entries that yield nothing for this stream still move it on, so waits are for newer entries.
      const examined: ResumePoint = { ts: entry.ts, kind: 'event' };
      if (compareResumePoints(examined, position) > 0) position = examined;
    }
    if (!full && !this.ended) {
      // Read to the end: every entry up to the cluster time has been examined.
      const highWaterMark: ResumePoint = { ts: oplog.clusterTime, kind: 'highWaterMark' };
      if (compareResumePoints(highWaterMark, position) > 0) position = highWaterMark;
    }
    this.position = position;
    return events;
  }
}
