// The demo's simulated payment provider against a real MongoDB: it follows the payment intents the saga's ledger
// upserts and answers the test cards after their delay, captured or declined, and never the others.
import type { Db, MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EffectLedger, type EffectRecord } from '../../../sagas/order-fulfillment/services.js';
import { INTENT_CREATED } from '../../../sagas/order-payment/services.js';
import { SimulatedPaymentProvider, providerRefOf } from '../../../src/cli/demo/simulated-payment-provider.js';
import { connectMongo, uniqueName } from '../helpers.js';

describe('SimulatedPaymentProvider', () => {
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    client = await connectMongo();
    db = client.db(uniqueName('provider'));
  });
  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  it('answers test-card intents after their delay, declines the declined card, and never answers the rest', async () => {
    const intents = new EffectLedger(db.collection<EffectRecord>('payment_intents'));
    const payments = db.collection('provider_payments');
    // random() = 0.5 puts every delay in the middle of 200–400 ms.
    const provider = new SimulatedPaymentProvider({
      intents: db.collection(intents.collection.collectionName),
      payments,
      logger: pino({ level: 'silent' }),
      random: () => 0.5,
      delays: { minMs: 200, maxMs: 400 },
    });
    await provider.start();
    try {
      const open = (key: string, paymentMethod: string) =>
        intents.apply(key, INTENT_CREATED, {
          orderId: `order-${key}`,
          amount: 12,
          currency: 'EUR',
          paymentMethod,
        });
      const [ok, declined] = await Promise.all([
        open('ok', 'test-card-ok'),
        open('declined', 'test-card-declined'),
        open('no-answer', 'test-card-no-answer'),
        open('real-card', 'card'),
      ]);
      // A retried attempt upserts the same intent again: no second answer.
      await open('ok', 'test-card-ok');

      await expect.poll(() => payments.countDocuments(), { timeout: 10_000, interval: 50 }).toBe(2);
      const answers = await payments.find().sort({ _id: 1 }).toArray();
      expect(answers).toEqual([
        expect.objectContaining({
          _id: 'declined',
          orderId: 'order-declined',
          paymentIntentId: 'declined',
          status: 'declined',
          providerRef: providerRefOf('declined'),
          amount: 12,
          currency: 'EUR',
        }),
        expect.objectContaining({
          _id: 'ok',
          orderId: 'order-ok',
          status: 'captured',
          providerRef: providerRefOf('ok'),
        }),
      ]);
      for (const [intent, answer] of [
        [declined, answers[0]],
        [ok, answers[1]],
      ] as const) {
        expect((answer?.answeredAt as Date).getTime() - intent.createdAt.getTime()).toBeGreaterThanOrEqual(
          300,
        );
      }
      // Nothing more is due: the no-answer card and the real card were never scheduled.
      expect(provider.pending).toBe(0);
      expect(provider.answered).toBe(2);
    } finally {
      await provider.stop();
    }
  });

  it('drops the answers not yet due when it stops', async () => {
    const intents = new EffectLedger(db.collection<EffectRecord>('payment_intents_stop'));
    const payments = db.collection('provider_payments_stop');
    const provider = new SimulatedPaymentProvider({
      intents: db.collection(intents.collection.collectionName),
      payments,
      logger: pino({ level: 'silent' }),
      delays: { minMs: 60_000, maxMs: 60_000 },
    });
    await provider.start();
    await intents.apply('later', INTENT_CREATED, { orderId: 'o-later', paymentMethod: 'test-card-ok' });
    await expect.poll(() => provider.pending, { timeout: 10_000, interval: 50 }).toBe(1);
    await provider.stop();
    expect(provider.pending).toBe(0);
    expect(await payments.countDocuments()).toBe(0);
  });
});
