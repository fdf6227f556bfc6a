// The saga the benchmark runs: four no-op steps started by inserts into `bench_orders`, so every figure measures
// the orchestrator (trigger, MongoDB transitions, BullMQ hops) and nothing else.
import { z } from 'zod';
import { SagaRegistry, defineSaga } from '../src/index.js';

export const BENCH_SAGA = 'bench-order';
export const BENCH_ORDERS = 'bench_orders';

const noop = (): Promise<null> => Promise.resolve(null);

export const benchOrder = defineSaga({
  name: BENCH_SAGA,
  trigger: { collection: BENCH_ORDERS, on: ['insert'] },
  // insertedAt (epoch ms, set by the bench when it inserts) lets the bench measure latencies from the saga.
  input: z.object({ _id: z.unknown(), seq: z.number(), insertedAt: z.number() }),
  timeout: '10m',
})
  .step({ name: 'step-1', run: noop })
  .step({ name: 'step-2', run: noop })
  .step({ name: 'step-3', run: noop })
  .step({ name: 'step-4', run: noop })
  .build();

export const BENCH_WAIT_SAGA = 'bench-wait';
export const BENCH_PAYMENTS = 'bench_payments';

/**
 * A saga that waits for its payment, then runs one no-op step: the wait phase stores its waiting instances up
 * front (bench/waiting-sagas.ts) and measures how fast payments written at a steady rate resume them.
 */
export const benchWait = defineSaga({
  name: BENCH_WAIT_SAGA,
  input: z.object({ orderId: z.string() }),
  timeout: '1h',
})
  .waitFor({
    name: 'paid',
    collection: BENCH_PAYMENTS,
    on: ['insert'],
    match: (ctx) => ({ orderId: ctx.input.orderId }),
  })
  .step({ name: 'after', run: noop })
  .build();

export default new SagaRegistry([benchOrder, benchWait]);
