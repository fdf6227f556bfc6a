// What happens to a saga for each way its steps can end: success, retries, timeouts, final and terminal
// failures, failing compensations, invalid input. One SagaRuntime (watcher, worker, sweeper) per test.
import { BSON, Decimal128, ObjectId, type MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SagaRegistry, defineSaga } from '../../../src/definition/index.js';
import { connectMongo } from '../helpers.js';
import {
  effectTimeline,
  effectsOf,
  engineTest,
  invalidOrder,
  FAST_WORKER,
  order,
  POLL,
  runsOf,
  sagaEndingIn,
  sagaOf,
  type EngineTest,
} from './engine-test-kit.js';
import type { RunRecord } from './fixtures/recording-saga.js';

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

describe('saga steps', () => {
  it('happy path: runs every step once, in order, with earlier outputs visible, and records a timeline', async () => {
    test = engineTest(client, 'happy');
    await test.start();
    const doc = order();
    await test.orders.insertOne(doc);
    const saga = await sagaEndingIn(test.db, doc._id, ['completed']);

    expect(saga.steps.map((step) => [step.name, step.status, step.attempts])).toEqual([
      ['reserve', 'completed', 1],
      ['charge', 'completed', 1],
      ['ship', 'completed', 1],
    ]);
    expect(saga.input).toEqual({ _id: doc._id, status: 'new', customer: 'c1', behaviour: {} });
    // Later steps saw the outputs of earlier ones.
    expect(saga.steps[2]!.output).toEqual({
      trackingId: `trk-${saga._id}`,
      paymentId: `pay-${saga._id}`,
      reservationId: `res-${saga._id}`,
    });
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'charge', 'ship']);
    expect((await effectsOf(test.db, saga._id)).map((effect) => effect.applied)).toEqual([1, 1, 1]);
    expect(saga.history.map((event) => [event.type, event.step])).toEqual([
      ['saga-started', undefined],
      ['step-completed', 'reserve'],
      ['step-completed', 'charge'],
      ['saga-completed', 'ship'],
    ]);
    const times = saga.history.map((event) => event.at.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(saga.endedAt).toBeInstanceOf(Date);
    expect(saga.reason).toBeUndefined();
  });

  it("finishes the sagas it started before starting queued ones (a step's successor jumps the queue)", async () => {
    test = engineTest(client, 'depth');
    // The worker stays off until every saga has its first step queued, then runs one job at a time.
    const watcher = await test.start({ roles: ['watcher'] });
    const docs = [order(), order(), order(), order()];
    await test.orders.insertMany(docs);
    const sagas = await Promise.all(docs.map((doc) => sagaOf(test!.db, doc._id)));
    await test.start({ roles: ['worker'], worker: { ...FAST_WORKER, concurrency: 1 } });
    await Promise.all(docs.map((doc) => sagaEndingIn(test!.db, doc._id, ['completed'])));
    expect(watcher.trigger).toBeDefined();

    const runs = await test.db.collection<RunRecord>('runs').find({}).sort({ seq: 1 }).toArray();
    const bySaga = runs.map((run) => run.sagaId);
    // Each saga's three steps ran back to back: no saga's step ran between two steps of another.
    for (const saga of sagas) {
      const first = bySaga.indexOf(saga._id);
      expect(bySaga.slice(first, first + 3), `the steps of ${saga._id}`).toEqual([
        saga._id,
        saga._id,
        saga._id,
      ]);
    }
    expect(runs).toHaveLength(12);
  });

  it("each step sees the saga as stored: outputs keep their BSON types, and a step's changes to its context go nowhere", async () => {
    test = engineTest(client, 'context');
    const seen: { step: string; input: unknown; outputs: unknown }[] = [];
    const snapshot = (step: string, ctx: { input: unknown; outputs: unknown }) =>
      seen.push({
        step,
        ...BSON.deserialize(BSON.serialize({ input: ctx.input, outputs: ctx.outputs })),
      } as never);
    const probe = defineSaga({
      name: 'context-probe',
      trigger: { collection: 'orders', on: ['insert'] },
      input: z.object({ _id: z.string(), customer: z.string(), tags: z.array(z.string()) }),
    })
      .step({
        name: 'first',
        run: (ctx) => {
          snapshot('first', ctx);
          ctx.input.customer = 'changed by first';
          ctx.input.tags.push('first');
          return Promise.resolve({
            at: new Date(1_700_000_000_000),
            id: new ObjectId('64b7f0a2c3d4e5f601234567'),
            amount: Decimal128.fromString('10.25'),
            nothing: undefined,
          });
        },
      })
      .step({
        name: 'second',
        run: (ctx) => {
          snapshot('second', ctx);
          const first = ctx.outputs.first as Record<string, unknown>;
          first.amount = 'changed by second';
          return Promise.resolve({ ok: true });
        },
      })
      .step({
        name: 'third',
        run: (ctx) => {
          snapshot('third', ctx);
          expect(ctx.outputs.first.at).toBeInstanceOf(Date);
          expect(ctx.outputs.first.id).toBeInstanceOf(ObjectId);
          expect(ctx.outputs.first.amount).toBeInstanceOf(Decimal128);
          return Promise.resolve(null);
        },
      })
      .build();
    await test.start({ registry: new SagaRegistry([probe]) });
    await test.orders.insertOne({ _id: 'context-1', status: 'new', customer: 'c1', tags: ['a'] } as never);
    const saga = await sagaEndingIn(test.db, 'context-1', ['completed']);

    const input = { _id: 'context-1', customer: 'c1', tags: ['a'] };
    const firstOutput = saga.steps[0]!.output;
    expect(firstOutput).toEqual({
      at: new Date(1_700_000_000_000),
      id: new ObjectId('64b7f0a2c3d4e5f601234567'),
      amount: Decimal128.fromString('10.25'),
      nothing: null,
    });
    expect(seen).toEqual([
      { step: 'first', input, outputs: {} },
      { step: 'second', input, outputs: { first: firstOutput } },
      { step: 'third', input, outputs: { first: firstOutput, second: { ok: true } } },
    ]);
  });

  it('retries a failing step with its backoff and then succeeds', async () => {
    test = engineTest(client, 'retry');
    await test.start();
    const doc = order({ charge: { fail: 2 } });
    await test.orders.insertOne(doc);
    const saga = await sagaEndingIn(test.db, doc._id, ['completed']);

    expect(saga.steps[1]).toMatchObject({ name: 'charge', status: 'completed', attempts: 3 });
    const runs = await runsOf(test.db, saga._id, 'charge');
    expect(runs.map((run) => run.attempt)).toEqual([1, 2, 3]);
    // Each retry started only after the previous attempt had failed and its backoff had been scheduled.
    const failures = saga.history.filter((event) => event.type === 'attempt-failed');
    expect(failures.map((event) => event.attempt)).toEqual([1, 2]);
    expect(runs[1]!.at.getTime()).toBeGreaterThanOrEqual(failures[0]!.at.getTime());
    expect(runs[2]!.at.getTime()).toBeGreaterThanOrEqual(failures[1]!.at.getTime());
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'charge', 'ship']);
  });

  it('times out an attempt that ignores its signal, records StepTimeoutError and succeeds on the retry', async () => {
    test = engineTest(client, 'timeout', { stepTimeoutMs: 500 });
    await test.start();
    const doc = order({ charge: { hang: 1, hangMs: 2_000 } });
    await test.orders.insertOne(doc);
    const saga = await sagaEndingIn(test.db, doc._id, ['completed']);

    expect(saga.steps[1]).toMatchObject({ name: 'charge', status: 'completed', attempts: 2 });
    // The timed-out attempt may have acted: the step stays marked so a later compensation would cover it.
    expect(saga.steps[1]!.mayHaveEffect).toBe(true);
    const timedOut = saga.history.find((event) => event.type === 'attempt-timed-out');
    expect(timedOut).toMatchObject({ step: 'charge', attempt: 1 });
    expect(timedOut?.message).toMatch(/timed out|timeout/i);
    expect((await runsOf(test.db, saga._id, 'charge')).map((run) => run.attempt)).toEqual([1, 2]);
  });

  it('compensates a step that always times out, itself included, since it may have taken effect', async () => {
    test = engineTest(client, 'timeout-always', { stepTimeoutMs: 400, stepAttempts: 2 });
    await test.start();
    const doc = order({ charge: { hangAlways: true, hangMs: 1_500 } });
    await test.orders.insertOne(doc);
    const saga = await sagaEndingIn(test.db, doc._id, ['compensated']);

    expect(saga.reason).toBe('step-failed');
    expect(saga.error).toMatchObject({ code: 'STEP_TIMEOUT' });
    expect(saga.steps[1]).toMatchObject({ status: 'timed-out', attempts: 2, mayHaveEffect: true });
    expect(saga.steps[1]!.compensation?.status).toBe('completed');
    expect(await effectTimeline(test.db, saga._id)).toEqual([
      'reserve',
      'charge',
      'undo-charge',
      'undo-reserve',
    ]);
  });

  it('after the last failed attempt compensates only the completed steps, most recent first', async () => {
    test = engineTest(client, 'final-failure', { stepAttempts: 2 });
    await test.start();
    const doc = order({ ship: { failAlways: true } });
    await test.orders.insertOne(doc);
    const saga = await sagaEndingIn(test.db, doc._id, ['compensated']);

    expect(saga.reason).toBe('step-failed');
    expect(saga.error?.message).toMatch(/ship failed/);
    expect(saga.steps.map((step) => [step.name, step.status, step.compensation?.status])).toEqual([
      ['reserve', 'completed', 'completed'],
      ['charge', 'completed', 'completed'],
      ['ship', 'failed', undefined],
    ]);
    expect((await runsOf(test.db, saga._id, 'ship')).length).toBe(2);
    expect(await runsOf(test.db, saga._id, 'ship', 'compensate')).toEqual([]);
    expect(await effectTimeline(test.db, saga._id)).toEqual([
      'reserve',
      'charge',
      'undo-charge',
      'undo-reserve',
    ]);
    expect(saga.history.map((event) => event.type)).toEqual([
      'saga-started',
      'step-completed',
      'step-completed',
      'attempt-failed',
      'compensation-started',
      'step-compensated',
      'saga-compensated',
    ]);
  });

  it('does not retry a TerminalError', async () => {
    test = engineTest(client, 'terminal', { stepAttempts: 5 });
    await test.start();
    const doc = order({ charge: { terminal: true } });
    await test.orders.insertOne(doc);
    const saga = await sagaEndingIn(test.db, doc._id, ['compensated']);

    expect(saga.steps[1]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(saga.error).toMatchObject({ code: 'REFUSED' });
    expect(await runsOf(test.db, saga._id, 'charge', 'forward')).toHaveLength(1);
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'undo-reserve']);
  });

  it('a compensation that fails for good leaves the saga failed with a dead letter', async () => {
    test = engineTest(client, 'compensation-failure', { stepAttempts: 1, compensationAttempts: 2 });
    const runtime = await test.start();
    const doc = order({ ship: { failAlways: true }, reserve: { compensationFailAlways: true } });
    await test.orders.insertOne(doc);
    const saga = await sagaEndingIn(test.db, doc._id, ['failed']);

    expect(saga.steps.map((step) => step.compensation?.status)).toEqual(['failed', 'completed', undefined]);
    expect(saga.steps[0]!.compensation?.attempts).toBe(2);
    expect(saga.error?.message).toMatch(/undoing reserve failed/);
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'charge', 'undo-charge']);
    await expect
      .poll(() => runtime.operations.listDeadLetters(), { ...POLL, message: 'a dead letter' })
      .toHaveLength(1);
    const letters = await runtime.operations.listDeadLetters();
    expect(letters[0]).toMatchObject({
      sagaId: saga._id,
      saga: 'order',
      kind: 'compensation-failed',
      step: 'reserve',
      attempts: 2,
      generation: 0,
    });
    expect(letters[0]!.error.message).toMatch(/undoing reserve failed/);
  });

  it('stores a saga with invalid input as rejected, with a dead letter, and runs nothing', async () => {
    test = engineTest(client, 'rejected');
    const runtime = await test.start();
    const invalid = invalidOrder();
    const valid = order();
    await test.orders.insertMany([invalid, valid]);
    const rejected = await sagaEndingIn(test.db, invalid._id, ['rejected']);
    await sagaEndingIn(test.db, valid._id, ['completed']);

    expect(rejected.reason).toBe('invalid-input');
    expect(rejected.error?.code).toBe('INPUT_VALIDATION_FAILED');
    expect(rejected.validationIssues?.map((issue) => issue.path)).toEqual(['customer']);
    expect(await runsOf(test.db, rejected._id)).toEqual([]);
    await expect
      .poll(() => runtime.operations.listDeadLetters(), { ...POLL, message: 'a dead letter' })
      .toEqual([expect.objectContaining({ sagaId: rejected._id, kind: 'rejected' })]);
  });
});
