// Inserts chaos checkouts (checkout-mix.ts) at a steady rate and plays the payment provider for them: each planned
// answer is written to `provider_payments` at its time, retried until it lands (MongoDB may be restarting), and a
// `paid-twice` answer is updated once more afterwards, a second matching change event the saga must not take.
import type { Db } from 'mongodb';
import { PROVIDER_PAYMENTS_COLLECTION } from '../../sagas/order-payment/index.js';
import type { Say } from './chaos-cluster.js';
import { sleep } from './chaos-cluster.js';
import { chaosCheckout, type ChaosCheckout } from './checkout-mix.js';
import { insertWithRetry } from './order-feed.js';
import type { SeededRandom } from './seeded-random.js';

const TICK_MS = 500;

export interface CheckoutFeedOptions {
  readonly db: Db;
  readonly random: SeededRandom;
  readonly runId: string;
  /** Checkouts per second. */
  readonly rate: number;
  readonly total: number;
  readonly say: Say;
}

export class CheckoutFeed {
  private inserted = 0;
  private stopped = false;
  private readonly answers: Promise<void>[] = [];

  constructor(private readonly options: CheckoutFeedOptions) {}

  get count(): number {
    return this.inserted;
  }

  /** Inserts every checkout; the provider's answers keep coming after it returns (see `answered`). */
  async run(): Promise<void> {
    const { db, random, runId, rate, total, say } = this.options;
    const begin = Date.now();
    for (let tick = 1; !this.stopped && this.inserted < total; tick += 1) {
      const due = Math.min(total, Math.round((rate * tick * TICK_MS) / 1000));
      const batch: ChaosCheckout[] = [];
      for (let index = this.inserted; index < due; index += 1)
        batch.push(chaosCheckout(index, runId, random));
      if (batch.length > 0) {
        if (!(await insertWithRetry(db, batch, say, () => this.stopped, 'checkouts'))) break;
        this.inserted = due;
        for (const checkout of batch) this.answers.push(this.answer(checkout));
      }
      await sleep(Math.max(0, begin + tick * TICK_MS - Date.now()));
    }
  }

  /** Resolves once every planned answer has been written. */
  async answered(): Promise<void> {
    await Promise.all(this.answers);
  }

  stop(): void {
    this.stopped = true;
  }

  private async answer(checkout: ChaosCheckout): Promise<void> {
    const { kind, answerAfterMs } = checkout.chaos;
    if (answerAfterMs === null) return;
    await sleep(answerAfterMs);
    const answer = {
      orderId: checkout._id,
      status: kind === 'declined' ? 'declined' : 'captured',
      providerRef: `psp-${checkout._id}`,
    };
    await this.write(answer.orderId, { $set: answer });
    if (kind === 'paid-twice') {
      await sleep(500);
      await this.write(answer.orderId, { $set: { settledAt: new Date() } });
    }
  }

  /** One upsert of the provider's document for `orderId`, retried until it lands. */
  private async write(orderId: string, update: Record<string, unknown>): Promise<void> {
    const payments = this.options.db.collection<{ _id: string }>(PROVIDER_PAYMENTS_COLLECTION);
    for (let attempt = 1; !this.stopped; attempt += 1) {
      try {
        await payments.updateOne({ _id: `answer-${orderId}` }, update, { upsert: true });
        return;
      } catch (error) {
        if (attempt % 10 === 1)
          this.options.say(`provider answer failed (${(error as Error).message}); retrying`);
        await sleep(500);
      }
    }
  }
}
