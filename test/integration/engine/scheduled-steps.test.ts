// One write per step: nothing is written when a step begins, so a cancel learns from the step's BullMQ job whether
// it may have acted. These tests hold the worker at the points where that matters (a fail point between the
// write that schedules a step and its job's add, a paused queue) and check that compensation still undoes exactly
// what may have happened, and that a step of a saga that stopped running never starts.
import { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../../src/embedded/redis-launcher.js';
import { scheduledJobView } from '../../../src/admin/scheduled-job-view.js';
import { stopStepJob } from '../../../src/engine/step-job-stop.js';
import { SagaRegistry } from '../../../src/definition/index.js';
import { RecoverySweeper } from '../../../src/engine/recovery-sweeper.js';
import { carrierOf } from '../../../src/queue/attempt-gate.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import type { StepJobRef } from '../../../src/model/step-job-ref.js';
import { stepJobId } from '../../../src/queue/queue-names.js';
import type { SagaRuntime } from '../../../src/runtime/saga-runtime.js';
import { connectMongo } from '../helpers.js';
import {
  effectsOf,
  effectTimeline,
  engineTest,
  FAST_SWEEPER,
  FAST_WORKER,
  order,
  POLL,
  runsOf,
  sagaEndingIn,
  sagaOf,
  sagasCollection,
  testLogger,
  type EngineTest,
} from './engine-test-kit.js';

let client: MongoClient;
let test: EngineTest | undefined;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  client = await connectMongo();
});

afterEach(async () => {
  await test?.stop();
  test = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await client.close();
});

/** Every step queued as its own job, so a test can hold one in the queue (the default runs a chain in one job). */
const QUEUED_STEPS = { worker: { ...FAST_WORKER, stepsPerJob: 1 } };
/** Both ways a next step runs: queued as its own job, or carried on in the job of the step before. */
const STEP_MODES = [
  ['queued', QUEUED_STEPS],
  ['carried', { worker: { ...FAST_WORKER, stepsPerJob: 32 } }],
] as const;

function chargeRef(saga: SagaDocument, attempt = 1): StepJobRef {
  return {
    sagaId: saga._id,
    saga: saga.saga,
    phase: 'forward',
    step: 1,
    stepName: 'charge',
    attempt,
    generation: saga.generation,
  };
}

function stepQueue(runtime: SagaRuntime, test: EngineTest) {
  return runtime.queues.stepQueue(test.saga.name);
}

/** A promise and its resolver: a test holds a hook on it until it releases it. */
function gate<T = void>(): { wait: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const wait = new Promise<T>((resolve) => (open = resolve));
  return { wait, open };
}

/**
 * Holds every saga's worker between the write that scheduled charge and the add of its job (the fail point)
 * until `release()` (or the test's cleanup); `atFailPoint` resolves with charge's ref once a worker is there.
 */
function holdChargeAfterItsWrite(runtime: SagaRuntime): {
  atFailPoint: Promise<StepJobRef>;
  release: () => void;
} {
  const reached = gate<StepJobRef>();
  const released = gate();
  runtime.worker!.processor.hooks.afterScheduleWrite = async (next) => {
    if (next.stepName !== 'charge') return;
    reached.open(next);
    await released.wait;
  };
  cleanups.push(() => Promise.resolve(released.open()));
  return { atFailPoint: reached.wait, release: () => released.open() };
}

