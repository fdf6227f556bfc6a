// The order document that starts an order-fulfillment saga, and the `simulate` switches demos and tests use.
import { z } from 'zod';

/** The saga's steps, in order; `simulate` names them. */
export const ORDER_STEPS = [
  'process-payment',
  'reserve-inventory',
  'calculate-shipping',
  'send-confirmation',
] as const;
export type OrderStep = (typeof ORDER_STEPS)[number];

/** The steps that have a compensation (`send-confirmation` has none: a sent e-mail cannot be unsent). */
export const COMPENSATED_STEPS = ['process-payment', 'reserve-inventory', 'calculate-shipping'] as const;

const stepName = z.enum(ORDER_STEPS, { error: `must be one of ${ORDER_STEPS.join(', ')}` });

export const simulateSchema = z.strictObject({
  /** This step's attempts throw (the first `failTimes` of them, or all). */
  failAt: stepName.optional(),
  /** How many attempts of `failAt` / `hangAt` misbehave; default every attempt. */
  failTimes: z.int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }).optional(),
  /** This step's attempts never finish on their own: they end when the step timeout aborts them. */
  hangAt: stepName.optional(),
  /** This step's compensation throws on every attempt, so the saga ends `failed` with a dead letter. */
  failCompensationAt: z
    .enum(COMPENSATED_STEPS, { error: `must be one of ${COMPENSATED_STEPS.join(', ')}` })
    .optional(),
});
export type Simulate = z.output<typeof simulateSchema>;

const itemSchema = z.object({
  sku: z.string({ error: 'sku must be a string' }).trim().min(1, { error: 'sku cannot be empty' }),
  quantity: z
    .int({ error: 'quantity must be a whole number' })
    .min(1, { error: 'quantity must be at least 1' }),
});

/**
 * What any purchase document of the examples holds (an order, a checkout): its `_id`, who buys, what and for how
 * much. `noun` names the document in the messages (`an order needs items`).
 */
export function purchaseFields(noun: 'an order' | 'a checkout', defaultCurrency: string) {
  return {
    _id: z.unknown(),
    customer: z.object(
      {
        id: z
          .string({ error: 'customer.id must be a string' })
          .trim()
          .min(1, { error: 'customer.id is empty' }),
        email: z.string().optional(),
      },
      { error: `${noun} needs a customer: { id, email? }` },
    ),
    items: z
      .array(itemSchema, { error: `${noun} needs items: [{ sku, quantity }]` })
      .min(1, { error: `${noun} needs at least one item` }),
    total_amount: z
      .number({ error: 'total_amount must be a number' })
      .positive({ error: 'total_amount must be greater than 0' }),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, { error: 'currency must be a three-letter code like EUR' })
      .default(defaultCurrency),
  };
}

/** ObjectIds as hex, anything else as text: the document's id as it appears in the service collections. */
export function idAsText(id: unknown): string {
  if (typeof id === 'object' && id !== null && 'toHexString' in id && typeof id.toHexString === 'function') {
    return String((id as { toHexString(): unknown }).toHexString());
  }
  return String(id);
}

/** Validates an inserted order; what fails here becomes a `rejected` saga with these messages. */
export const orderSchema = z
  .object({
    ...purchaseFields('an order', 'USD'),
    simulate: simulateSchema.optional(),
  })
  .transform(({ _id, ...order }) => ({ orderId: idAsText(_id), ...order }));

export type Order = z.output<typeof orderSchema>;
