// The example sagas: what `sagastream dev --demo` runs, and a sagas module as users write theirs.
import { SagaRegistry, type SagasSetupContext } from '../src/index.js';
import { orderFulfillment } from './order-fulfillment/index.js';
import { createOrderServices, type OrderServices } from './order-fulfillment/services.js';

export const registry = new SagaRegistry([orderFulfillment]);
export default registry;

/** The sagas' services on the process's database: the CLI calls it once connected, before any step runs. */
export function setup({ db }: SagasSetupContext): OrderServices {
  return createOrderServices(db);
}