describe('a cancel while the next step is scheduled', () => {
  it('removes the job of a step still waiting in the queue: that step never runs and is not compensated', async () => {
    test = engineTest(client, 'queued-cancel');
    const runtime = await test.start(QUEUED_STEPS);
    const queue = stepQueue(runtime, test);
    // Once reserve's result write scheduled charge, no worker takes jobs any more: charge's job waits.
    runtime.worker!.processor.hooks.afterScheduleWrite = async (next) => {
      if (next.stepName === 'charge') await queue.pause();
    };
    const doc = order();
    await test.orders.insertOne(doc);
    const scheduled = await sagaOf(test.db, doc._id);
    const chargeJobId = stepJobId(chargeRef(scheduled));
    await expect
      .poll(async () => (await queue.getJob(chargeJobId))?.getState(), { ...POLL, message: 'charge queued' })
      .toBeOneOf(['waiting', 'paused']);
    expect((await sagasCollection(test.db).findOne({ _id: scheduled._id }))!.steps[1]).toMatchObject({
      status: 'scheduled',
      attempts: 1,
    });

    await runtime.operations.cancel(scheduled._id);
    await queue.resume();
    const saga = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed']);

    expect(saga.status).toBe('compensated');
    expect(saga.compensation?.plan).toEqual([0]);
    expect(saga.steps[1]).toMatchObject({ name: 'charge', status: 'pending', attempts: 0 });
    expect(saga.steps[1]!.compensation).toBeUndefined();
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'undo-reserve']);
    expect(await runsOf(test.db, saga._id, 'charge')).toEqual([]);
    // The job is gone and the gate is stopped, so a job queued again (a sweeper, a stale re-run of reserve on a
    // loaded machine) never runs charge: taken by a worker, it completes without running the step.
    await expect
      .poll(async () => (await queue.getJob(chargeJobId))?.getState() ?? 'gone', POLL)
      .toBeOneOf(['gone', 'completed']);
    expect(await runsOf(test.db, saga._id, 'charge')).toEqual([]);
    expect(await runtime.queues.attemptMark(chargeRef(scheduled))).toBe('stopped:cancelled:not-started');
  });

  it('hits the window between the write that scheduled a step and its job: the late job never runs the step', async () => {
    test = engineTest(client, 'window-cancel', { stepTimeoutMs: 1_000 });
    const runtime = await test.start(QUEUED_STEPS);
    const queue = stepQueue(runtime, test);
    const { atFailPoint, release } = holdChargeAfterItsWrite(runtime);
    const doc = order();
    await test.orders.insertOne(doc);
    const next = await atFailPoint;
    // Written, not yet added: MongoDB says charge is scheduled, BullMQ has no job for it.
    const written = (await sagasCollection(test.db).findOne({ _id: next.sagaId }))!;
    expect(written.steps[1]).toMatchObject({ status: 'scheduled', attempts: 1 });
    expect(await queue.getJob(stepJobId(next))).toBeUndefined();

    await runtime.operations.cancel(next.sagaId);
    release();
    // The worker that held the fail point goes on and adds charge's job; a worker takes it, checks it against the
    // copy it kept (still running, charge scheduled) and finds the gate stopped: charge does not run.
    await expect
      .poll(async () => (await queue.getJob(stepJobId(next)))?.finishedOn, {
        ...POLL,
        message: "charge's late job done",
      })
      .toBeDefined();
    expect(await runtime.queues.attemptMark(next)).toBe('stopped:cancelled:may-have-acted');
    const saga = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed']);

    expect(saga.status).toBe('compensated');
    expect(await runsOf(test.db, saga._id, 'charge', 'forward')).toEqual([]);
    // A missing job may have been lost by Redis while running: compensating it is safe, forgetting it is not.
    expect(saga.compensation?.plan).toEqual([1, 0]);
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'undo-charge', 'undo-reserve']);
  });

  it.each(STEP_MODES)(
    'waits for a step that is running when the cancel comes, and compensates it after it ended (%s)',
    async (_mode, overrides) => {
      test = engineTest(client, 'running-cancel', { stepTimeoutMs: 10_000 });
      const runtime = await test.start(overrides);
      // charge ignores its signal: it takes effect after the cancel.
      const doc = order({ charge: { sleepMs: 1_000 } });
      await test.orders.insertOne(doc);
      const running = await sagaOf(test.db, doc._id);
      await expect
        .poll(() => runsOf(test!.db, running._id, 'charge'), { ...POLL, message: 'charge to be running' })
        .toHaveLength(1);
      const cancelled = await runtime.operations.cancel(running._id);
      // Nothing was written when charge began; its active job told the cancel that it may act.
      expect(cancelled.steps[1]).toMatchObject({ status: 'running', attempts: 1 });
      expect(cancelled.compensation?.plan).toEqual([1, 0]);
      const saga = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed']);

      expect(saga.status).toBe('compensated');
      expect(saga.steps[1]).toMatchObject({ status: 'completed', late: true });
      expect(await effectTimeline(test.db, saga._id)).toEqual([
        'reserve',
        'charge',
        'undo-charge',
        'undo-reserve',
      ]);
    },
  );

  it.each(STEP_MODES)(
    'compensates a running step that outlives its timeout only once that timeout passed (%s)',
    async (_mode, overrides) => {
      test = engineTest(client, 'silent-cancel', { stepTimeoutMs: 500, stepAttempts: 1 });
      const runtime = await test.start(overrides);
      // charge takes effect, then outlives its timeout and ignores its signal.
      const doc = order({ charge: { hang: 1, hangMs: 5_000 } });
      await test.orders.insertOne(doc);
      const running = await sagaOf(test.db, doc._id);
      await expect
        .poll(async () => (await effectsOf(test!.db, running._id)).map((effect) => effect.step), {
          ...POLL,
          message: 'charge to have acted',
        })
        .toEqual(['reserve', 'charge']);
      const cancelled = await runtime.operations.cancel(running._id);
      const since = cancelled.steps[1]!.attemptStartedAt!;
      const saga = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed']);

      expect(saga.status).toBe('compensated');
      expect(saga.steps[1]).toMatchObject({ status: 'timed-out', mayHaveEffect: true, late: true });
      expect(await effectTimeline(test.db, saga._id)).toEqual([
        'reserve',
        'charge',
        'undo-charge',
        'undo-reserve',
      ]);
      const [undo] = await runsOf(test.db, saga._id, 'charge', 'compensate');
      expect(undo!.at.getTime()).toBeGreaterThanOrEqual(since.getTime() + 500);
    },
  );
});

