// The demo as dev --demo and `sagastream demo` run it: a stream of demo orders for order-fulfillment, one of
// demo checkouts for order-payment with the simulated payment provider answering them, and live progress.
import type { Writable } from 'node:stream';
import type { Db } from 'mongodb';
import type { SagaLogger } from '../../logging/saga-logger.js';
import type { SagaDefinition } from '../../definition/index.js';
import { orderFulfillment } from '../../../sagas/order-fulfillment/index.js';
import { nextDemoCheckout } from '../../../sagas/order-payment/demo-checkouts.js';
import {
  orderPayment,
  PAYMENT_COLLECTIONS,
  PROVIDER_PAYMENTS_COLLECTION,
} from '../../../sagas/order-payment/index.js';
import { DemoOrderStream } from './demo-order-stream.js';
import { SagaProgress, type ProgressRow } from './saga-progress.js';
import { SimulatedPaymentProvider, type AnswerDelays } from './simulated-payment-provider.js';

export interface RunDemoOptions {
  readonly db: Db;
  readonly ordersPerSecond: number;
  /** 0: no checkouts (nor the payment provider). */
  readonly checkoutsPerSecond: number;
  /** Stop after this many orders and this many checkouts. */
  readonly count?: number;
  readonly output: Writable & { isTTY?: boolean; columns?: number };
  readonly logger: SagaLogger;
  readonly progressIntervalMs?: number;
  /** How long the simulated provider takes to answer; default 0.5–5 s. */
  readonly answerDelays?: AnswerDelays;
}

export interface RunningDemo {
  /** The collection the orders go to, as `db.collection`. */
  readonly target: string;
  /** The collection the checkouts go to, as `db.collection`; undefined without checkouts. */
  readonly checkoutsTarget: string | undefined;
  /** Resolves once `count` orders and `count` checkouts are in (never without a count). */
  readonly finished: Promise<void>;
  stop(): Promise<void>;
}

/** The database and collection a demo saga's trigger watches. */
function triggerCollection(db: Db, saga: SagaDefinition) {
  const { trigger } = saga;
  if (trigger === undefined) throw new Error(`the demo saga ${saga.name} has no trigger to insert for`);
  const database = trigger.database === undefined ? db : db.client.db(trigger.database);
  return {
    collection: database.collection(trigger.collection),
    target: `${database.databaseName}.${trigger.collection}`,
  };
}

export async function runDemo(options: RunDemoOptions): Promise<RunningDemo> {
  const { db, count, logger } = options;
  const orders = triggerCollection(db, orderFulfillment);
  const orderStream = new DemoOrderStream({
    collection: orders.collection,
    perSecond: options.ordersPerSecond,
    ...(count === undefined ? {} : { count }),
    logger,
  });
  const rows: ProgressRow[] = [
    { saga: orderFulfillment.name, label: 'orders', inserted: () => orderStream.inserted },
  ];
  const streams = [orderStream];
  let checkoutsTarget: string | undefined;
  let provider: SimulatedPaymentProvider | undefined;
  if (options.checkoutsPerSecond > 0) {
    const checkouts = triggerCollection(db, orderPayment);
    checkoutsTarget = checkouts.target;
    // Watching before the first checkout is in: its payment intent must not slip past the provider.
    provider = new SimulatedPaymentProvider({
      intents: db.collection(PAYMENT_COLLECTIONS.paymentIntents),
      payments: db.collection(PROVIDER_PAYMENTS_COLLECTION),
      logger,
      ...(options.answerDelays === undefined ? {} : { delays: options.answerDelays }),
    });
    await provider.start();
    const checkoutStream = new DemoOrderStream({
      collection: checkouts.collection,
      perSecond: options.checkoutsPerSecond,
      next: (sequence) => nextDemoCheckout(sequence),
      ...(count === undefined ? {} : { count }),
      logger,
    });
    streams.push(checkoutStream);
    rows.push({
      saga: orderPayment.name,
      label: 'checkouts',
      inserted: () => checkoutStream.inserted,
      showWaiting: true,
    });
  }
  const progress = new SagaProgress({
    sagas: db.collection('sagas'),
    rows,
    output: options.output,
    logger,
    ...(options.progressIntervalMs === undefined ? {} : { intervalMs: options.progressIntervalMs }),
  });
  for (const stream of streams) stream.start();
  progress.start();
  return {
    target: orders.target,
    checkoutsTarget,
    finished: Promise.all(streams.map((stream) => stream.finished)).then(() => undefined),
    async stop() {
      await Promise.all(streams.map((stream) => stream.stop()));
      await provider?.stop();
      await progress.render();
      await progress.stop();
    },
  };
}
