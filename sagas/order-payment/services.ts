// The order-payment saga's "services": payment intents, refunds, the warehouse, the courier and the mailer,
// played by collections in the saga's own database. The payment provider is not one of them: it answers by
// writing `provider_payments` documents, which the saga waits for (the demo simulates it; so can you, by hand).
import type { Db } from 'mongodb';
import { EffectLedger, type EffectRecord } from '../order-fulfillment/services.js';

export const PAYMENT_COLLECTIONS = {
  paymentIntents: 'payment_intents',
  refunds: 'refunds',
  stockReservations: 'stock_reservations',
  courierBookings: 'courier_bookings',
  confirmations: 'checkout_confirmations',
} as const;

/** Where the payment provider writes its answers: `{ orderId, status: 'captured' | 'declined', providerRef }`. */
export const PROVIDER_PAYMENTS_COLLECTION = 'provider_payments';

/** A payment intent as create-payment-intent records it; its compensation moves it to `cancelled`. */
export const INTENT_CREATED = 'created';

/** Each ledger records effects by the step's idempotency key, as order-fulfillment's do (see its services.ts). */
export interface PaymentServices {
  readonly paymentIntents: EffectLedger;
  readonly refunds: EffectLedger;
  readonly stockReservations: EffectLedger;
  readonly courierBookings: EffectLedger;
  readonly confirmations: EffectLedger;
}

export function createPaymentServices(db: Db): PaymentServices {
  const ledger = (name: string) => new EffectLedger(db.collection<EffectRecord>(name));
  return {
    paymentIntents: ledger(PAYMENT_COLLECTIONS.paymentIntents),
    refunds: ledger(PAYMENT_COLLECTIONS.refunds),
    stockReservations: ledger(PAYMENT_COLLECTIONS.stockReservations),
    courierBookings: ledger(PAYMENT_COLLECTIONS.courierBookings),
    confirmations: ledger(PAYMENT_COLLECTIONS.confirmations),
  };
}