describe("the attempt's gate decides between a cancel and a worker", () => {
  it('a worker that takes the job after the cancel set the gate does not run the step, whatever the job shows', async () => {
    test = engineTest(client, 'gate-stop-first');
    const runtime = await test.start(QUEUED_STEPS);
    const queue = stepQueue(runtime, test);
    runtime.worker!.processor.hooks.afterScheduleWrite = async (next) => {
      if (next.stepName === 'charge') await queue.pause();
    };
    const doc = order();
    await test.orders.insertOne(doc);
    const scheduled = await sagaOf(test.db, doc._id);
    const chargeJobId = stepJobId(chargeRef(scheduled));
    await expect
      .poll(async () => (await queue.getJob(chargeJobId))?.getState(), { ...POLL, message: 'charge queued' })
      .toBeOneOf(['waiting', 'paused']);
    // The cancel set the gate and saw the job waiting, never taken; it is held before it removes the job.
    const looked = gate();
    const proceed = gate();
    cleanups.push(() => Promise.resolve(proceed.open()));
    runtime.operations.stopHooks.afterLook = async () => {
      looked.open();
      await proceed.wait;
    };
    const cancelling = runtime.operations.cancel(scheduled._id);
    await looked.wait;
    // Meanwhile a worker takes the job. Before the gate, it ran charge here (and, had its write failed and BullMQ put
    // the job back, the removal would then have succeeded: a step that acted, never compensated).
    await queue.resume();
    await expect
      .poll(async () => (await queue.getJob(chargeJobId))?.finishedOn, {
        ...POLL,
        message: 'charge job taken and ended',
      })
      .toBeDefined();
    proceed.open();
    const cancelled = await cancelling;

    expect(cancelled.compensation?.plan).toEqual([0]);
    const saga = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed']);
    expect(saga.status).toBe('compensated');
    expect(saga.steps[1]).toMatchObject({ name: 'charge', status: 'pending', attempts: 0 });
    expect(await runsOf(test.db, saga._id, 'charge')).toEqual([]);
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'undo-reserve']);
  });

  it("a worker that set the gate between the cancel's steps and then failed its write is compensated", async () => {
    test = engineTest(client, 'gate-worker-first', { stepTimeoutMs: 1_000 });
    const runtime = await test.start(QUEUED_STEPS);
    const queue = stepQueue(runtime, test);
    const processor = runtime.worker!.processor;
    processor.hooks.afterScheduleWrite = async (next) => {
      if (next.stepName === 'charge') await queue.pause();
    };
    const doc = order();
    await test.orders.insertOne(doc);
    const scheduled = await sagaOf(test.db, doc._id);
    const ref = chargeRef(scheduled);
    await expect
      .poll(async () => (await queue.getJob(stepJobId(ref)))?.getState(), {
        ...POLL,
        message: 'charge queued',
      })
      .toBeOneOf(['waiting', 'paused']);
    // The cancel read the saga (charge scheduled, its job waiting) and is held before the gate.
    const chosen = gate();
    const proceed = gate();
    cleanups.push(() => Promise.resolve(proceed.open()));
    runtime.operations.stopHooks.beforeGate = async () => {
      chosen.open();
      await proceed.wait;
    };
    const cancelling = runtime.operations.cancel(scheduled._id);
    await chosen.wait;
    // A worker takes the job, passes the gate, runs charge; its result write fails (MongoDB unreachable), so
    // BullMQ puts the job back to wait for a retry (the queue stays paused so the retry waits for the cancel).
    let failures = 0;
    processor.hooks.beforeResultWrite = async (attempt) => {
      if (attempt.stepName !== 'charge' || failures > 0) return;
      failures += 1;
      await queue.pause();
      throw new Error('MongoDB unreachable');
    };
    await queue.resume();
    await expect
      .poll(async () => (await queue.getJob(stepJobId(ref)))?.attemptsMade, {
        ...POLL,
        message: "charge's write failed",
      })
      .toBe(1);
    expect(await runtime.queues.attemptMark(ref)).toBe('started');
    proceed.open();
    const cancelled = await cancelling;
    // The gate said started: charge may have acted, since its job was taken.
    expect(cancelled.steps[1]).toMatchObject({ status: 'running', attempts: 1 });
    expect(cancelled.compensation?.plan).toEqual([1, 0]);
    await queue.resume();
    const saga = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed']);

    expect(saga.status).toBe('compensated');
    expect(await runsOf(test.db, saga._id, 'charge', 'forward')).toHaveLength(1);
    expect(await effectTimeline(test.db, saga._id)).toEqual([
      'reserve',
      'charge',
      'undo-charge',
      'undo-reserve',
    ]);
  });
});

