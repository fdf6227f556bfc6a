// The checkout document that starts an order-payment saga: what is bought, by whom, and how it is paid.
import { z } from 'zod';

const itemSchema = z.object({
  sku: z.string({ error: 'sku must be a string' }).trim().min(1, { error: 'sku cannot be empty' }),
  quantity: z
    .int({ error: 'quantity must be a whole number' })
    .min(1, { error: 'quantity must be at least 1' }),
});

/** Validates an inserted checkout; what fails here becomes a `rejected` saga with these messages. */
export const checkoutSchema = z
  .object({
    _id: z.unknown(),
    customer: z.object(
      {
        id: z
          .string({ error: 'customer.id must be a string' })
          .trim()
          .min(1, { error: 'customer.id is empty' }),
        email: z.string().optional(),
      },
      { error: 'a checkout needs a customer: { id, email? }' },
    ),
    items: z
      .array(itemSchema, { error: 'a checkout needs items: [{ sku, quantity }]' })
      .min(1, { error: 'a checkout needs at least one item' }),
    total_amount: z
      .number({ error: 'total_amount must be a number' })
      .positive({ error: 'total_amount must be greater than 0' }),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, { error: 'currency must be a three-letter code like EUR' })
      .default('EUR'),
    /** Recorded on the payment intent; the demo's simulated provider answers only its test cards. */
    paymentMethod: z
      .string({ error: 'paymentMethod must be a string' })
      .min(1, { error: 'paymentMethod is empty' })
      .default('card'),
  })
  .transform(({ _id, ...checkout }) => ({ orderId: idAsText(_id), ...checkout }));

export type Checkout = z.output<typeof checkoutSchema>;

/** ObjectIds as hex, anything else as text: the checkout's id as the service collections record it. */
function idAsText(id: unknown): string {
  if (typeof id === 'object' && id !== null && 'toHexString' in id && typeof id.toHexString === 'function') {
    return String((id as { toHexString(): unknown }).toHexString());
  }
  return String(id);
}
