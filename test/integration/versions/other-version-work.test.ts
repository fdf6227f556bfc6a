// Work of a saga version a process does not load, with in-process runtimes of different registries on one
// database: its deadline timer is put back, not acted on, and applied once a worker with the version runs; the
// recovery sweeper restores its lost step job and timer from the document alone, and a worker with the version
// then finishes the saga.
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SagaRegistry } from '../../../src/definition/index.js';
import { deadlineJobId, stepQueueName } from '../../../src/queue/queue-names.js';
import { connectMongo } from '../helpers.js';
import {
  effectTimeline,
  engineTest,
  order,
  POLL,
  runsOf,
  sagaEndingIn,
  sagasCollection,
  type EngineTest,
  type OrderDocument,
} from '../engine/engine-test-kit.js';
import { recordingSaga, STEP_NAMES } from '../engine/fixtures/recording-saga.js';

let client: MongoClient;
let test: EngineTest | undefined;

beforeAll(async () => {
  client = await connectMongo();
});

afterEach(async () => {
  await test?.stop();
  test = undefined;
});

afterAll(async () => {
  await client.close();
});

/** Starts an order saga from code (keyed by the order's id), as a producer that loads only `registry` would. */
async function startFromCode(test: EngineTest, registry: SagaRegistry, doc: OrderDocument) {
  const producer = await test.client(registry);
  const started = await producer.start('order', doc, { key: doc._id });
  return started.id;
}

describe('work of a saga version this process does not load', { timeout: 90_000 }, () => {
  it('a deadline timer of another version is put back (~5 s) and not acted on; a worker that loads the version applies it', async () => {
    // v2 is overdue 1.5 s after it starts; its steps would outlast that (the step timeout is long).
    test = engineTest(client, 'other-version-deadline', {
      version: 2,
      timeoutMs: 1_500,
      stepTimeoutMs: 30_000,
    });
    const v1Only = new SagaRegistry([recordingSaga(test.db, { version: 1 })]);
    const v2Only = new SagaRegistry([test.saga]);
    const v1Worker = await test.start({ roles: ['worker'], registry: v1Only });
    const doc = order({ reserve: { blockMs: 60_000 } });
    const sagaId = await startFromCode(test, v2Only, doc);
    const saga = (await sagasCollection(test.db).findOne({ _id: sagaId }))!;
    expect(saga.version).toBe(2);

    // The v1-only worker takes the timer once due, and moves it back to delayed by ~5 s instead of acting.
    const timer = () => v1Worker.queues.timers.getJob(deadlineJobId(sagaId, 0));
    await expect
      .poll(async () => {
        const job = await timer();
        return job && { state: await job.getState(), taken: job.attemptsStarted > 0 };
      }, POLL)
      .toEqual({ state: 'delayed', taken: true });
    const putBack = (await timer())!;
    expect(putBack.delay).toBeGreaterThan(4_000);
    expect(putBack.delay).toBeLessThanOrEqual(5_000);
    expect(putBack.attemptsMade).toBe(0);
    // Overdue, yet still running: nothing was compensated and no step ran (v2's queue has no worker).
    const waiting = (await sagasCollection(test.db).findOne({ _id: sagaId }))!;
    expect(waiting.deadline.getTime()).toBeLessThan(Date.now());
    expect(waiting.status).toBe('running');
    expect(waiting.reason).toBeUndefined();
    expect(await runsOf(test.db, sagaId)).toEqual([]);
    expect(await v1Worker.queues.stepQueue('order', 2).getJobCounts('waiting')).toEqual({ waiting: 1 });

    // The v1-only worker leaves (so the put-back timer cannot bounce to it again), and a v2 worker starts: it
    // runs the waiting step and, once the timer is due again, applies the deadline with v2's definition.
    await v1Worker.stop();
    test.runtimes.splice(test.runtimes.indexOf(v1Worker), 1);
    await test.start({ roles: ['worker'], registry: v2Only });
    const ended = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed', 'completed'], 30_000);
    expect([ended.status, ended.reason]).toEqual(['compensated', 'deadline']);
    // `reserve` was in flight when the deadline stopped it (it may have acted), so v2 undid it.
    expect(await effectTimeline(test.db, sagaId)).toEqual(['undo-reserve']);
    expect((await runsOf(test.db, sagaId)).map((run) => [run.step, run.phase])).toEqual([
      ['reserve', 'forward'],
      ['reserve', 'compensate'],
    ]);
  });

  it('the recovery sweeper of a v2-only process restores the lost step job and timer of a v1 saga; a v1 worker finishes it', async () => {
    test = engineTest(client, 'other-version-sweep');
    const v1Only = new SagaRegistry([test.saga]);
    const v2Only = new SagaRegistry([recordingSaga(test.db, { version: 2 })]);
    const doc = order();
    const sagaId = await startFromCode(test, v1Only, doc);

    // Redis loses the saga's first step job and its deadline timer (no worker has taken the job yet).
    const lost = await test.start({ roles: [], registry: v1Only });
    const v1Queue = lost.queues.stepQueue('order', 1);
    expect(v1Queue.name).toBe(stepQueueName('order', 1));
    expect(await v1Queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    await v1Queue.drain(true);
    await lost.queues.timers.remove(deadlineJobId(sagaId, 0));
    expect(await v1Queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
    expect(await lost.queues.hasDeadline(sagaId, 0)).toBe(false);

    // The sweeper runs beside the watcher, here in a process that loads only v2.
    await test.start({ roles: ['watcher'], registry: v2Only });
    await expect
      .poll(() => v1Queue.getJobCounts('waiting'), { ...POLL, message: 'the v1 step job restored' })
      .toEqual({ waiting: 1 });
    await expect
      .poll(() => lost.queues.hasDeadline(sagaId, 0), { ...POLL, message: 'the deadline timer restored' })
      .toBe(true);
    // On v1's queue, and nothing ran: the v2-only process has no worker for it, nor the definition.
    expect(await lost.queues.stepQueue('order', 2).getJobCounts('waiting')).toEqual({ waiting: 0 });
    expect((await sagasCollection(test.db).findOne({ _id: sagaId }))?.status).toBe('running');
    expect(await runsOf(test.db, sagaId)).toEqual([]);

    await test.start({ roles: ['worker'], registry: v1Only });
    const done = await sagaEndingIn(test.db, doc._id, ['completed', 'compensated', 'failed']);
    expect([done.status, done.version ?? 1]).toEqual(['completed', 1]);
    expect(await effectTimeline(test.db, sagaId)).toEqual([...STEP_NAMES]);
  });
});
