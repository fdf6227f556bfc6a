// The project's sagas: the registry the CLI loads by default (`--sagas-module` / SAGAS point elsewhere).
import { SagaRegistry, type SagasSetupContext } from '../src/index.js';
import { orderFulfillment } from './order-fulfillment/index.js';
import { bindServices } from './order-fulfillment/services.js';

export const registry = new SagaRegistry([orderFulfillment]);
export default registry;

/** Connects the sagas' services to the process's database; the CLI calls it once connected. */
export function setup({ db }: SagasSetupContext): void {
  bindServices(db);
}
