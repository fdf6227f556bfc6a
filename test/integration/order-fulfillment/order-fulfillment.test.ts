// The order-fulfillment saga on the real engine, one order per `simulate` path: the saga's final state and
// the effects (and undos) its services left in MongoDB.
import type { Db, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry, setup } from '../../../sagas/index.js';
import type { SagaRuntime } from '../../../src/runtime/saga-runtime.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { createTestEnvironment, type TestEnvironment } from '../../../src/testing/index.js';
import { mongoUrl, redisUrl } from '../helpers.js';

const TERMINAL = ['completed', 'compensated', 'failed', 'rejected'];

const orders: Record<string, Record<string, unknown>> = {
  success: {},
  retryThenSuccess: { simulate: { failAt: 'reserve-inventory', failTimes: 2 } },
  failureCompensates: { simulate: { failAt: 'calculate-shipping' } },
  timeoutThenSuccess: { simulate: { hangAt: 'send-confirmation', failTimes: 1 } },
  timeoutCompensates: { simulate: { hangAt: 'send-confirmation' } },
  compensationFails: { simulate: { failAt: 'calculate-shipping', failCompensationAt: 'process-payment' } },
  noItems: { items: undefined },
  noCustomer: { customer: undefined },
  textTotal: { total_amount: '42' },
  zeroTotal: { total_amount: 0 },
};

let env: TestEnvironment;
let db: Db;
let runtime: SagaRuntime;
const ids: Record<string, ObjectId> = {};

function order(overrides: Record<string, unknown>): Record<string, unknown> {
  const document: Record<string, unknown> = {
    status: 'pending',
    customer: { id: 'c-7', email: 'grace@example.com' },
    items: [{ sku: 'lamp-oak', quantity: 2 }],
    total_amount: 59.9,
    currency: 'EUR',
    ...overrides,
  };
  for (const [field, value] of Object.entries(document)) if (value === undefined) delete document[field];
  return document;
}

/** The order's saga once it has ended; fails (naming the order and its last status) after 50 s. */
async function finishedSaga(name: string): Promise<SagaDocument> {
  const sagas = db.collection<SagaDocument>('sagas');
  let saga = null as SagaDocument | null;
  await expect
    .poll(async () => (saga = await sagas.findOne({ 'trigger.documentKey._id': ids[name] }))?.status, {
      // Within the 60 s test timeout, so the poll's message (not a bare timeout) says what never happened.
      timeout: 50_000,
      interval: 200,
      message: `the saga of the ${name} order to end`,
    })
    .toBeOneOf(TERMINAL);
  return saga!;
}

async function effect(collection: string, sagaId: string, step: string) {
  return db.collection(collection).findOne({ _id: `${sagaId}:${step}` as never });
}

beforeAll(async () => {
  // The testing kit, as a user's tests would run it: it returns once the watcher follows its change stream, so
  // no order below is missed. Durations × 0.1: timeouts of 0.5–3 s, backoffs from 100 ms, a 30 s deadline.
  env = await createTestEnvironment({
    sagas: registry,
    setup, // the sagas module's own: its services on the environment's database
    timeScale: 0.1,
    concurrency: 20,
    mongodbUrl: mongoUrl(),
    redisUrl: redisUrl(),
  });
  db = env.db;
  runtime = env.runtime;
  for (const [name, overrides] of Object.entries(orders)) {
    const { insertedId } = await db.collection('orders').insertOne(order(overrides));
    ids[name] = insertedId;
  }
});

afterAll(async () => {
  await env?.stop();
});