describe('a stop cut off before its transition', () => {
  it("is finished by the sweeper: a saga whose scheduled step's gate is stopped does not wait for its deadline", async () => {
    test = engineTest(client, 'cut-off-stop', { timeoutMs: 600_000 });
    const runtime = await test.start(QUEUED_STEPS);
    const queue = stepQueue(runtime, test);
    const { atFailPoint, release } = holdChargeAfterItsWrite(runtime);
    const doc = order();
    await test.orders.insertOne(doc);
    const next = await atFailPoint;
    // A cancel sets charge's gate to stopped, then its process dies before the transition.
    expect(await stopStepJob(runtime.queues, next, 'cancelled')).toMatchObject({ mayHaveStarted: true });
    release();
    const reserveJobId = stepJobId({ ...next, step: 0, stepName: 'reserve' });
    await expect
      .poll(async () => (await queue.getJob(reserveJobId))?.finishedOn, {
        ...POLL,
        message: 'reserve job done',
      })
      .toBeDefined();
    expect((await sagasCollection(test.db).findOne({ _id: next.sagaId }))?.status).toBe('running');
    // It has not moved for longer than a stop takes to land: the sweeper takes the stopped gate as cut off.
    await sagasCollection(test.db).updateOne(
      { _id: next.sagaId },
      { $set: { updatedAt: new Date(Date.now() - 120_000) } },
    );
    const saga = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed']);

    expect(saga).toMatchObject({ status: 'compensated', reason: 'cancelled' });
    expect(await runsOf(test.db, saga._id, 'charge', 'forward')).toEqual([]);
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'undo-charge', 'undo-reserve']);
  });
});

