// Shared by the engine integration tests: a SagaRuntime (in process) on its own database and queue prefix,
// running the recording saga with fast settings, and helpers that poll for outcomes (never for a fixed time).
import type { Collection, Db, MongoClient } from 'mongodb';
import { pino, type Logger } from 'pino';
import { expect, vi } from 'vitest';
import { SagaClient } from '../../../src/client/index.js';
import { SagaRegistry, type SagaDefinition } from '../../../src/definition/index.js';
import { SagaRuntime, type SagaRuntimeOptions } from '../../../src/runtime/saga-runtime.js';
import type { SagaDocument, SagaStatus } from '../../../src/model/saga-document.js';
import type { CheckpointDocument } from '../../../src/trigger/checkpoint-store.js';
import { mongoUrl, redisUrl, uniqueName } from '../helpers.js';
import {
  recordingSaga,
  type EffectRecord,
  type OrderInput,
  type RecordingSagaOptions,
  type RunRecord,
  type StepBehaviour,
  type StepName,
} from './fixtures/recording-saga.js';

/** Production defaults are tens of seconds; these keep a test to a few seconds. */
export const FAST_WATCHER = {
  leaseTtl: 2_000,
  standbyPollInterval: 200,
  maxAwaitTime: 200,
  retryDelay: 100,
  maxRetryDelay: 1_000,
} as const;
export const FAST_SWEEPER = { interval: 500, leaseTtl: 2_000, idleBeforeRestore: 1_000 } as const;
export const FAST_WORKER = {
  concurrency: 5,
  shutdownGrace: 2_000,
  lockDuration: 2_000,
  stalledInterval: 1_000,
} as const;

export function testLogger(name: string): Logger {
  return pino({ name, level: process.env.SAGASTREAM_TEST_LOG_LEVEL ?? 'silent' });
}

export interface EngineTest {
  db: Db;
  dbName: string;
  queuePrefix: string;
  saga: SagaDefinition<OrderInput>;
  orders: Collection<OrderDocument>;
  runtimes: SagaRuntime[];
  /** Starts a runtime on this test's database and queues (both roles unless told otherwise). */
  start(overrides?: Partial<SagaRuntimeOptions>): Promise<SagaRuntime>;
  /** A SagaClient for `registry` on this test's database and queues; stop() closes it. */
  client(registry: SagaRegistry): Promise<SagaClient>;
  stop(): Promise<void>;
}

export interface OrderDocument {
  _id: string;
  status: string;
  customer?: string;
  behaviour?: Partial<Record<StepName, StepBehaviour>>;
}

export function engineTest(
  client: MongoClient,
  name: string,
  sagaOptions: RecordingSagaOptions = {},
  redis = redisUrl(),
): EngineTest {
  const dbName = uniqueName(name);
  const db = client.db(dbName);
  const queuePrefix = uniqueName(`${name}-q`);
  const saga = recordingSaga(db, sagaOptions);
  const runtimes: SagaRuntime[] = [];
  const clients: SagaClient[] = [];
  return {
    db,
    dbName,
    queuePrefix,
    saga,
    orders: db.collection<OrderDocument>('orders'),
    runtimes,
    async start(overrides = {}) {
      const runtime = await SagaRuntime.start({
        mongodbUrl: mongoUrl(),
        database: dbName,
        redisUrl: redis,
        queuePrefix,
        registry: new SagaRegistry([saga]),
        logger: testLogger(name),
        roles: ['watcher', 'worker'],
        watcher: FAST_WATCHER,
        worker: FAST_WORKER,
        sweeper: FAST_SWEEPER,
        ...overrides,
      });
      runtimes.push(runtime);
      if (runtime.trigger) await watching(db);
      return runtime;
    },
    async client(registry) {
      const client = await SagaClient.connect({
        mongodbUrl: mongoUrl(),
        redisUrl: redis,
        database: dbName,
        queuePrefix,
        sagas: registry,
      });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients.splice(0)) await client.close();
      for (const runtime of runtimes.splice(0).reverse()) await runtime.stop();
    },
  };
}

/** Engine tests run whole sagas: they wait longer than the 20 s default. */
export const POLL = { timeout: 30_000, interval: 100 };

/**
 * Waits until the trigger's change stream is open (its first checkpoint is saved). `start()` runs it in
 * beforeAll hooks too, where expect.poll is not allowed: vi.waitFor retries until the assertion passes.
 */
export async function watching(db: Db): Promise<void> {
  await vi.waitFor(async () => {
    const checkpoints = await db.collection<CheckpointDocument>('checkpoints').countDocuments();
    expect(checkpoints, 'the trigger stream to open').toBeGreaterThanOrEqual(1);
  }, POLL);
}

let orderNumber = 0;

/** An order the saga starts for; `behaviour` says how its steps behave. */
export function order(
  behaviour: OrderDocument['behaviour'] = {},
  overrides: Partial<OrderDocument> = {},
): OrderDocument {
  orderNumber += 1;
  return {
    _id: `order-${orderNumber}-${Math.random().toString(36).slice(2, 8)}`,
    status: 'new',
    customer: 'c1',
    behaviour,
    ...overrides,
  };
}

/** A matching order the saga's input schema refuses (no `customer`). */
export function invalidOrder(): OrderDocument {
  const doc = order();
  delete doc.customer;
  return doc;
}

export function sagasCollection(db: Db): Collection<SagaDocument> {
  return db.collection<SagaDocument>('sagas');
}

/** The saga started for an order (its key is the order's `_id`), once it exists. */
export async function sagaOf(db: Db, orderId: string, timeoutMs = POLL.timeout): Promise<SagaDocument> {
  let saga = null as SagaDocument | null;
  await expect
    .poll(async () => (saga = await sagasCollection(db).findOne({ key: orderId })), {
      ...POLL,
      timeout: timeoutMs,
      message: `the saga of ${orderId}`,
    })
    .not.toBeNull();
  return saga!;
}

/** The saga of an order once it reached one of `statuses`. */
export async function sagaEndingIn(
  db: Db,
  orderId: string,
  statuses: SagaStatus[],
  timeoutMs = POLL.timeout,
): Promise<SagaDocument> {
  let saga = null as SagaDocument | null;
  await expect
    .poll(async () => (saga = await sagasCollection(db).findOne({ key: orderId }))?.status, {
      ...POLL,
      timeout: timeoutMs,
      message: `the saga of ${orderId} to be ${statuses.join(' or ')}`,
    })
    .toBeOneOf(statuses);
  return saga!;
}

/** Effects of a saga in the order they were first applied, as `step` or `undo-step`. */
export async function effectTimeline(db: Db, sagaId: string): Promise<string[]> {
  const effects = await db.collection<EffectRecord>('effects').find({ sagaId }).sort({ seq: 1 }).toArray();
  return effects.map((effect) => (effect.phase === 'forward' ? effect.step : `undo-${effect.step}`));
}

export function effectsOf(db: Db, sagaId: string): Promise<EffectRecord[]> {
  return db.collection<EffectRecord>('effects').find({ sagaId }).sort({ seq: 1 }).toArray();
}

export function runsOf(db: Db, sagaId: string, step?: StepName, phase?: RunRecord['phase']) {
  return db
    .collection<RunRecord>('runs')
    .find({ sagaId, ...(step ? { step } : {}), ...(phase ? { phase } : {}) })
    .sort({ seq: 1 })
    .toArray();
}
