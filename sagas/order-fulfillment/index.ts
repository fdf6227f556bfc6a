// The order-fulfillment saga: a pending order with a positive total is paid, its stock reserved, its shipment
// booked and its customer told; a step that fails for good undoes the earlier ones (refund, release, cancel).
import { z } from 'zod';
import { defineSaga } from '../../src/index.js';
import { orderSchema, type OrderStep } from './order-schema.js';
import type { OrderServices } from './services.js';
import { simulateCompensation, simulateStep } from './simulate.js';

const retry = { attempts: 3, backoff: { type: 'exponential', delay: '1s' } } as const;

/** Shipping is a flat fee plus a little per item; free from 100 in the order's currency. */
export function shippingCost(totalAmount: number, itemCount: number): number {
  return totalAmount >= 100 ? 0 : Math.round((4.9 + 0.5 * itemCount) * 100) / 100;
}

export const orderFulfillment = defineSaga({
  name: 'order-fulfillment',
  version: 1,
  trigger: {
    collection: 'orders',
    on: ['insert'],
    // `$not: { $lte: 0 }` instead of `$gt: 0`: orders with a zero or negative total are skipped, but one whose
    // total is not a number at all still reaches the input schema and is visibly `rejected`.
    filter: { status: 'pending', total_amount: { $not: { $lte: 0 } } },
  },
  input: orderSchema,
  // The sagas module's setup returns them (`createOrderServices(db)`): `ctx.services` in every step.
  services: {} as OrderServices,
  timeout: '5m',
  defaults: { retry },
  compensation: { timeout: '60s', retry },
})
  .step({
    name: 'process-payment',
    timeout: '30s',
    output: z.object({ paymentId: z.string(), amount: z.number(), currency: z.string() }),
    run: async (ctx) => {
      await simulateStep(ctx, 'process-payment');
      const { payments } = ctx.services;
      const { orderId, customer, total_amount: amount, currency } = ctx.input;
      await payments.apply(ctx.idempotencyKey, 'captured', {
        orderId,
        customerId: customer.id,
        amount,
        currency,
      });
      return { paymentId: ctx.idempotencyKey, amount, currency };
    },
    compensate: async (ctx) => {
      await simulateCompensation(ctx, 'process-payment');
      const { payments, outages } = ctx.services;
      await outages.assertAvailable('refund-payment');
      await payments.undo(ctx.forwardIdempotencyKey, 'captured', 'refunded', {
        orderId: ctx.input.orderId,
        refundKey: ctx.idempotencyKey,
        reason: ctx.reason,
      });
    },
  })
  .step({
    name: 'reserve-inventory',
    timeout: '15s',
    output: z.object({ reservationId: z.string(), units: z.number() }),
    run: async (ctx) => {
      await simulateStep(ctx, 'reserve-inventory');
      const { reservations } = ctx.services;
      const { orderId, items } = ctx.input;
      await reservations.apply(ctx.idempotencyKey, 'reserved', { orderId, items });
      return {
        reservationId: ctx.idempotencyKey,
        units: items.reduce((sum, item) => sum + item.quantity, 0),
      };
    },
    compensate: async (ctx) => {
      await simulateCompensation(ctx, 'reserve-inventory');
      const { reservations, outages } = ctx.services;
      await outages.assertAvailable('release-reservation');
      await reservations.undo(ctx.forwardIdempotencyKey, 'reserved', 'released', {
        orderId: ctx.input.orderId,
        releaseKey: ctx.idempotencyKey,
        reason: ctx.reason,
      });
    },
  })
  .step({
    name: 'calculate-shipping',
    timeout: '10s',
    output: z.object({ shipmentId: z.string(), cost: z.number() }),
    run: async (ctx) => {
      await simulateStep(ctx, 'calculate-shipping');
      const { shipments } = ctx.services;
      const cost = shippingCost(ctx.input.total_amount, ctx.outputs['reserve-inventory'].units);
      await shipments.apply(ctx.idempotencyKey, 'booked', { orderId: ctx.input.orderId, cost });
      return { shipmentId: ctx.idempotencyKey, cost };
    },
    compensate: async (ctx) => {
      await simulateCompensation(ctx, 'calculate-shipping');
      const { shipments, outages } = ctx.services;
      await outages.assertAvailable('cancel-shipping');
      await shipments.undo(ctx.forwardIdempotencyKey, 'booked', 'cancelled', {
        orderId: ctx.input.orderId,
        cancelKey: ctx.idempotencyKey,
        reason: ctx.reason,
      });
    },
  })
  .step({
    name: 'send-confirmation',
    timeout: '5s',
    output: z.object({ notificationId: z.string() }),
    run: async (ctx) => {
      await simulateStep(ctx, 'send-confirmation');
      const { notifications } = ctx.services;
      const payment = ctx.outputs['process-payment'];
      await notifications.apply(ctx.idempotencyKey, 'sent', {
        orderId: ctx.input.orderId,
        to: ctx.input.customer.email ?? ctx.input.customer.id,
        text: `Order ${ctx.input.orderId}: ${payment.amount} ${payment.currency} paid, shipping ${ctx.outputs['calculate-shipping'].cost}.`,
      });
      return { notificationId: ctx.idempotencyKey };
    },
  })
  .build();

export type { OrderStep };
export { ORDER_STEPS, COMPENSATED_STEPS, orderSchema, type Order, type Simulate } from './order-schema.js';
export { createOrderServices, SERVICE_COLLECTIONS, PROCESS_MARKER, type OrderServices } from './services.js';
export { COMPENSATION_NAMES, OUTAGES_COLLECTION } from './outages.js';
