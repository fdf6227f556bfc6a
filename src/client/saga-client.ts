// Starting and awaiting sagas from code: `SagaClient.connect(...)`, then `start`, `handle`, `close`.
import { MongoClient } from 'mongodb';
import { ConnectionStates } from '../connections/connection-states.js';
import { mongoClientOptions } from '../connections/mongo-options.js';
import { RedisConnections } from '../connections/redis-connections.js';
import { silentLogger } from '../logging/saga-logger.js';
import { SagaOperations, type DeadLetterPage } from '../engine/saga-operations.js';
import { RetentionPolicy } from '../definition/index.js';
import { SagaQueues } from '../queue/saga-queues.js';
import type { SagaDocument } from '../model/saga-document.js';
import { SagaStore } from '../store/saga-store.js';
import { loadSagaTracing } from '../tracing/load-saga-tracing.js';
import { tracingOptionsSchema } from '../tracing/tracing-options.js';
import { SagaHandle } from './saga-handle.js';
import { sagaClientOptionsSchema, type SagaClientOptions } from './saga-client-options.js';

export interface StartOptions {
  /**
   * The saga's unique key: a second `start` with the same key returns the saga the first one started, as a
   * second insert of the same trigger document would. Default: a new random key, so every call starts a saga.
   */
  readonly key?: string;
}

export interface StartedSaga extends SagaHandle {
  /** False when a saga with this key already existed and was returned instead of starting another. */
  readonly created: boolean;
}

export class SagaClient {
  private constructor(
    private readonly mongo: MongoClient,
    private readonly store: SagaStore,
    private readonly queues: SagaQueues,
    private readonly operations: SagaOperations,
    private readonly redis: RedisConnections,
  ) {}

  /** Connects to MongoDB and Redis (the same ones, database and queue prefix as the workers). */
  static async connect(options: SagaClientOptions): Promise<SagaClient> {
    const { mongodbUrl, redisUrl, database, queuePrefix, sagas, retention } =
      sagaClientOptionsSchema.parse(options);
    const mongo = new MongoClient(mongodbUrl, mongoClientOptions());
    await mongo.connect();
    const db = mongo.db(database);
    const store = new SagaStore(
      db,
      new RetentionPolicy(retention, (saga, version) => sagas.find(saga, version)),
    );
    await store.ensureIndexes();
    // The client logs nothing itself (what it does is logged by the workers that run the sagas), but its Redis
    // connection is watched all the same, so a dead one is replaced.
    const redis = new RedisConnections({
      url: redisUrl,
      states: new ConnectionStates({ logger: silentLogger }),
    });
    const queues = new SagaQueues({ connection: redis.create('producer'), prefix: queuePrefix });
    // Traced like the runtime: a saga started here gets its trace, linked to the caller's active span.
    const tracing = await loadSagaTracing(tracingOptionsSchema.parse({}), silentLogger);
    const operations = new SagaOperations(db, sagas, store, queues, silentLogger, undefined, tracing);
    return new SagaClient(mongo, store, queues, operations, redis);
  }

  /**
   * Starts saga `sagaName` with `input`, validated by its `input` schema first.
   * @throws ValidationError `INPUT_VALIDATION_FAILED` with the issues, storing nothing, for an invalid input;
   * SagastreamError `SAGA_NOT_FOUND` for a name this client's registry does not have.
   */
  async start(sagaName: string, input: unknown, options: StartOptions = {}): Promise<StartedSaga> {
    if (options.key === '') throw new TypeError('start: key must be a non-empty string, or left out');
    const { saga, created } = await this.operations.start(sagaName, input, options.key);
    return Object.assign(this.handle(saga._id), { created });
  }

  /** A handle on an existing saga by its id (from `start`, the admin API or a log line). */
  handle(sagaId: string): SagaHandle {
    return new SagaHandle(sagaId, this.store.collection, this.operations);
  }

  /** The saga of `sagaName` stored under `key`, if any. */
  findByKey(sagaName: string, key: string): Promise<SagaDocument | null> {
    return this.store.findByKey(sagaName, key);
  }

  /**
   * Runs a `failed` saga (a compensation gave up) or a `rejected` one (its input is valid now) again, as an
   * operator's retry in the admin API does, and removes its dead letters.
   * @throws SagastreamError `SAGA_NOT_FOUND`; `INVALID_STATE` for a saga in any other status;
   * `INPUT_VALIDATION_FAILED` for a rejected saga whose input is still invalid.
   */
  retry(sagaId: string): Promise<SagaDocument> {
    return this.operations.retry(sagaId);
  }

  /**
   * One page of the dead-letter queue, oldest first: `{ items, next }`, where `next` is the `after` of the next
   * page, null on the last one.
   */
  async deadLetters(options: { limit?: number; after?: string } = {}): Promise<DeadLetterPage> {
    const { limit = 100, after } = options;
    if (!Number.isInteger(limit) || limit < 1)
      throw new TypeError('deadLetters: limit must be a positive integer');
    return this.operations.deadLetterPage({ limit, ...(after === undefined ? {} : { after }) });
  }

  /** Retries the saga behind a dead letter and removes the entry; returns the saga as it restarts. */
  retryDeadLetter(id: string): Promise<SagaDocument> {
    return this.operations.retryDeadLetter(id);
  }

  /** Drops a dead letter for good; its saga stays as it is. */
  discardDeadLetter(id: string): Promise<void> {
    return this.operations.discardDeadLetter(id);
  }

  async close(): Promise<void> {
    await this.queues.close();
    await Promise.all([this.redis.close(), this.mongo.close()]);
  }
}
