// Open cursors by id: plain result cursors (find/aggregate) and change-stream cursors. Ids are Int64 on the wire.
import { BSON, type Document } from 'bson';
import { MongoCommandError } from '../errors.js';

/** The 16 MiB reply limit, less room for the reply envelope. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;

export interface CursorBatch {
  documents: Document[];
  exhausted: boolean;
  /** Extra cursor fields, e.g. postBatchResumeToken. */
  extra?: Document;
}

export interface ServerCursor {
  readonly ns: string;
  /** Session that opened the cursor; getMore from another session is refused as MongoDB does. */
  readonly lsid?: unknown;
  nextBatch(
    batchSize: number | undefined,
    maxTimeMS: number | undefined,
    signal: AbortSignal,
  ): Promise<CursorBatch>;
  close?(): void;
}

/** A cursor over an already computed result. */
export class ArrayCursor implements ServerCursor {
  private position = 0;

  constructor(
    readonly ns: string,
    private readonly documents: Document[],
    readonly lsid?: unknown,
  ) {}

  nextBatch(batchSize: number | undefined): Promise<CursorBatch> {
    return Promise.resolve(this.takeBatch(batchSize));
  }

  takeBatch(batchSize: number | undefined): CursorBatch {
    const limit = batchSize === undefined || batchSize <= 0 ? Infinity : batchSize;
    const batch: Document[] = [];
    let bytes = 0;
    while (this.position < this.documents.length && batch.length < limit) {
      const doc = this.documents[this.position]!;
      bytes += BSON.calculateObjectSize(doc, { ignoreUndefined: true });
      if (bytes > MAX_BATCH_BYTES && batch.length > 0) break;
      batch.push(doc);
      this.position += 1;
    }
    return { documents: batch, exhausted: this.position >= this.documents.length };
  }
}

export interface CursorRegistryOptions {
  /** Cursors idle for longer are closed, like MongoDB's cursorTimeoutMillis (10 minutes). */
  idleTimeoutMs: number;
}

interface Entry {
  cursor: ServerCursor;
  lastUsed: number;
  busy: boolean;
}

export class CursorRegistry {
  private readonly cursors = new Map<number, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: CursorRegistryOptions = { idleTimeoutMs: 10 * 60_000 }) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, options.idleTimeoutMs)).unref();
  }

  /** Registers a cursor and returns its id (positive, below 2^53 so it survives Long promotion). */
  register(cursor: ServerCursor): number {
    let id: number;
    do {
      id = Math.floor(Math.random() * 2 ** 52) + 1;
    } while (this.cursors.has(id));
    this.cursors.set(id, { cursor, lastUsed: Date.now(), busy: false });
    return id;
  }

  get size(): number {
    return this.cursors.size;
  }

  /** Runs one getMore; the cursor is removed when exhausted. */
  async getMore(
    id: number,
    ns: string,
    lsid: unknown,
    batchSize: number | undefined,
    maxTimeMS: number | undefined,
    signal: AbortSignal,
  ): Promise<CursorBatch> {
    const entry = this.cursors.get(id);
    if (!entry) throw new MongoCommandError('CursorNotFound', `cursor id ${id} not found`);
    if (entry.cursor.ns !== ns) {
      throw new MongoCommandError(
        'Unauthorized',
        `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${entry.cursor.ns}`,
      );
    }
    if (entry.busy) throw new MongoCommandError('OperationFailed', `cursor id ${id} is already in use`);
    entry.busy = true;
    try {
      const batch = await entry.cursor.nextBatch(batchSize, maxTimeMS, signal);
      if (batch.exhausted) this.kill(id);
      return batch;
    } catch (error) {
      this.kill(id);
      throw error;
    } finally {
      entry.busy = false;
      entry.lastUsed = Date.now();
    }
  }

  kill(id: number): boolean {
    const entry = this.cursors.get(id);
    if (!entry) return false;
    this.cursors.delete(id);
    entry.cursor.close?.();
    return true;
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const id of [...this.cursors.keys()]) this.kill(id);
  }

  private sweep(): void {
    const cutoff = Date.now() - this.options.idleTimeoutMs;
    for (const [id, entry] of this.cursors) if (!entry.busy && entry.lastUsed < cutoff) this.kill(id);
  }
}