describe('Redis losing scheduled steps', () => {
  it('after FLUSHALL every scheduled step is re-run or compensated, and nothing is lost', async () => {
    // Its own Redis: FLUSHALL on the shared one would wipe the queues of tests running in parallel.
    const redisServer: RedisServer = await startRedisServer({});
    cleanups.push(() => redisServer.stop());
    test = engineTest(client, 'flush-scheduled', { stepTimeoutMs: 1_000 }, redisServer.url);
    const runtime = await test.start({ worker: { ...FAST_WORKER, concurrency: 10, stepsPerJob: 1 } });
    const queue = stepQueue(runtime, test);
    const docs = Array.from({ length: 6 }, () => order());
    // Every saga is held after the write that scheduled charge, until the queue is paused: then charge's jobs
    // are added, and wait.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    cleanups.push(() => Promise.resolve(release()));
    runtime.worker!.processor.hooks.afterScheduleWrite = async (next) => {
      if (next.stepName === 'charge') await released;
    };
    await test.orders.insertMany(docs);
    await expect
      .poll(() => sagasCollection(test!.db).countDocuments({ 'steps.1.status': 'scheduled' }), {
        ...POLL,
        message: 'every saga with charge scheduled',
      })
      .toBe(docs.length);
    await queue.pause();
    runtime.worker!.processor.hooks.afterScheduleWrite = undefined;
    release();
    await expect.poll(() => queue.count(), { ...POLL, message: "charge's jobs waiting" }).toBe(docs.length);
    const redis = new Redis(redisServer.url);
    cleanups.push(async () => void (await redis.quit()));
    await redis.flushall();

    // Half are cancelled (their job is gone, or already back), the rest go on once the sweeper re-queues them.
    const sagas = await sagasCollection(test.db).find().sort({ _id: 1 }).toArray();
    const cancelled = sagas.slice(0, 3);
    for (const saga of cancelled) await runtime.operations.cancel(saga._id);
    // Delivery is at least once (under load a job whose lock lapsed runs again): effects are checked by kind.
    for (const saga of sagas) {
      const ended = await sagaEndingIn(test.db, saga.key, ['completed', 'compensated', 'failed'], 60_000);
      const effects = await effectsOf(test.db, saga._id);
      const timeline = effects.map((effect) =>
        effect.phase === 'forward' ? effect.step : `undo-${effect.step}`,
      );
      if (cancelled.some((candidate) => candidate._id === saga._id)) {
        expect(ended.status).toBe('compensated');
        expect(timeline).toContain('undo-reserve');
        // Its job was lost, or re-added by the sweeper with the gate marked `lost`: either way charge may have
        // acted before Redis lost it, so it is undone (whether it ran or not).
        expect(timeline).toContain('undo-charge');
      } else {
        expect(ended.status).toBe('completed');
        expect(timeline).toEqual(['reserve', 'charge', 'ship']);
      }
    }
  }, 90_000);
});

