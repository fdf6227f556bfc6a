// Sagas that leave their happy path from outside: the deadline, an operator's cancel, and the operator's
// retries of failed and rejected sagas through their dead letters.
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../helpers.js';
import {
  effectTimeline,
  engineTest,
  invalidOrder,
  order,
  POLL,
  runsOf,
  sagaEndingIn,
  sagaOf,
  type EngineTest,
} from './engine-test-kit.js';

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

describe('deadline and cancel', () => {
  it('compensates at the deadline, recording the late result of the step in flight and undoing it after', async () => {
    test = engineTest(client, 'deadline', { timeoutMs: 1_500, stepTimeoutMs: 4_000 });
    await test.start();
    // charge outlives the deadline and ignores its signal: it takes effect after compensation began.
    const doc = order({ charge: { sleepMs: 2_500 } });
    await test.orders.insertOne(doc);
    const saga = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed']);

    expect(saga.status).toBe('compensated');
    expect(saga.reason).toBe('deadline');
    expect(saga.steps[1]).toMatchObject({ name: 'charge', status: 'completed', late: true });
    expect(saga.steps[1]!.output).toEqual({ paymentId: `pay-${saga._id}`, reservationId: `res-${saga._id}` });
    expect(saga.steps[2]).toMatchObject({ name: 'ship', status: 'pending', attempts: 0 });
    expect(await effectTimeline(test.db, saga._id)).toEqual([
      'reserve',
      'charge',
      'undo-charge',
      'undo-reserve',
    ]);
    expect(await runsOf(test.db, saga._id, 'ship')).toEqual([]);
  });

  it('cancel compensates a running saga, aborting the step in flight, and ends compensated (cancelled)', async () => {
    test = engineTest(client, 'cancel', { stepTimeoutMs: 20_000 });
    const runtime = await test.start();
    const doc = order({ charge: { blockMs: 15_000 } });
    await test.orders.insertOne(doc);
    const running = await sagaOf(test.db, doc._id);
    await expect
      .poll(() => runsOf(test!.db, running._id, 'charge'), { ...POLL, message: 'charge to be running' })
      .toHaveLength(1);
    await runtime.operations.cancel(running._id);
    const saga = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed'], 10_000);

    expect(saga.status).toBe('compensated');
    expect(saga.reason).toBe('cancelled');
    // The aborted attempt may have acted before it noticed: it is compensated too.
    expect(saga.steps[1]).toMatchObject({ status: 'timed-out', mayHaveEffect: true, late: true });
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'undo-charge', 'undo-reserve']);
    expect(saga.history.map((event) => event.type)).toContain('compensation-started');
    await expect(runtime.operations.cancel(saga._id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });
});

describe('dead-letter retry', () => {
  it('resumes the compensation of a failed saga, which then ends compensated', async () => {
    test = engineTest(client, 'redrive', { stepAttempts: 1, compensationAttempts: 2 });
    const runtime = await test.start();
    // reserve's compensation fails three times: twice in the first generation, once after the retry.
    const doc = order({ ship: { failAlways: true }, reserve: { compensationFail: 3 } });
    await test.orders.insertOne(doc);
    const failed = await sagaEndingIn(test.db, doc._id, ['failed']);
    expect(failed.generation).toBe(0);
    await expect
      .poll(() => runtime.operations.listDeadLetters(), { ...POLL, message: 'a dead letter' })
      .toHaveLength(1);
    const [letter] = await runtime.operations.listDeadLetters();
    expect(letter).toMatchObject({ sagaId: failed._id, kind: 'compensation-failed', step: 'reserve' });

    const redriven = await runtime.operations.retryDeadLetter(letter!.id);
    expect(redriven).toMatchObject({ status: 'compensating', generation: 1 });
    const saga = await sagaEndingIn(test.db, doc._id, ['compensated', 'failed']);

    expect(saga.status).toBe('compensated');
    expect(saga.steps[0]!.compensation).toMatchObject({ status: 'completed', attempts: 2 });
    expect((await runsOf(test.db, saga._id, 'reserve', 'compensate')).map((run) => run.attempt)).toEqual([
      1, 2, 1, 2,
    ]);
    // charge was undone before the failure and is not undone again.
    expect(await effectTimeline(test.db, saga._id)).toEqual([
      'reserve',
      'charge',
      'undo-charge',
      'undo-reserve',
    ]);
    expect(await runtime.operations.listDeadLetters()).toEqual([]);
    expect(saga.history.map((event) => event.type)).toContain('saga-redriven');
  });

  it('retries a rejected saga once its source document was fixed', async () => {
    test = engineTest(client, 'redrive-rejected');
    const runtime = await test.start();
    const doc = invalidOrder();
    await test.orders.insertOne(doc);
    const rejected = await sagaEndingIn(test.db, doc._id, ['rejected']);
    await expect
      .poll(() => runtime.operations.listDeadLetters(), { ...POLL, message: 'a dead letter' })
      .toHaveLength(1);
    const [letter] = await runtime.operations.listDeadLetters();

    // Still invalid: the retry is refused and changes nothing.
    await expect(runtime.operations.retryDeadLetter(letter!.id)).rejects.toMatchObject({
      code: 'INPUT_VALIDATION_FAILED',
    });
    expect((await sagaOf(test.db, doc._id)).status).toBe('rejected');

    await test.orders.updateOne({ _id: doc._id }, { $set: { customer: 'c2' } });
    const redriven = await runtime.operations.retryDeadLetter(letter!.id);
    expect(redriven).toMatchObject({ _id: rejected._id, status: 'running', generation: 1 });
    const saga = await sagaEndingIn(test.db, doc._id, ['completed', 'compensated', 'failed']);

    expect(saga.status).toBe('completed');
    expect(saga.input).toMatchObject({ customer: 'c2' });
    expect(await effectTimeline(test.db, saga._id)).toEqual(['reserve', 'charge', 'ship']);
    expect(await runtime.operations.listDeadLetters()).toEqual([]);
  });
});
