// The checkout document that starts an order-payment saga: what is bought, by whom, and how it is paid.
import { z } from 'zod';
import { idAsText, purchaseFields } from '../order-fulfillment/order-schema.js';

/** Validates an inserted checkout; what fails here becomes a `rejected` saga with these messages. */
export const checkoutSchema = z
  .object({
    ...purchaseFields('a checkout', 'EUR'),
    /** Recorded on the payment intent; the demo's simulated provider answers only its test cards. */
    paymentMethod: z
      .string({ error: 'paymentMethod must be a string' })
      .min(1, { error: 'paymentMethod is empty' })
      .default('card'),
  })
  .transform(({ _id, ...checkout }) => ({ orderId: idAsText(_id), ...checkout }));

export type Checkout = z.output<typeof checkoutSchema>;
