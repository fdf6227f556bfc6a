// Group commit for conditional single-document updates. Concurrent callers (a worker runs many step jobs at once)
// are gathered into one MongoDB 8.0 `bulkWrite` command that reports every update's own match count, so each
// caller still learns whether *its* condition held. At most MAX_IN_FLIGHT batches are in flight: updates that
// arrive meanwhile form the next batch, which costs no latency when idle and saves a round trip per update under
// load (the per-command cost of the driver and server dwarfs the per-update cost).
//
// Servers without the command (MongoDB before 8.0) answer CommandNotFound once; from then on every update is
// sent on its own, exactly as before.
import {
  MongoClientBulkWriteError,
  MongoServerError,
  type ClientBulkWriteModel,
  type ClientBulkWriteResult,
  type Collection,
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

const COMMAND_NOT_FOUND = 59;
/** Far below the server's 100,000 operations per command; keeps one reply small. */
const MAX_BATCH = 500;
/** Two, not one: a batch that is slow to answer does not hold every other update back. */
const MAX_IN_FLIGHT = 2;

export class WriteBatcher<TSchema extends Document = Document> {
  private queue: Pending<TSchema>[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Unknown until the first batch: whether the server has the `bulkWrite` command. */
  private bulkWriteSupported: boolean | undefined;

  constructor(
    private readonly client: MongoClient,
    private readonly collection: Collection<TSchema>,
  ) {}

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
    const namespace = this.collection.namespace;
    const models: ClientBulkWriteModel<Record<string, TSchema>>[] = batch.map((item) => ({
      name: 'updateOne',
      namespace,
      filter: item.filter,
      update: item.update,
    }));
    let result: ClientBulkWriteResult | undefined;
    let errors = new Map<number, { code: number; message: string }>();
    try {
      result = await this.client.bulkWrite<Record<string, TSchema>>(models, {
        ordered: false,
        verboseResults: true,
      });
      this.bulkWriteSupported = true;
    } catch (error) {
      // A failed command comes wrapped, with the server's error as the cause; failed updates come as writeErrors.
      const bulkError = error instanceof MongoClientBulkWriteError ? error : undefined;
      const cause: unknown = bulkError?.cause ?? error;
      if (cause instanceof MongoServerError && cause.code === COMMAND_NOT_FOUND && !this.bulkWriteSupported) {
        this.bulkWriteSupported = false;
        await Promise.all(batch.map((item) => this.sendAlone(item)));
        return;
      }
      const onlyWriteErrors =
        bulkError?.partialResult &&
        bulkError.cause === undefined &&
        bulkError.writeErrors.size > 0 &&
        bulkError.writeConcernErrors.length === 0;
      if (!onlyWriteErrors || !bulkError.partialResult) {
        for (const item of batch) item.reject(cause);
        return;
      }
      result = bulkError.partialResult;
      errors = bulkError.writeErrors;
    }
    for (const [index, item] of batch.entries()) {
      const failure = errors.get(index);
      if (failure) {
        item.reject(
          new MongoServerError({ message: failure.message, errmsg: failure.message, code: failure.code }),
        );
        continue;
      }
      const outcome = result.updateResults?.get(index);
      item.resolve({ matched: outcome?.matchedCount ?? 0, modified: outcome?.modifiedCount ?? 0 });
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
