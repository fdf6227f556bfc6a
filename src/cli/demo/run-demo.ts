// The demo as dev --demo and `sagastream demo` run it: a stream of demo orders plus live progress.
import type { Writable } from 'node:stream';
import type { Db } from 'mongodb';
import type { SagaLogger } from '../../logging/saga-logger.js';
import { orderFulfillment } from '../../../sagas/order-fulfillment/index.js';
import { DemoOrderStream } from './demo-order-stream.js';
import { SagaProgress } from './saga-progress.js';

export interface RunDemoOptions {
  readonly db: Db;
  readonly ordersPerSecond: number;
  readonly count?: number;
  readonly output: Writable & { isTTY?: boolean; columns?: number };
  readonly logger: SagaLogger;
  readonly progressIntervalMs?: number;
}

export interface RunningDemo {
  /** The collection the orders go to, as `db.collection`. */
  readonly target: string;
  /** Resolves once `count` orders are in (never without a count). */
  readonly finished: Promise<void>;
  stop(): Promise<void>;
}

export function runDemo(options: RunDemoOptions): RunningDemo {
  const { trigger } = orderFulfillment;
  if (trigger === undefined)
    throw new Error('the demo saga order-fulfillment has no trigger to insert orders for');
  const ordersDb = trigger.database === undefined ? options.db : options.db.client.db(trigger.database);
  const stream = new DemoOrderStream({
    orders: ordersDb.collection(trigger.collection),
    ordersPerSecond: options.ordersPerSecond,
    ...(options.count === undefined ? {} : { count: options.count }),
    logger: options.logger,
  });
  const progress = new SagaProgress({
    sagas: options.db.collection('sagas'),
    saga: orderFulfillment.name,
    output: options.output,
    inserted: () => stream.inserted,
    logger: options.logger,
    ...(options.progressIntervalMs === undefined ? {} : { intervalMs: options.progressIntervalMs }),
  });
  stream.start();
  progress.start();
  return {
    target: `${ordersDb.databaseName}.${trigger.collection}`,
    finished: stream.finished,
    async stop() {
      await stream.stop();
      await progress.render();
      await progress.stop();
    },
  };
}
