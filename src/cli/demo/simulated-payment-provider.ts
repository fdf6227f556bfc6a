// The demo's payment provider: follows the `payment_intents` the order-payment saga opens and, for the demo's
// test cards, writes its answer into `provider_payments` after a random delay: `captured`, `declined`, or
// nothing at all. The saga waits for those documents; nothing of this file runs inside it.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChangeStream, ChangeStreamInsertDocument, Collection, Document, ResumeToken } from 'mongodb';
import type { SagaLogger } from '../../logging/saga-logger.js';
import { answerFor } from '../../../sagas/order-payment/demo-checkouts.js';
import { INTENT_CREATED } from '../../../sagas/order-payment/services.js';

const REOPEN_DELAY_MS = 1_000;
const DUPLICATE_KEY = 11000;

export interface AnswerDelays {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Between half a second and five: long enough to see checkouts waiting, short against the payment timeout. */
export const DEFAULT_ANSWER_DELAYS: AnswerDelays = { minMs: 500, maxMs: 5_000 };

export interface PlannedAnswer {
  readonly status: 'captured' | 'declined';
  readonly delayMs: number;
}

/** What the provider does with a new intent: answer after `delayMs`, or (undefined) never. */
export function planAnswer(
  intent: Document,
  random: () => number,
  delays: AnswerDelays = DEFAULT_ANSWER_DELAYS,
): PlannedAnswer | undefined {
  if (intent.status !== INTENT_CREATED) return undefined;
  const answer = answerFor(intent.paymentMethod);
  if (answer === undefined || answer === 'never') return undefined;
  return { status: answer, delayMs: Math.round(delays.minMs + random() * (delays.maxMs - delays.minMs)) };
}

/** The provider's id of a payment: derived from the intent, so a replayed intent gets the same one. */
export function providerRefOf(intentId: unknown): string {
  return `psp-${createHash('sha256').update(String(intentId)).digest('hex').slice(0, 12)}`;
}

export interface SimulatedPaymentProviderOptions {
  readonly intents: Collection<Document>;
  readonly payments: Collection<Document>;
  readonly logger: SagaLogger;
  /** Draws the delays; default Math.random. */
  readonly random?: () => number;
  readonly delays?: AnswerDelays;
}

export class SimulatedPaymentProvider {
  readonly #options: SimulatedPaymentProviderOptions;
  readonly #random: () => number;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #writes = new Set<Promise<void>>();
  readonly #stopController = new AbortController();
  #stream: ChangeStream<Document, ChangeStreamInsertDocument> | null = null;
  #resumeToken: ResumeToken = null;
  #running: Promise<void> = Promise.resolve();
  #answered = 0;

  constructor(options: SimulatedPaymentProviderOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  /** Answers written so far. */
  get answered(): number {
    return this.#answered;
  }

  /** Answers planned and not yet written. */
  get pending(): number {
    return this.#timers.size + this.#writes.size;
  }

  /** Resolves once the change stream is open: every intent inserted from then on is seen. */
  async start(): Promise<void> {
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    this.#running = this.#follow(opened);
    await open;
  }

  async #follow(opened: () => void): Promise<void> {
    const signal = this.#stopController.signal;
    while (!signal.aborted) {
      try {
        const stream = this.#options.intents.watch<Document, ChangeStreamInsertDocument>(
          // The saga's ledger upserts its intents: a new one is an insert, a retried attempt changes nothing.
          [{ $match: { operationType: 'insert', 'fullDocument.status': INTENT_CREATED } }],
          this.#resumeToken === null ? {} : { resumeAfter: this.#resumeToken },
        );
        this.#stream = stream;
        // The driver opens the cursor lazily; one round trip here makes "started" mean "watching".
        const first = await stream.tryNext();
        opened();
        if (first) this.#onIntent(first);
        for await (const change of stream) {
          if (signal.aborted) break;
          this.#onIntent(change);
        }
      } catch (error) {
        if (signal.aborted) break;
        this.#options.logger.warn({ err: error }, 'payment intents change stream failed; reopening');
        await sleep(REOPEN_DELAY_MS, undefined, { signal }).catch(() => undefined);
      } finally {
        await this.#stream?.close().catch(() => undefined);
        this.#stream = null;
      }
    }
    opened();
  }

  #onIntent(change: ChangeStreamInsertDocument): void {
    this.#resumeToken = change._id;
    const intent = change.fullDocument;
    const plan = planAnswer(intent, this.#random, this.#options.delays);
    if (plan === undefined) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const write = this.#answer(intent, plan.status).finally(() => this.#writes.delete(write));
      this.#writes.add(write);
    }, plan.delayMs);
    this.#timers.add(timer);
  }

  async #answer(intent: Document, status: PlannedAnswer['status']): Promise<void> {
    try {
      await this.#options.payments.insertOne({
        // One answer per intent: a replayed intent event finds it and writes nothing.
        _id: intent._id as never,
        orderId: intent.orderId as unknown,
        paymentIntentId: intent._id as unknown,
        status,
        providerRef: providerRefOf(intent._id),
        amount: intent.amount as unknown,
        currency: intent.currency as unknown,
        answeredAt: new Date(),
      });
      this.#answered += 1;
    } catch (error) {
      if ((error as { code?: unknown }).code === DUPLICATE_KEY) return;
      this.#options.logger.warn(
        { err: error, intent: String(intent._id) },
        'writing a provider payment failed',
      );
    }
  }

  /** Stops following intents; answers not yet due are dropped, those being written are awaited. */
  async stop(): Promise<void> {
    this.#stopController.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await this.#stream?.close().catch(() => undefined);
    await this.#running;
    await Promise.all([...this.#writes]);
  }
}
