// Inserts demo documents (orders, checkouts) at a steady rate until stopped (or until `count` of them), in small
// batches so high rates do not need a timer per document.
import type { Collection, Document } from 'mongodb';
import type { SagaLogger } from '../../logging/saga-logger.js';
import { nextDemoOrder } from '../../../sagas/order-fulfillment/demo-orders.js';

const TICK_MS = 200;

export interface DemoOrderStreamOptions {
  /** Where the documents go: the trigger collection of the saga they start. */
  readonly collection: Collection<Document>;
  readonly perSecond: number;
  /** The document of the stream's `sequence`-th insert; default the order-fulfillment demo's mix. */
  readonly next?: (sequence: number) => Document;
  /** Stop after this many documents; unbounded when absent. */
  readonly count?: number;
  readonly logger: SagaLogger;
}

export class DemoOrderStream {
  #inserted = 0;
  #due = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #finished: () => void = () => undefined;
  /** Resolves when `count` orders are in (never without a count), or after stop(). */
  readonly finished: Promise<void>;

  constructor(private readonly options: DemoOrderStreamOptions) {
    this.finished = new Promise((resolve) => (this.#finished = resolve));
  }

  get inserted(): number {
    return this.#inserted;
  }

  start(): void {
    this.#timer = setInterval(() => {
      // One batch at a time: a slow database delays orders instead of piling up concurrent inserts.
      this.#inFlight = this.#inFlight.then(() => this.#tick());
    }, TICK_MS);
  }

  async #tick(): Promise<void> {
    if (this.#timer === undefined) return;
    this.#due += (this.options.perSecond * TICK_MS) / 1000;
    const remaining = (this.options.count ?? Infinity) - this.#inserted;
    const batch = Math.min(Math.floor(this.#due), remaining);
    if (batch <= 0) return;
    this.#due -= batch;
    const next = this.options.next ?? ((sequence: number) => nextDemoOrder(sequence).document);
    const documents = Array.from({ length: batch }, (_, index) => next(this.#inserted + index));
    try {
      await this.options.collection.insertMany(documents, { ordered: false });
      this.#inserted += batch;
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        `inserting demo documents into ${this.options.collection.collectionName} failed; trying again on the next tick`,
      );
    }
    if (this.#inserted >= (this.options.count ?? Infinity)) {
      // Not stop(): that waits for the tick chain this very tick belongs to.
      this.#clearTimer();
      this.#finished();
    }
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async stop(): Promise<void> {
    this.#clearTimer();
    await this.#inFlight;
    this.#finished();
  }
}
