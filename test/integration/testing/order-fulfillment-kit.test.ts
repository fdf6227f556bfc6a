// The testing kit runs the order-fulfillment saga as a user's tests would: sagas started with the client (and one
// by an insert), awaited with result(), every outcome reached with the saga's durations scaled by timeScale.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../../sagas/index.js';
import { createOrderServices } from '../../../sagas/order-fulfillment/services.js';
import { createTestEnvironment, type TestEnvironment } from '../../../src/testing/index.js';
import { mongoUrl, redisUrl } from '../helpers.js';

// 1/20: 30 s step timeouts become 1.5 s, 1 s backoffs 50 ms, the 5 min deadline 15 s.
const TIME_SCALE = 0.05;

let env: TestEnvironment;

function order(id: string | undefined, simulate?: Record<string, unknown>): Record<string, unknown> {
  return {
    ...(id === undefined ? {} : { _id: id }),
    customer: { id: 'c-7', email: 'grace@example.com' },
    items: [{ sku: 'lamp-oak', quantity: 2 }],
    total_amount: 59.9,
    currency: 'EUR',
    ...(simulate ? { simulate } : {}),
  };
}

function start(id: string, simulate?: Record<string, unknown>) {
  return env.client
    .start('order-fulfillment', order(id, simulate), { key: id })
    .then((saga) => saga.result({ timeout: '20s' }));
}

function effect(collection: string, sagaId: string, step: string) {
  return env.db.collection(collection).findOne({ _id: `${sagaId}:${step}` as never });
}

beforeAll(async () => {
  env = await createTestEnvironment({
    sagas: registry,
    setup: ({ db }) => createOrderServices(db),
    timeScale: TIME_SCALE,
    mongodbUrl: mongoUrl(),
    redisUrl: redisUrl(),
  });
});

afterAll(async () => {
  await env?.stop();
});

describe('createTestEnvironment with the order-fulfillment saga', () => {
  it('runs the saga with every duration scaled by timeScale', async () => {
    const scaled = env.registry.get('order-fulfillment');
    expect(scaled.steps.map((step) => step.timeoutMs)).toEqual([1_500, 750, 500, 250]);
    expect(scaled.steps[0]?.retry.backoff.delayMs).toBe(50);
    expect(scaled.compensation.timeoutMs).toBe(3_000);
    // The stored saga got the scaled deadline: 5 min × 0.05 from its start.
    const saga = await env.client.start('order-fulfillment', order('deadline'), { key: 'deadline' });
    const stored = await saga.status();
    expect(stored!.deadline.getTime() - stored!.createdAt.getTime()).toBe(15_000);
    await saga.result({ timeout: '20s' });
  });

  it('completes an order, result() giving every step output', async () => {
    const end = await start('completes');
    expect(end.status).toBe('completed');
    expect(end.error).toBeUndefined();
    expect(Object.keys(end.outputs)).toEqual([
      'process-payment',
      'reserve-inventory',
      'calculate-shipping',
      'send-confirmation',
    ]);
    expect(end.outputs['process-payment']).toMatchObject({ amount: 59.9, currency: 'EUR' });
    expect(end.outputs['reserve-inventory']).toMatchObject({ units: 2 });
    expect(await effect('payments', end.sagaId, 'process-payment')).toMatchObject({
      status: 'captured',
      orderId: 'completes',
    });
    expect(await effect('notifications', end.sagaId, 'send-confirmation')).toMatchObject({
      status: 'sent',
      to: 'grace@example.com',
    });
  });

  it('retries a failing step after its scaled backoff and completes (failAt + failTimes)', async () => {
    const end = await start('retried', { failAt: 'reserve-inventory', failTimes: 2 });
    expect(end.status).toBe('completed');
    const saga = await env.client.handle(end.sagaId).status();
    expect(saga?.steps[1]).toMatchObject({ name: 'reserve-inventory', status: 'completed', attempts: 3 });
    expect(await env.db.collection('reservations').countDocuments({ orderId: 'retried' })).toBe(1);
  });

  it('times out a hanging step at its scaled timeout, retries it and completes (hangAt + failTimes)', async () => {
    const end = await start('timed-out', { hangAt: 'send-confirmation', failTimes: 1 });
    expect(end.status).toBe('completed');
    const saga = await env.client.handle(end.sagaId).status();
    expect(saga?.steps[3]).toMatchObject({ name: 'send-confirmation', status: 'completed', attempts: 2 });
  });

  it('compensates the completed steps when a step fails for good (failAt)', async () => {
    const end = await start('compensated', { failAt: 'calculate-shipping' });
    expect(end.status).toBe('compensated');
    expect(end.error?.message).toContain('simulated failure of calculate-shipping');
    expect(Object.keys(end.outputs)).toEqual(['process-payment', 'reserve-inventory']);
    expect(await effect('payments', end.sagaId, 'process-payment')).toMatchObject({ status: 'refunded' });
    expect(await effect('reservations', end.sagaId, 'reserve-inventory')).toMatchObject({
      status: 'released',
    });
  });

  it('dead-letters a saga whose compensation keeps failing (failCompensationAt)', async () => {
    const end = await start('dead-lettered', {
      failAt: 'calculate-shipping',
      failCompensationAt: 'process-payment',
    });
    expect(end.status).toBe('failed');
    expect(end.error?.message).toContain('simulated failure compensating process-payment');
    expect(await effect('payments', end.sagaId, 'process-payment')).toMatchObject({ status: 'captured' });
    expect(await effect('reservations', end.sagaId, 'reserve-inventory')).toMatchObject({
      status: 'released',
    });
    const { items: deadLetters } = await env.client.deadLetters();
    expect(deadLetters.map((entry) => entry.sagaId)).toContain(end.sagaId);
  });

  it('starts a saga for an order inserted into the environment database (trigger)', async () => {
    const { insertedId } = await env.db
      .collection('orders')
      .insertOne({ status: 'pending', ...order(undefined, { failAt: 'process-payment', failTimes: 1 }) });
    let sagaId: string | undefined;
    await expect
      .poll(
        async () =>
          (sagaId = (await env.client.findByKey('order-fulfillment', insertedId.toHexString()))?._id),
      )
      .toBeDefined();
    const end = await env.client.handle(sagaId!).result({ timeout: '20s' });
    expect(end.status).toBe('completed');
    expect(await effect('payments', end.sagaId, 'process-payment')).toMatchObject({
      orderId: insertedId.toHexString(),
    });
  });
});
