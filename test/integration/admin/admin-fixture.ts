// Shared by the admin tests: a SagaRuntime (watcher + worker) on the harness's MongoDB and Redis with a test
// saga, and an admin server on a free port. Step behaviour is steered per order document (`mode`) and by
// `behaviour.compensationBroken`, which makes compensations fail (→ `failed` + dead letter).
import { Writable } from 'node:stream';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Collection, Db, MongoClient } from 'mongodb';
import { expect, vi } from 'vitest';
import { z } from 'zod';
import { startAdminServer, type AdminServer } from '../../../src/admin/index.js';
import { SagaRegistry, defineSaga } from '../../../src/definition/index.js';
import { SagaRuntime } from '../../../src/runtime/saga-runtime.js';
import { TerminalError } from '../../../src/errors/index.js';
import { createLogger, type LogLevel } from '../../../src/logging/logger.js';
import { stepQueueName } from '../../../src/queue/queue-names.js';
import type { SagaDocument, SagaStatus } from '../../../src/model/saga-document.js';
import { stepStatusView, type StepStatusView } from '../../../src/admin/saga-views.js';
import { scheduledJobView } from '../../../src/admin/scheduled-job-view.js';
import { connectMongo, mongoUrl, redisClient, redisUrl, uniqueName } from '../helpers.js';

export const TEST_TOKEN = 'test-admin-token-0123456789';

/** Mutable per fixture: flipped by tests to make a redrive succeed. */
export interface Behaviour {
  compensationBroken: boolean;
}

export interface OrderDocument {
  _id: string;
  status: 'new';
  /**
   * ok: completes; fail: the charge step fails for good; error: every attempt of the charge step fails with a
   * retryable error (three attempts, then compensation); hold: the charge step waits until aborted.
   */
  mode: 'ok' | 'fail' | 'error' | 'hold';
}

export interface AdminFixtureOptions {
  token?: string;
  /** False: no worker in the fixture's runtime (see `startWorker`). */
  worker?: boolean;
  sweeper?: { interval?: number; leaseTtl?: number; stuckAfter?: number };
  /** Where the runtime connects to MongoDB (default: the harness's server), e.g. a recording proxy in front of it. */
  mongodbUrl?: string;
}

export interface AdminFixture {
  url: string;
  admin: AdminServer;
  runtime: SagaRuntime;
  registry: SagaRegistry;
  client: MongoClient;
  db: Db;
  orders: Collection<OrderDocument>;
  behaviour: Behaviour;
  /** Inserts an order and resolves with its saga once one exists. */
  startOrder(mode: OrderDocument['mode'], id?: string): Promise<SagaDocument>;
  waitForStatus(sagaId: string, status: SagaStatus): Promise<SagaDocument>;
  /**
   * Resolves once the named step of the saga shows this status, as the admin API shows it (e.g. `charge` running,
   * before a cancel: nothing is stored when a step begins, its BullMQ job says).
   */
  waitForStep(sagaId: string, step: string, status: StepStatusView): Promise<SagaDocument>;
  /** A worker runtime of its own on the fixture's database and queues (stopped by `close`). */
  startWorker(): Promise<void>;
  /**
   * A BullMQ worker on the step queue that fails every job as BullMQ failures (not step failures): what the
   * recovery sweeper reports as a `stuck` dead letter after `stuckAfter` retries.
   */
  startBreakingWorker(): { close(): Promise<void> };
  close(): Promise<void>;
}

let orderSequence = 0;

export function ordersSaga(behaviour: Behaviour) {
  return defineSaga({
    name: 'orders',
    trigger: { collection: 'orders', filter: { status: 'new' } },
    input: z.object({
      _id: z.string(),
      status: z.literal('new'),
      mode: z.enum(['ok', 'fail', 'error', 'hold']),
    }),
    timeout: '60s',
    compensation: { timeout: '5s', retry: { attempts: 1, backoff: { type: 'fixed', delay: 10 } } },
  })
    .step({
      name: 'reserve',
      run: () => Promise.resolve({ reserved: true }),
      compensate: () => {
        if (behaviour.compensationBroken) throw new Error('warehouse unreachable');
        return Promise.resolve();
      },
    })
    .step({
      name: 'charge',
      timeout: '30s',
      retry: { attempts: 3, backoff: { type: 'fixed', delay: 10 } },
      run: async (ctx) => {
        if (ctx.input.mode === 'fail') throw new TerminalError('card declined');
        if (ctx.input.mode === 'error') throw new Error('card network unreachable');
        if (ctx.input.mode === 'hold') {
          await new Promise<void>((resolve) => {
            if (ctx.signal.aborted) resolve();
            ctx.signal.addEventListener('abort', () => resolve(), { once: true });
          });
          throw new Error('charge aborted');
        }
        return { charged: 42 };
      },
    })
    .build();
}

