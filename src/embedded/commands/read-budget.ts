// Long reads share the one event loop: they pause every few milliseconds of work so that other connections'
// commands run in between, and stop with MaxTimeMSExpired (50) once the command's maxTimeMS has passed.
import type { Document } from 'bson';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MongoCommandError } from '../errors.js';
import type { PipelineBudget } from '../query/index.js';
import { commandNumber, type CommandContext } from './command-context.js';

/** Work between two pauses: short enough that a ping waits at most a few ms behind a scan. */
const SLICE_MS = 4;
/** The clocks are read once per this many documents (a power of two, checked with a mask). */
const CHECK_EVERY = 256;

export class ReadBudget implements PipelineBudget {
  private sliceStartedAt = performance.now();
  private visited = 0;
  private readonly deadline: number | undefined;

  constructor(
    maxTimeMS: number | undefined,
    private readonly now: () => number,
    private readonly signal?: AbortSignal,
  ) {
    this.deadline = maxTimeMS !== undefined && maxTimeMS > 0 ? now() + maxTimeMS : undefined;
  }

  /** The command's maxTimeMS, measured from now on the server's clock, and its connection's end. */
  static of(context: CommandContext): ReadBudget {
    const maxTimeMS = commandNumber(context.command.maxTimeMS);
    return new ReadBudget(maxTimeMS, context.now, context.connection.signal);
  }

  /**
   * Called once per document: true when the slice is used up and the caller must `await pause()` before going on.
   * Throws MaxTimeMSExpired once the deadline has passed.
   */
  due(): boolean {
    if ((++this.visited & (CHECK_EVERY - 1)) !== 0) return false;
    this.checkDeadline();
    return performance.now() - this.sliceStartedAt >= SLICE_MS;
  }

  /** After a batch of work of unknown cost (a chunk through a mingo stage): the same answer as due(), now. */
  dueNow(): boolean {
    this.checkDeadline();
    return performance.now() - this.sliceStartedAt >= SLICE_MS;
  }

  /** Lets every other ready callback (sockets, timers) run, then starts a new slice. */
  async pause(): Promise<void> {
    await nextTurn();
    // A client that went away does not need the rest of its answer.
    if (this.signal?.aborted === true)
      throw new MongoCommandError('InternalError', 'the connection closed during the read');
    this.checkDeadline();
    this.sliceStartedAt = performance.now();
  }

  checkDeadline(): void {
    if (this.deadline !== undefined && this.now() >= this.deadline)
      throw new MongoCommandError('MaxTimeMSExpired', 'operation exceeded time limit');
  }
}

/**
 * Calls `visit` on each document of `source` until it returns false, pausing between slices. Snapshot rule: the
 * read sees the documents as they were when it started. Stored documents are never modified in place (writes
 * replace them), so the documents not yet visited when the first pause comes are taken into an array in the same
 * synchronous step: a write landing during a pause is not seen at all (an updated document is read in its earlier
 * version, a deleted one is still read, an inserted one is not), and a read short enough to need no pause costs no
 * copy.
 */
export async function scanSliced(
  source: Iterable<Document>,
  visit: (doc: Document) => boolean,
  budget: ReadBudget,
): Promise<void> {
  const iterator = source[Symbol.iterator]();
  for (let step = iterator.next(); !step.done; step = iterator.next()) {
    if (!visit(step.value)) return;
    if (budget.due()) {
      const rest: Document[] = [];
      for (let next = iterator.next(); !next.done; next = iterator.next()) rest.push(next.value);
      await budget.pause();
      await scanArray(rest, visit, budget);
      return;
    }
  }
}

async function scanArray(
  docs: readonly Document[],
  visit: (doc: Document) => boolean,
  budget: ReadBudget,
): Promise<void> {
  for (const doc of docs) {
    if (!visit(doc)) return;
    if (budget.due()) await budget.pause();
  }
}

/** The documents of `source` that `matches`, read in slices under the snapshot rule of scanSliced. */
export async function filterSliced(
  source: Iterable<Document>,
  matches: (doc: Document) => boolean,
  budget: ReadBudget,
): Promise<Document[]> {
  const out: Document[] = [];
  await scanSliced(
    source,
    (doc) => {
      if (matches(doc)) out.push(doc);
      return true;
    },
    budget,
  );
  return out;
}
