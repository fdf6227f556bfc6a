// The order-payment saga on the real engine through the testing kit: the wait for the provider's answer ended by
// a plain insert into provider_payments (captured, declined), or by its timeout; and the undo of a captured
// payment when a later step fails for good.
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry, setup } from '../../../sagas/index.js';
import { EffectLedger } from '../../../sagas/order-fulfillment/services.js';
import { TerminalError } from '../../../src/index.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { createTestEnvironment, type TestEnvironment } from '../../../src/testing/index.js';
import { mongoUrl, redisUrl } from '../helpers.js';

// 1/20: the 60 s payment timeout becomes 3 s, step timeouts 250–750 ms, the 5 min deadline 15 s.
const TIME_SCALE = 0.05;
/** The checkout whose courier booking fails for good, after its payment was captured. */
const COURIER_DOWN = 'courier-down';

/** A courier service that refuses one checkout, as an outage of the courier would. */
class CourierDownFor extends EffectLedger {
  override apply(key: string, status: string, fields: Record<string, unknown>) {
    if (fields.orderId === COURIER_DOWN)
      throw new TerminalError('no courier available', { code: 'NO_COURIER' });
    return super.apply(key, status, fields);
  }
}

let env: TestEnvironment;
let db: Db;

function checkout(id?: string): Record<string, unknown> {
  return {
    ...(id === undefined ? {} : { _id: id }),
    customer: { id: 'c-9', email: 'lin@example.com' },
    items: [
      { sku: 'mug-blue', quantity: 2 },
      { sku: 'tea-earl-grey', quantity: 1 },
    ],
    total_amount: 31.5,
    currency: 'EUR',
  };
}

async function started(id: string): Promise<string> {
  return (await env.client.start('order-payment', checkout(id), { key: id })).id;
}

const sagaOf = (sagaId: string) => db.collection<SagaDocument>('sagas').findOne({ _id: sagaId });

/** Polls until the saga stands in its payment wait. */
async function waitingForPayment(sagaId: string): Promise<SagaDocument> {
  await expect
    .poll(async () => (await sagaOf(sagaId))?.steps[1]?.status, { timeout: 10_000, interval: 50 })
    .toBe('waiting');
  return (await sagaOf(sagaId))!;
}

function effectOf(collection: string, sagaId: string, step: string) {
  return db.collection(collection).findOne({ _id: `${sagaId}:${step}` as never });
}

beforeAll(async () => {
  env = await createTestEnvironment({
    sagas: registry,
    setup: (context) => {
      const services = setup(context);
      return {
        ...services,
        courierBookings: new CourierDownFor(services.courierBookings.collection),
      };
    },
    timeScale: TIME_SCALE,
    mongodbUrl: mongoUrl(),
    redisUrl: redisUrl(),
  });
  db = env.db;
});

afterAll(async () => {
  await env?.stop();
});

