// Crashes and lost state: replayed change events, a killed watcher, a worker killed mid-step, and Redis losing
// every job. MongoDB holds the truth, so each saga still runs once and finishes.
// Lost change-stream history (reconcile scan) is covered in test/integration/trigger/recovery.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../../src/embedded/redis-launcher.js';
import { stepQueueName } from '../../../src/queue/queue-names.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import type { CheckpointDocument } from '../../../src/trigger/checkpoint-store.js';
import type { LeaseDocument } from '../../../src/store/lease.js';
import { connectMongo, mongoUrl, redisClient, redisUrl } from '../helpers.js';
import {
  FAST_SWEEPER,
  effectsOf,
  engineTest,
  order,
  POLL,
  runsOf,
  sagaEndingIn,
  sagaOf,
  sagasCollection,
  watching,
  type EngineTest,
} from './engine-test-kit.js';
import { STEP_NAMES } from './fixtures/recording-saga.js';

let client: MongoClient;
let test: EngineTest | undefined;
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  client = await connectMongo();
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await test?.stop();
  test = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await client.close();
});

const FIXTURE = fileURLToPath(new URL('./fixtures/engine-process.ts', import.meta.url));
/**
 * The step timeout of the recording saga in the spawned processes and in the test's own runtime alike: one saga
 * version has one shape, and a process that loads a different one refuses to start.
 */
const STEP_TIMEOUT_MS = 30_000;

interface EngineProcess {
  holder: string;
  child: ChildProcess;
  state: string;
}

function startEngineProcess(test: EngineTest, holder: string, roles: string): EngineProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: {
      ...process.env,
      MONGODB_URL: mongoUrl(),
      REDIS_URL: redisUrl(),
      TEST_DB: test.dbName,
      QUEUE_PREFIX: test.queuePrefix,
      HOLDER_ID: holder,
      ROLES: roles,
      STEP_TIMEOUT_MS: String(STEP_TIMEOUT_MS),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const engine: EngineProcess = { holder, child, state: 'starting' };
  createInterface({ input: child.stdout }).on('line', (line) => {
    engine.state = (JSON.parse(line) as { state: string }).state;
  });
  return engine;
}

/** Every order has exactly one saga, completed, whose three steps each took effect exactly once. */
async function expectCompletedOnce(orderIds: string[]): Promise<SagaDocument[]> {
  let sagas: SagaDocument[] = [];
  await expect
    .poll(
      async () => (sagas = await sagasCollection(test!.db).find({}).toArray()).map((saga) => saga.status),
      {
        ...POLL,
        timeout: 60_000,
        message: `${orderIds.length} completed sagas`,
      },
    )
    .toEqual(orderIds.map(() => 'completed'));
  expect(sagas.map((saga) => saga.key).sort()).toEqual([...orderIds].sort());
  for (const saga of sagas) {
    const effects = await effectsOf(test!.db, saga._id);
    expect(effects.map((effect) => [effect.step, effect.applied])).toEqual(
      STEP_NAMES.map((step) => [step, 1]),
    );
  }
  return sagas;
}