describe('a chain of steps carried in one job', () => {
  const CARRIED = { worker: { ...FAST_WORKER, stepsPerJob: 32 } };

  it('runs the next steps in the job of the first: no job is queued for them, their gate names the carrier', async () => {
    test = engineTest(client, 'carried-chain');
    const runtime = await test.start(CARRIED);
    const queue = stepQueue(runtime, test);
    const doc = order();
    await test.orders.insertOne(doc);
    const saga = await sagaEndingIn(test.db, doc._id, ['completed', 'compensated', 'failed']);

    expect(saga.status).toBe('completed');
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'charge', 'ship']);
    const reserve = { ...chargeRef(saga), step: 0, stepName: 'reserve' };
    expect(await (await queue.getJob(stepJobId(reserve)))?.getState()).toBe('completed');
    for (const [step, stepName] of [
      [1, 'charge'],
      [2, 'ship'],
    ] as const) {
      const ref = { ...chargeRef(saga), step, stepName };
      expect(await queue.getJob(stepJobId(ref))).toBeUndefined();
      expect(carrierOf(await runtime.queues.attemptMark(ref))?.jobId).toBe(stepJobId(reserve));
    }
  });

  it('shows a carried step as running, and the sweeper does not queue it again while its carrier runs it', async () => {
    test = engineTest(client, 'carried-sweep', { stepTimeoutMs: 10_000 });
    const runtime = await test.start(CARRIED);
    const queue = stepQueue(runtime, test);
    // charge runs for 3 s: the sweeper (every 500 ms here) looks at the saga several times meanwhile.
    const doc = order({ charge: { sleepMs: 3_000 } });
    await test.orders.insertOne(doc);
    const started = await sagaOf(test.db, doc._id);
    await expect
      .poll(() => runsOf(test!.db, started._id, 'charge'), { ...POLL, message: 'charge to be running' })
      .toHaveLength(1);
    const running = (await sagasCollection(test.db).findOne({ _id: started._id }))!;
    const view = await scheduledJobView(runtime.queues, running);
    expect(view?.state).toBe('running');
    expect(view!.startedAt!.getTime()).toBeLessThanOrEqual(Date.now());
    const saga = await sagaEndingIn(test.db, doc._id, ['completed', 'compensated', 'failed']);

    expect(saga.status).toBe('completed');
    expect(await runsOf(test.db, saga._id, 'charge')).toHaveLength(1);
    expect(await queue.getJob(stepJobId(chargeRef(saga)))).toBeUndefined();
  });

  it('the sweeper leaves a saga that just moved alone: a step between its write and its gate is not queued twice', async () => {
    test = engineTest(client, 'carried-window');
    // The runtime's own sweeper would restore the held saga after its idle time: give it a long one.
    const runtime = await test.start({ ...CARRIED, sweeper: { ...FAST_SWEEPER, idleBeforeRestore: 60_000 } });
    const queue = stepQueue(runtime, test);
    const { atFailPoint, release } = holdChargeAfterItsWrite(runtime);
    const doc = order();
    await test.orders.insertOne(doc);
    const next = await atFailPoint;
    // Written, no job, the gate set by the carrier alongside the write: what a sweep finds before the carried start.
    expect(carrierOf(await runtime.queues.attemptMark(next))?.jobId).toBe(
      stepJobId({ ...next, step: 0, stepName: 'reserve' }),
    );
    const sweep = (idleBeforeRestoreMs: number) =>
      new RecoverySweeper(
        new SagaRegistry([test!.saga]),
        runtime.store,
        runtime.queues,
        runtime.operations,
        testLogger('carried-window'),
        { batchSize: 100, stuckAfter: 3, idleBeforeRestoreMs },
      ).sweep();
    expect(await sweep(60_000)).toMatchObject({ checked: 1, requeued: 0 });
    expect(await queue.getJob(stepJobId(next))).toBeUndefined();
    release();
    const saga = await sagaEndingIn(test.db, doc._id, ['completed', 'compensated', 'failed']);

    expect(saga.status).toBe('completed');
    expect(await runsOf(test.db, saga._id, 'charge')).toHaveLength(1);
    expect(await queue.getJob(stepJobId(next))).toBeUndefined();
  });

  it('queues the next step once the chain reached stepsPerJob', async () => {
    test = engineTest(client, 'carried-cap');
    const runtime = await test.start({ worker: { ...FAST_WORKER, stepsPerJob: 2 } });
    const queue = stepQueue(runtime, test);
    const doc = order();
    await test.orders.insertOne(doc);
    const saga = await sagaEndingIn(test.db, doc._id, ['completed', 'compensated', 'failed']);

    expect(saga.status).toBe('completed');
    const ship = { ...chargeRef(saga), step: 2, stepName: 'ship' };
    expect(await queue.getJob(stepJobId(chargeRef(saga)))).toBeUndefined();
    expect(await (await queue.getJob(stepJobId(ship)))?.getState()).toBe('completed');
  });

  it('a worker told to stop queues the next step instead of carrying on, and another worker runs it', async () => {
    test = engineTest(client, 'carried-stop');
    const runtime = await test.start(CARRIED);
    const doc = order({ charge: { sleepMs: 1_000 } });
    await test.orders.insertOne(doc);
    const started = await sagaOf(test.db, doc._id);
    await expect
      .poll(() => runsOf(test!.db, started._id, 'charge'), { ...POLL, message: 'charge to be running' })
      .toHaveLength(1);
    // The stop waits for charge (its grace is 2 s), which then queues ship rather than running it here.
    await runtime.stop();
    const reader = await test.start({ roles: [] });
    const ship = { ...chargeRef(started), step: 2, stepName: 'ship' };
    expect(await (await stepQueue(reader, test).getJob(stepJobId(ship)))?.getState()).toBe('waiting');
    expect(await runsOf(test.db, started._id, 'ship')).toEqual([]);

    await test.start(CARRIED);
    const saga = await sagaEndingIn(test.db, doc._id, ['completed', 'compensated', 'failed']);
    expect(saga.status).toBe('completed');
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'charge', 'ship']);
  });

  it('after FLUSHALL while steps run carried, every saga completes and each step takes effect', async () => {
    const redisServer: RedisServer = await startRedisServer({});
    cleanups.push(() => redisServer.stop());
    test = engineTest(client, 'flush-carried', { stepTimeoutMs: 5_000 }, redisServer.url);
    await test.start({ worker: { ...FAST_WORKER, concurrency: 10, stepsPerJob: 32 } });
    const docs = Array.from({ length: 6 }, () => order({ charge: { sleepMs: 1_500 } }));
    await test.orders.insertMany(docs);
    await expect
      .poll(() => test!.db.collection('runs').countDocuments({ step: 'charge' }), {
        ...POLL,
        message: 'charge running in every saga',
      })
      .toBe(docs.length);
    const redis = new Redis(redisServer.url);
    cleanups.push(async () => void (await redis.quit()));
    await redis.flushall();

    for (const doc of docs) {
      const ended = await sagaEndingIn(test.db, doc._id, ['completed', 'compensated', 'failed'], 60_000);
      expect(ended.status).toBe('completed');
      expect(await effectTimeline(test.db, ended._id)).toEqual(['reserve', 'charge', 'ship']);
    }
  }, 90_000);
});