describe('order-payment saga', { timeout: 30_000 }, () => {
  it('waits for the payment of an inserted checkout and completes once an insert says it was captured', async () => {
    const { insertedId } = await db
      .collection('checkouts')
      .insertOne({ status: 'awaiting-payment', ...checkout() });
    const orderId = insertedId.toHexString();
    let sagaId: string | undefined;
    await expect
      .poll(async () => (sagaId = (await env.client.findByKey('order-payment', orderId))?._id))
      .toBeDefined();

    const waiting = await waitingForPayment(sagaId!);
    expect(waiting.status).toBe('running');
    expect(waiting.waiting).toMatchObject({ step: 1, ns: `${db.databaseName}.provider_payments` });
    expect(await effectOf('payment_intents', sagaId!, 'create-payment-intent')).toMatchObject({
      status: 'created',
      orderId,
      amount: 31.5,
      currency: 'EUR',
      paymentMethod: 'card',
    });

    // The provider's answer, as the README's walkthrough writes it by hand.
    await db
      .collection('provider_payments')
      .insertOne({ orderId, status: 'captured', providerRef: 'psp-by-hand' });
    const end = await env.client.handle(sagaId!).result({ timeout: '20s' });

    expect(end.status).toBe('completed');
    expect(Object.keys(end.outputs)).toEqual([
      'create-payment-intent',
      'payment-answered',
      'check-payment',
      'reserve-stock',
      'book-courier',
      'confirm',
    ]);
    expect(end.outputs['payment-answered']).toMatchObject({
      orderId,
      status: 'captured',
      providerRef: 'psp-by-hand',
    });
    expect(end.outputs['reserve-stock']).toMatchObject({ units: 3 });
    expect(await effectOf('stock_reservations', end.sagaId, 'reserve-stock')).toMatchObject({
      status: 'reserved',
    });
    expect(await effectOf('courier_bookings', end.sagaId, 'book-courier')).toMatchObject({
      status: 'booked',
      parcels: 2,
    });
    expect(await effectOf('checkout_confirmations', end.sagaId, 'confirm')).toMatchObject({
      status: 'sent',
      to: 'lin@example.com',
      text: expect.stringContaining('psp-by-hand') as unknown,
    });
    expect(await db.collection('refunds').countDocuments({ orderId })).toBe(0);
  });

  it('times out a payment that never comes and cancels the payment intent', async () => {
    const sagaId = await started('never-paid');
    const waiting = await waitingForPayment(sagaId);
    // The scaled 60 s payment timeout.
    expect(waiting.waiting!.timeoutAt!.getTime() - waiting.waiting!.since.getTime()).toBe(3_000);

    const end = await env.client.handle(sagaId).result({ timeout: '20s' });

    expect(end.status).toBe('compensated');
    expect(end.error).toMatchObject({ code: 'WAIT_TIMEOUT' });
    const saga = (await sagaOf(sagaId))!;
    expect(saga.steps.map((step) => [step.name, step.status])).toEqual([
      ['create-payment-intent', 'completed'],
      ['payment-answered', 'failed'],
      ['check-payment', 'pending'],
      ['reserve-stock', 'pending'],
      ['book-courier', 'pending'],
      ['confirm', 'pending'],
    ]);
    expect(await effectOf('payment_intents', sagaId, 'create-payment-intent')).toMatchObject({
      status: 'cancelled',
      orderId: 'never-paid',
    });
    expect(await db.collection('stock_reservations').countDocuments({ orderId: 'never-paid' })).toBe(0);
  });

  it('fails check-payment for good on a declined payment and cancels the payment intent, refunding nothing', async () => {
    const sagaId = await started('declined');
    await waitingForPayment(sagaId);
    await db
      .collection('provider_payments')
      .insertOne({ orderId: 'declined', status: 'declined', providerRef: 'psp-declined' });

    const end = await env.client.handle(sagaId).result({ timeout: '20s' });

    expect(end.status).toBe('compensated');
    expect(end.error).toMatchObject({ code: 'PAYMENT_DECLINED' });
    expect(end.error?.message).toContain('the provider declined payment psp-declined');
    const saga = (await sagaOf(sagaId))!;
    // Declined is final: one attempt, no retries.
    expect(saga.steps[2]).toMatchObject({ name: 'check-payment', status: 'failed', attempts: 1 });
    expect(await effectOf('payment_intents', sagaId, 'create-payment-intent')).toMatchObject({
      status: 'cancelled',
    });
    expect(await db.collection('refunds').countDocuments({ orderId: 'declined' })).toBe(0);
    expect(await db.collection('stock_reservations').countDocuments({ orderId: 'declined' })).toBe(0);
  });

  it('refunds a captured payment, releases the stock and cancels the intent when a later step fails for good', async () => {
    const sagaId = await started(COURIER_DOWN);
    await waitingForPayment(sagaId);
    await db
      .collection('provider_payments')
      .insertOne({ orderId: COURIER_DOWN, status: 'captured', providerRef: 'psp-refund-me' });

    const end = await env.client.handle(sagaId).result({ timeout: '20s' });

    expect(end.status).toBe('compensated');
    expect(end.error).toMatchObject({ code: 'NO_COURIER' });
    expect(await effectOf('stock_reservations', sagaId, 'reserve-stock')).toMatchObject({
      status: 'released',
    });
    expect(await db.collection('refunds').findOne({ orderId: COURIER_DOWN })).toMatchObject({
      _id: `${sagaId}:payment-answered:compensate`,
      status: 'refunded',
      providerRef: 'psp-refund-me',
      amount: 31.5,
    });
    expect(await effectOf('payment_intents', sagaId, 'create-payment-intent')).toMatchObject({
      status: 'cancelled',
    });
  });
});
