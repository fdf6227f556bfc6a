// The order-payment saga: a checkout opens a payment intent and waits for the payment provider's answer (a
// `provider_payments` document, no code of the provider's in the saga); a captured payment is accepted, its
// stock reserved and a courier booked, and the customer told. A declined payment, or none before the payment
// timeout, undoes what was done: the intent is cancelled, a captured payment refunded.
import { z } from 'zod';
import { TerminalError, defineSaga, type DurationInput } from '../../src/index.js';
import { checkoutSchema } from './checkout-schema.js';
import { INTENT_CREATED, PROVIDER_PAYMENTS_COLLECTION, type PaymentServices } from './services.js';

const retry = { attempts: 3, backoff: { type: 'exponential', delay: '1s' } } as const;

/** What ends the payment wait: the provider's answer for the checkout. */
const providerAnswerSchema = z
  .object({
    status: z.enum(['captured', 'declined']),
    providerRef: z.string({ error: 'providerRef must be a string: the provider’s id of the payment' }),
  })
  .passthrough();

export const orderPaymentOptionsSchema = z.strictObject({
  /**
   * How long a checkout waits for the provider's answer before it is cancelled. Short, so that the demo shows
   * timeouts compensating within a minute; a shop would wait hours. Changing it changes the version's shape.
   */
  paymentTimeout: z.custom<DurationInput>().default('60s'),
});

export type OrderPaymentOptions = z.input<typeof orderPaymentOptionsSchema>;

/** The saga with its knobs set: `defineOrderPayment({ paymentTimeout: '2h' })`. */
export function defineOrderPayment(options: OrderPaymentOptions = {}) {
  const { paymentTimeout } = orderPaymentOptionsSchema.parse(options);
  return (
    defineSaga({
      name: 'order-payment',
      version: 1,
      trigger: {
        collection: 'checkouts',
        on: ['insert'],
        // Its own collection and status: order-fulfillment's `orders` trigger never sees a checkout.
        filter: { status: 'awaiting-payment' },
      },
      input: checkoutSchema,
      // The sagas module's setup returns them (`createPaymentServices(db)`): `ctx.services` in every step.
      services: {} as PaymentServices,
      timeout: '5m',
      defaults: { retry },
      compensation: { timeout: '60s', retry },
    })
      .step({
        name: 'create-payment-intent',
        timeout: '10s',
        output: z.object({ paymentIntentId: z.string(), amount: z.number(), currency: z.string() }),
        run: async (ctx) => {
          const { orderId, total_amount: amount, currency, paymentMethod, customer } = ctx.input;
          await ctx.services.paymentIntents.apply(ctx.idempotencyKey, INTENT_CREATED, {
            orderId,
            customerId: customer.id,
            amount,
            currency,
            paymentMethod,
          });
          return { paymentIntentId: ctx.idempotencyKey, amount, currency };
        },
        compensate: async (ctx) => {
          await ctx.services.paymentIntents.undo(ctx.forwardIdempotencyKey, INTENT_CREATED, 'cancelled', {
            orderId: ctx.input.orderId,
            cancelKey: ctx.idempotencyKey,
            reason: ctx.reason,
          });
        },
      })
      .waitFor({
        name: 'payment-answered',
        collection: PROVIDER_PAYMENTS_COLLECTION,
        // `orderId` is the equality field the wait is looked up by; a decline ends the wait as well as a capture,
        // so that check-payment can fail at once instead of waiting out the timeout.
        match: (ctx) => ({ orderId: ctx.input.orderId, status: { $in: ['captured', 'declined'] } }),
        timeout: paymentTimeout,
        output: providerAnswerSchema,
        compensate: async (ctx) => {
          // A declined payment took no money; a captured one is given back.
          if (ctx.output?.status !== 'captured') return;
          await ctx.services.refunds.apply(ctx.idempotencyKey, 'refunded', {
            orderId: ctx.input.orderId,
            providerRef: ctx.output.providerRef,
            amount: ctx.outputs['create-payment-intent'].amount,
            reason: ctx.reason,
          });
        },
      })
      .step({
        name: 'check-payment',
        timeout: '5s',
        output: z.object({ providerRef: z.string() }),
        run: (ctx) => {
          const answer = ctx.outputs['payment-answered'];
          if (answer.status === 'declined') {
            // Retrying cannot change the provider's answer: compensate now.
            throw new TerminalError(`the provider declined payment ${answer.providerRef}`, {
              code: 'PAYMENT_DECLINED',
            });
          }
          return Promise.resolve({ providerRef: answer.providerRef });
        },
      })
      // Stock and courier do not depend on each other: they run at the same time, each as its own job.
      .parallel('prepare', (p) =>
        p
          .step({
            name: 'reserve-stock',
            timeout: '15s',
            output: z.object({ reservationId: z.string(), units: z.number() }),
            run: async (ctx) => {
              const { orderId, items } = ctx.input;
              await ctx.services.stockReservations.apply(ctx.idempotencyKey, 'reserved', { orderId, items });
              return {
                reservationId: ctx.idempotencyKey,
                units: items.reduce((sum, item) => sum + item.quantity, 0),
              };
            },
            compensate: async (ctx) => {
              await ctx.services.stockReservations.undo(ctx.forwardIdempotencyKey, 'reserved', 'released', {
                orderId: ctx.input.orderId,
                releaseKey: ctx.idempotencyKey,
                reason: ctx.reason,
              });
            },
          })
          .step({
            name: 'book-courier',
            timeout: '15s',
            output: z.object({ bookingId: z.string() }),
            run: async (ctx) => {
              const { orderId, customer, items } = ctx.input;
              await ctx.services.courierBookings.apply(ctx.idempotencyKey, 'booked', {
                orderId,
                customerId: customer.id,
                parcels: items.length,
              });
              return { bookingId: ctx.idempotencyKey };
            },
            compensate: async (ctx) => {
              await ctx.services.courierBookings.undo(ctx.forwardIdempotencyKey, 'booked', 'cancelled', {
                orderId: ctx.input.orderId,
                cancelKey: ctx.idempotencyKey,
                reason: ctx.reason,
              });
            },
          }),
      )
      .step({
        name: 'confirm',
        timeout: '5s',
        output: z.object({ confirmationId: z.string() }),
        run: async (ctx) => {
          const { orderId, customer, total_amount: amount, currency } = ctx.input;
          await ctx.services.confirmations.apply(ctx.idempotencyKey, 'sent', {
            orderId,
            to: customer.email ?? customer.id,
            text:
              `Checkout ${orderId}: ${amount} ${currency} paid (${ctx.outputs['check-payment'].providerRef}), ` +
              `courier booked (${ctx.outputs['book-courier'].bookingId}).`,
          });
          return { confirmationId: ctx.idempotencyKey };
        },
      })
      .build()
  );
}

/** The saga as `sagastream dev --demo` runs it: a 60 s payment timeout. */
export const orderPayment = defineOrderPayment();

export { checkoutSchema, type Checkout } from './checkout-schema.js';
export {
  createPaymentServices,
  PAYMENT_COLLECTIONS,
  PROVIDER_PAYMENTS_COLLECTION,
  INTENT_CREATED,
  type PaymentServices,
} from './services.js';
