// Group commit for conditional single-document updates. Concurrent callers (a worker runs many step jobs at once)
// are gathered into one MongoDB 8.0 `bulkWrite` command that reports every update's own match count, so each
// caller still learns whether *its* condition held. At most MAX_IN_FLIGHT batches are in flight: updates that
// arrive meanwhile form the next batch, which costs no latency when idle and saves a round trip per update under
// load (the per-command cost of the driver and server dwarfs the per-update cost).
//
// Servers without the command (MongoDB before 8.0) answer CommandNotFound once; from then on every update is
// sent on its own, exactly as before.
//
// Meant for conditional transitions: an update whose filter no longer matches once it has been applied (the saga
// store's filters name the state a transition leaves). That is what makes resending a batch after a lost reply
// safe.
import {
  MongoNetworkError,
  MongoServerError,
  type Collection,
  type Db,
  type Document,
  type Filter,
  type MongoClient,
  type UpdateFilter,
} from 'mongodb';

export interface UpdateOutcome {
  matched: number;
  modified: number;
}

interface Pending<TSchema extends Document> {
  filter: Filter<TSchema>;
  update: UpdateFilter<TSchema>;
  resolve(outcome: UpdateOutcome): void;
  reject(error: unknown): void;
}

/** One entry of the command's per-operation results. */
interface BulkWriteItem {
  ok: number;
  idx: number;
  n?: number;
  nModified?: number;
  code?: number;
  errmsg?: string;
}

const COMMAND_NOT_FOUND = 59;
/** Errors after which the primary may be back (or another one elected): worth one more try. */
const TRANSIENT_CODES = new Set([
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

function isTransient(error: unknown): boolean {
  return (
    error instanceof MongoNetworkError ||
    (error instanceof MongoServerError && TRANSIENT_CODES.has(Number(error.code)))
  );
}
/** Far below the server's 100,000 operations per command; keeps one reply small. */
const MAX_BATCH = 500;
/** Two, not one: a batch that is slow to answer does not hold every other update back. */
const MAX_IN_FLIGHT = 2;

export class WriteBatcher<TSchema extends Document = Document> {
  private readonly queue: Pending<TSchema>[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Unknown until the first batch: whether the server has the `bulkWrite` command. */
  private bulkWriteSupported: boolean | undefined;

  /** `client.db()` builds a new Db object on every call. */
  private readonly admin: Db;

  constructor(
    client: MongoClient,
    private readonly collection: Collection<TSchema>,
  ) {
    this.admin = client.db('admin');
  }

  /** `collection.updateOne(filter, update)`, possibly sent together with other callers' updates. */
  updateOne(filter: Filter<TSchema>, update: UpdateFilter<TSchema>): Promise<UpdateOutcome> {
    return new Promise<UpdateOutcome>((resolve, reject) => {
      this.queue.push({ filter, update, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= MAX_IN_FLIGHT || this.scheduled) return;
    this.scheduled = true;
    // setImmediate, not a microtask: callers woken by the same batch of I/O events join one command.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.inFlight += 1;
    const batch = this.queue.splice(0, MAX_BATCH);
    try {
      await this.send(batch);
    } finally {
      this.inFlight -= 1;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async send(batch: Pending<TSchema>[]): Promise<void> {
    if (batch.length === 1 || this.bulkWriteSupported === false) {
      await Promise.all(batch.map((item) => this.sendAlone(item)));
      return;
    }
    let reply: Document;
    try {
      reply = await this.bulkWrite(batch);
      this.bulkWriteSupported = true;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === COMMAND_NOT_FOUND && !this.bulkWriteSupported) {
        this.bulkWriteSupported = false;
        await Promise.all(batch.map((item) => this.sendAlone(item)));
        return;
      }
      for (const item of batch) item.reject(error);
      return;
    }
    const cursor = reply.cursor as { id?: unknown; firstBatch?: unknown } | undefined;
    const results = Array.isArray(cursor?.firstBatch) ? (cursor.firstBatch as BulkWriteItem[]) : undefined;
    // Up to MAX_BATCH small results always fit in the first batch; anything else is not a reply we understand.
    if (reply.writeConcernError || !results || Number(cursor?.id) !== 0) {
      const error = new MongoServerError({
        message: 'bulkWrite: unexpected reply (write concern error or results beyond the first batch)',
        ...(reply.writeConcernError as Document | undefined),
      });
      for (const item of batch) item.reject(error);
      return;
    }
    const byIndex = new Map(results.map((result) => [result.idx, result]));
    for (const [index, item] of batch.entries()) {
      const result = byIndex.get(index);
      if (result?.ok === 1) item.resolve({ matched: result.n ?? 0, modified: result.nModified ?? 0 });
      else {
        const message = result?.errmsg ?? `bulkWrite: no result for operation ${index}`;
        item.reject(new MongoServerError({ message, errmsg: message, code: result?.code }));
      }
    }
  }

  /**
   * The `bulkWrite` command, sent as a plain command: `MongoClient.bulkWrite` builds a cursor and merges result maps
   * around the same command, which costs more client CPU than the command itself at these batch sizes. The one
   * thing it adds, retrying once after a lost connection or a primary change, is done here: every update sent
   * through a WriteBatcher is a conditional transition that no longer matches once applied, so resending one
   * that did apply only reports it as not matched, which callers already handle.
   */
  private async bulkWrite(batch: Pending<TSchema>[]): Promise<Document> {
    const writeConcern = this.collection.writeConcern;
    const command: Document = {
      bulkWrite: 1,
      ops: batch.map((item) => ({ update: 0, filter: item.filter, updateMods: item.update })),
      nsInfo: [{ ns: this.collection.namespace }],
      ordered: false,
    };
    if (writeConcern) {
      command.writeConcern = {
        ...(writeConcern.w !== undefined ? { w: writeConcern.w } : {}),
        ...(writeConcern.journal !== undefined ? { j: writeConcern.journal } : {}),
        ...(writeConcern.wtimeoutMS !== undefined ? { wtimeout: writeConcern.wtimeoutMS } : {}),
      };
    }
    try {
      return await this.admin.command(command);
    } catch (error) {
      if (!isTransient(error)) throw error;
      return this.admin.command(command);
    }
  }

  private async sendAlone(item: Pending<TSchema>): Promise<void> {
    try {
      const result = await this.collection.updateOne(item.filter, item.update);
      item.resolve({ matched: result.matchedCount, modified: result.modifiedCount });
    } catch (error) {
      item.reject(error);
    }
  }
}