/** Started from code only: reserve, then the parallel group `prepare` (pack ∥ label), then ship. */
export function kitsSaga() {
  const ok = () => Promise.resolve({ ok: true });
  return defineSaga({ name: 'kits', input: z.object({ kit: z.string() }) })
    .step({ name: 'reserve', run: ok })
    .parallel('prepare', (p) => p.step({ name: 'pack', run: ok }).step({ name: 'label', run: ok }))
    .step({ name: 'ship', run: ok })
    .build();
}

// The fixture starts in beforeAll hooks too, where expect.poll is not allowed: it waits with vi.waitFor, which
// retries its callback until the assertions in it pass (tests themselves use expect.poll).
const WAIT = { timeout: 20_000, interval: 50 };

function quietLogger(name: string) {
  const level = (process.env.SAGASTREAM_TEST_LOG_LEVEL ?? 'warn') as LogLevel;
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  return createLogger({ level, name, destination: level === 'warn' ? sink : 2, pretty: false });
}

export async function startAdminFixture(options: AdminFixtureOptions = {}): Promise<AdminFixture> {
  const behaviour: Behaviour = { compensationBroken: false };
  const registry = new SagaRegistry([ordersSaga(behaviour), kitsSaga()]);
  const database = uniqueName('admin');
  const queuePrefix = uniqueName('admin-q');
  const logger = quietLogger(database);
  const worker = { concurrency: 5, shutdownGrace: 1_000 };
  const runtimeMongoUrl = options.mongodbUrl ?? mongoUrl();
  const runtime = await SagaRuntime.start({
    mongodbUrl: runtimeMongoUrl,
    database,
    redisUrl: redisUrl(),
    queuePrefix,
    registry,
    logger,
    roles: options.worker === false ? ['watcher'] : ['watcher', 'worker'],
    watcher: { leaseTtl: 2_000, standbyPollInterval: 100, maxAwaitTime: 100, backfill: true },
    worker,
    sweeper: { interval: 60_000, ...options.sweeper },
  });
  const cleanups: (() => Promise<unknown>)[] = [];
  const admin = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    ...(options.token === undefined ? {} : { token: options.token }),
    backend: runtime,
    registry,
    logger,
  });
  const client = await connectMongo();
  const db = client.db(database);
  const orders = db.collection<OrderDocument>('orders');
  const sagas = db.collection<SagaDocument>('sagas');
  await vi.waitFor(() => {
    const states = runtime.trigger?.status().watchers.map((watcher) => watcher.state);
    expect(states, 'an active watcher').toEqual(['active']);
  }, WAIT);

  return {
    url: admin.url,
    admin,
    runtime,
    registry,
    client,
    db,
    orders,
    behaviour,
    async startOrder(mode, id = `order-${process.pid}-${++orderSequence}`) {
      await orders.insertOne({ _id: id, status: 'new', mode });
      return vi.waitFor(async () => {
        const saga = await sagas.findOne({ key: id });
        expect(saga, `a saga for ${id}`).not.toBeNull();
        return saga!;
      }, WAIT);
    },
    async waitForStatus(sagaId, status) {
      return vi.waitFor(async () => {
        const saga = await sagas.findOne({ _id: sagaId });
        expect(saga?.status, `saga ${sagaId} to be ${status}`).toBe(status);
        return saga!;
      }, WAIT);
    },
    async waitForStep(sagaId, step, status) {
      return vi.waitFor(async () => {
        const saga = await sagas.findOne({ _id: sagaId });
        const index = saga?.steps.findIndex((candidate) => candidate.name === step) ?? -1;
        const job = saga && index === saga.stepIndex ? await scheduledJobView(runtime.queues, saga) : null;
        const shown = saga && index >= 0 ? stepStatusView(saga, saga.steps[index]!, job) : undefined;
        expect(shown, `step ${step} of saga ${sagaId} to be ${status}`).toBe(status);
        return saga!;
      }, WAIT);
    },
    async startWorker() {
      const workerRuntime = await SagaRuntime.start({
        mongodbUrl: runtimeMongoUrl,
        database,
        redisUrl: redisUrl(),
        queuePrefix,
        registry,
        logger,
        roles: ['worker'],
        worker,
      });
      cleanups.push(() => workerRuntime.stop());
    },
    startBreakingWorker() {
      const connection = redisClient(redisUrl(), { maxRetriesPerRequest: null });
      const breaker = new Worker(
        stepQueueName('orders'),
        () => Promise.reject(new UnrecoverableError('MongoDB unreachable')),
        { connection, prefix: runtime.queues.keyPrefix(stepQueueName('orders')) },
      );
      let closing: Promise<void> | undefined;
      const close = () =>
        (closing ??= (async () => {
          await breaker.close();
          await connection.quit();
        })());
      cleanups.push(close);
      return { close };
    },
    async close() {
      for (const cleanup of cleanups.reverse()) await cleanup();
      await admin.close();
      await runtime.stop();
      await client.close();
    },
  };
}