describe('order-fulfillment saga', { timeout: 60_000 }, () => {
  it('completes an order: payment captured, stock reserved, shipment booked, confirmation sent', async () => {
    const saga = await finishedSaga('success');
    expect(saga.status).toBe('completed');
    expect(saga.steps.map((step) => [step.name, step.status, step.attempts])).toEqual([
      ['process-payment', 'completed', 1],
      ['reserve-inventory', 'completed', 1],
      ['calculate-shipping', 'completed', 1],
      ['send-confirmation', 'completed', 1],
    ]);
    expect(await effect('payments', saga._id, 'process-payment')).toMatchObject({
      status: 'captured',
      amount: 59.9,
      currency: 'EUR',
      orderId: ids.success?.toHexString(),
    });
    expect(await effect('reservations', saga._id, 'reserve-inventory')).toMatchObject({ status: 'reserved' });
    expect(await effect('shipments', saga._id, 'calculate-shipping')).toMatchObject({ status: 'booked' });
    expect(await effect('notifications', saga._id, 'send-confirmation')).toMatchObject({
      status: 'sent',
      to: 'grace@example.com',
    });
  });

  it('retries a failing step and completes (failAt + failTimes)', async () => {
    const saga = await finishedSaga('retryThenSuccess');
    expect(saga.status).toBe('completed');
    expect(saga.steps[1]).toMatchObject({ name: 'reserve-inventory', status: 'completed', attempts: 3 });
    expect(
      await db.collection('reservations').countDocuments({ orderId: ids.retryThenSuccess?.toHexString() }),
    ).toBe(1);
  });

  it('compensates the completed steps in reverse order when a step fails for good (failAt)', async () => {
    const saga = await finishedSaga('failureCompensates');
    expect(saga.status).toBe('compensated');
    expect(saga.steps[2]).toMatchObject({ name: 'calculate-shipping', status: 'failed', attempts: 3 });
    expect(await effect('payments', saga._id, 'process-payment')).toMatchObject({ status: 'refunded' });
    expect(await effect('reservations', saga._id, 'reserve-inventory')).toMatchObject({ status: 'released' });
    expect(await effect('shipments', saga._id, 'calculate-shipping')).toBeNull();
    // Reverse order: the reservation was released before the refund started.
    const [payment, reservation] = saga.steps;
    expect(reservation?.compensation?.endedAt?.getTime()).toBeLessThanOrEqual(
      payment?.compensation?.startedAt?.getTime() ?? 0,
    );
  });

  it('times out a hanging step, retries it and completes (hangAt + failTimes)', async () => {
    const saga = await finishedSaga('timeoutThenSuccess');
    expect(saga.status).toBe('completed');
    expect(saga.steps[3]).toMatchObject({ name: 'send-confirmation', status: 'completed', attempts: 2 });
    expect(
      saga.history.some((event) => event.step === 'send-confirmation' && /tim/i.test(event.message ?? '')),
    ).toBe(true);
  });

  it('compensates after every attempt of a step timed out (hangAt)', async () => {
    const saga = await finishedSaga('timeoutCompensates');
    expect(saga.status).toBe('compensated');
    expect(saga.steps[3]).toMatchObject({ name: 'send-confirmation', attempts: 3 });
    expect(await effect('payments', saga._id, 'process-payment')).toMatchObject({ status: 'refunded' });
    expect(await effect('reservations', saga._id, 'reserve-inventory')).toMatchObject({ status: 'released' });
    expect(await effect('shipments', saga._id, 'calculate-shipping')).toMatchObject({ status: 'cancelled' });
  });

  it('fails with a dead letter when a compensation keeps failing (failCompensationAt)', async () => {
    const saga = await finishedSaga('compensationFails');
    expect(saga.status).toBe('failed');
    expect(saga.steps[0]?.compensation).toMatchObject({ status: 'failed', attempts: 3 });
    expect(await effect('payments', saga._id, 'process-payment')).toMatchObject({ status: 'captured' });
    expect(await effect('reservations', saga._id, 'reserve-inventory')).toMatchObject({ status: 'released' });
    await expect
      .poll(async () =>
        (await runtime.operations.listDeadLetters()).some((entry) => entry.sagaId === saga._id),
      )
      .toBe(true);
  });

  it.each([
    ['noItems', 'items'],
    ['noCustomer', 'customer'],
    ['textTotal', 'total_amount'],
  ])('rejects the invalid order %s, naming %s', async (name, field) => {
    const saga = await finishedSaga(name);
    expect(saga.status).toBe('rejected');
    expect(saga.validationIssues?.map((issue) => issue.path)).toEqual([field]);
    expect(await db.collection('payments').countDocuments({ orderId: ids[name]?.toHexString() })).toBe(0);
  });

  it('starts no saga for an order with a zero total (trigger filter)', async () => {
    // Every other order is finished by now, and they were inserted after this one's neighbours.
    await finishedSaga('textTotal');
    expect(await db.collection('sagas').countDocuments({ 'trigger.documentKey._id': ids.zeroTotal })).toBe(0);
  });

  it('dead-letters refunds during an outage, and a retry after it ends refunds the payment', async () => {
    // The outage is database-wide: let every other order finish before it starts.
    for (const name of Object.keys(orders)) if (name !== 'zeroTotal') await finishedSaga(name);
    await db.collection<{ _id: string }>('outages').insertOne({ _id: 'refund-payment' });
    const { insertedId } = await db
      .collection('orders')
      .insertOne(order({ simulate: { failAt: 'calculate-shipping' } }));
    ids.duringOutage = insertedId;
    const failed = await finishedSaga('duringOutage');
    expect(failed.status).toBe('failed');
    expect(failed.steps[0]?.compensation).toMatchObject({ status: 'failed', attempts: 3 });
    expect(failed.steps[0]?.compensation?.error?.message).toContain(
      "refund-payment is unavailable: outages holds { _id: 'refund-payment' }",
    );
    expect(await effect('payments', failed._id, 'process-payment')).toMatchObject({ status: 'captured' });
    const deadLetterOf = async () =>
      (await runtime.operations.listDeadLetters()).find((entry) => entry.sagaId === failed._id);
    await expect.poll(deadLetterOf).toBeDefined();
    const deadLetter = await deadLetterOf();

    await db.collection<{ _id: string }>('outages').deleteOne({ _id: 'refund-payment' });
    await runtime.operations.retryDeadLetter(deadLetter?.id ?? '');
    const compensated = await finishedSaga('duringOutage');
    expect(compensated.status).toBe('compensated');
    expect(await effect('payments', failed._id, 'process-payment')).toMatchObject({ status: 'refunded' });
  });
});
