// The example sagas: what `sagastream dev --demo` runs, and a sagas module as users write theirs.
import { SagaRegistry, type SagasSetupContext } from '../src/index.js';
import { orderFulfillment } from './order-fulfillment/index.js';
import { createOrderServices, type OrderServices } from './order-fulfillment/services.js';
import { orderPayment } from './order-payment/index.js';
import { createPaymentServices, type PaymentServices } from './order-payment/services.js';

export const registry = new SagaRegistry([orderFulfillment, orderPayment]);
export default registry;

/** What both sagas get as `ctx.services`: each reads its own part. */
export type ExampleServices = OrderServices & PaymentServices;

/** The sagas' services on the process's database: the CLI calls it once connected, before any step runs. */
export function setup({ db }: SagasSetupContext): ExampleServices {
  return { ...createOrderServices(db), ...createPaymentServices(db) };
}