describe('crash recovery', () => {
  it('events replayed from an older resume token still make one saga each', async () => {
    test = engineTest(client, 'replay');
    const first = await test.start();
    const checkpoints = test.db.collection<CheckpointDocument>('checkpoints');
    const older = (await checkpoints.findOne({}))!;
    const batch = Array.from({ length: 5 }, () => order());
    await test.orders.insertMany(batch);
    await expectCompletedOnce(batch.map((doc) => doc._id));
    await first.stop();
    test.runtimes.splice(0);

    // Back to the token saved before those inserts: the next watcher sees their events again.
    const { _id: checkpointId, ...olderFields } = older;
    await checkpoints.replaceOne({ _id: checkpointId }, olderFields);
    const second = await test.start();
    const later = [order(), order()];
    await test.orders.insertMany(later);
    await expectCompletedOnce([...batch, ...later].map((doc) => doc._id));
    await expect
      .poll(() => second.trigger!.status().watchers[0]!.duplicates, {
        ...POLL,
        message: 'the replayed events to be counted as duplicates',
      })
      .toBeGreaterThanOrEqual(batch.length);
    expect(second.trigger!.status().watchers[0]!.started).toBe(later.length);
  });

  it('two watcher processes: one active, the other takes over when the holder is SIGKILLed', async () => {
    test = engineTest(client, 'watchers', { stepTimeoutMs: STEP_TIMEOUT_MS });
    // Steps run in this process; the watcher processes only start sagas (and sweep).
    await test.start({ roles: ['worker'] });
    const watchers = [
      startEngineProcess(test, 'watcher-a', 'watcher'),
      startEngineProcess(test, 'watcher-b', 'watcher'),
    ];
    const states = () => watchers.map((watcher) => watcher.state).sort();
    await expect
      .poll(states, { ...POLL, message: 'one active and one standby' })
      .toEqual(['active', 'standby']);
    await watching(test.db);
    const active = watchers.find((watcher) => watcher.state === 'active')!;
    const standby = watchers.find((watcher) => watcher !== active)!;
    const leases = test.db.collection<LeaseDocument>('leases');
    expect((await leases.findOne({ _id: 'trigger:order' }))?.holder).toBe(active.holder);

    const before = Array.from({ length: 4 }, () => order());
    await test.orders.insertMany(before);
    await expectCompletedOnce(before.map((doc) => doc._id));

    active.child.kill('SIGKILL');
    // Written while nobody watches: the new holder resumes from the killed one's checkpoint.
    const during = Array.from({ length: 4 }, () => order());
    await test.orders.insertMany(during);
    await expect.poll(() => standby.state, { ...POLL, message: 'the standby to take over' }).toBe('active');
    const after = Array.from({ length: 2 }, () => order());
    await test.orders.insertMany(after);
    await expectCompletedOnce([...before, ...during, ...after].map((doc) => doc._id));
    expect((await leases.findOne({ _id: 'trigger:order' }))?.holder).toBe(standby.holder);
  }, 90_000);

  it('a worker SIGKILLed mid-step: the step runs again elsewhere and the saga completes', async () => {
    test = engineTest(client, 'worker-kill', { stepTimeoutMs: STEP_TIMEOUT_MS });
    await test.start({ roles: ['watcher'] });
    const doomed = startEngineProcess(test, 'worker-doomed', 'worker');
    await expect.poll(() => doomed.state, { ...POLL, message: 'the worker process to start' }).toBe('worker');
    // charge stalls on its first run (in the doomed process) long past the test.
    const doc = order({ charge: { stall: 1, hangMs: 120_000 } });
    await test.orders.insertOne(doc);
    const saga = await sagaOf(test.db, doc._id);
    await expect
      .poll(() => runsOf(test!.db, saga._id, 'charge'), {
        ...POLL,
        message: 'charge to start in the worker process',
      })
      .toHaveLength(1);
    doomed.child.kill('SIGKILL');

    // A worker here finds the job stalled once the dead process's lock expired, and runs it again.
    await test.start({ roles: ['worker'] });
    const done = await sagaEndingIn(test.db, doc._id, ['completed', 'compensated', 'failed'], 60_000);
    expect(done.status).toBe('completed');
    const runs = await runsOf(test.db, saga._id, 'charge');
    expect(runs.map((run) => [run.pid === doomed.child.pid, run.attempt])).toEqual([
      [true, 1],
      [false, 1],
    ]);
    expect((await effectsOf(test.db, saga._id)).map((effect) => [effect.step, effect.applied])).toEqual([
      ['reserve', 1],
      ['charge', 1],
      ['ship', 1],
    ]);
  }, 90_000);

  /**
   * Stands in for a worker that hits infrastructure errors on every attempt: each job it takes fails for good
   * in BullMQ. Closed by the test (to let real workers in) or at cleanup.
   */
  function startBreakingWorker(prefix: string): { close(): Promise<void> } {
    const connection = redisClient(redisUrl(), { maxRetriesPerRequest: null });
    const breaker = new Worker(
      stepQueueName('order'),
      () => Promise.reject(new UnrecoverableError('MongoDB unreachable')),
      { connection, prefix },
    );
    cleanups.push(async () => {
      await breaker.close();
      await connection.quit();
    });
    return breaker;
  }

  it('a step job BullMQ gave up on is retried by the recovery sweeper', async () => {
    test = engineTest(client, 'failed-job');
    const watcher = await test.start({ roles: ['watcher'] });
    const breaker = startBreakingWorker(watcher.queues.keyPrefix(stepQueueName('order')));
    const doc = order();
    await test.orders.insertOne(doc);
    await expect
      .poll(() => watcher.queues.stepQueue('order').getJobCounts('failed'), {
        ...POLL,
        message: 'the job to fail for good',
      })
      .toMatchObject({ failed: 1 });
    await breaker.close();

    await test.start({ roles: ['worker'] });
    const saga = await sagaEndingIn(test.db, doc._id, ['completed', 'compensated', 'failed']);
    expect(saga.status).toBe('completed');
    expect((await effectsOf(test.db, saga._id)).map((effect) => effect.applied)).toEqual([1, 1, 1]);
  });

  it('a job that keeps failing in BullMQ becomes a stuck dead letter; releasing it lets the saga finish', async () => {
    test = engineTest(client, 'stuck-job');
    const watcher = await test.start({ roles: ['watcher'], sweeper: { ...FAST_SWEEPER, stuckAfter: 2 } });
    const breaker = startBreakingWorker(watcher.queues.keyPrefix(stepQueueName('order')));
    const doc = order();
    await test.orders.insertOne(doc);
    await expect
      .poll(async () => (await watcher.operations.listDeadLetters()).map((entry) => entry.kind), {
        ...POLL,
        message: 'a stuck dead letter',
      })
      .toContain('stuck');
    const letter = (await watcher.operations.listDeadLetters()).find((entry) => entry.kind === 'stuck')!;
    const saga = await sagasCollection(test.db).findOne({ _id: letter.sagaId });
    expect(saga?.status).toBe('running');
    expect(saga?.stuck?.deadLetteredAt).toBeInstanceOf(Date);
    await breaker.close();

    await test.start({ roles: ['worker'] });
    await watcher.operations.retryDeadLetter(letter.id);
    const finished = await sagaEndingIn(test.db, doc._id, ['completed', 'compensated', 'failed']);
    expect(finished.status).toBe('completed');
    expect(finished.stuck).toBeUndefined();
    expect(await watcher.operations.listDeadLetters()).toEqual([]);
  });

  it('Redis FLUSHALL mid-run: the recovery sweeper re-queues what was lost and every saga finishes', async () => {
    // Its own Redis: FLUSHALL on the shared one would wipe the queues of tests running in parallel.
    const redisServer: RedisServer = await startRedisServer({});
    cleanups.push(() => redisServer.stop());
    test = engineTest(client, 'flushall', {}, redisServer.url);
    await test.start();
    const slow = { sleepMs: 300 };
    const completing = Array.from({ length: 8 }, () => order({ reserve: slow, charge: slow, ship: slow }));
    const compensating = Array.from({ length: 2 }, () =>
      order({ reserve: slow, charge: { failAlways: true } }),
    );
    await test.orders.insertMany([...completing, ...compensating]);
    // Some progress, but not done: then Redis loses every job, timer and lock.
    await expect
      .poll(() => sagasCollection(test!.db).countDocuments({ 'steps.0.status': 'completed' }), {
        ...POLL,
        message: 'sagas under way',
      })
      .toBeGreaterThanOrEqual(3);
    const redis = new Redis(redisServer.url);
    cleanups.push(async () => void (await redis.quit()));
    await redis.flushall();
    const finishedAtFlush = await sagasCollection(test.db).countDocuments({
      status: { $in: ['completed', 'compensated'] },
    });
    expect(finishedAtFlush).toBeLessThan(completing.length + compensating.length);

    for (const doc of compensating) {
      const saga = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed'], 60_000);
      expect(saga.status).toBe('compensated');
    }
    let sagas: SagaDocument[] = [];
    await expect
      .poll(async () => (sagas = await sagasCollection(test!.db).find({ status: 'completed' }).toArray()), {
        ...POLL,
        timeout: 60_000,
        message: 'every saga to complete',
      })
      .toHaveLength(completing.length);
    for (const saga of sagas) {
      // At least once: a step whose job was lost while it ran may have run twice, under one idempotency key.
      const effects = await effectsOf(test.db, saga._id);
      expect(effects.map((effect) => effect.step)).toEqual([...STEP_NAMES]);
    }
  }, 90_000);
});
