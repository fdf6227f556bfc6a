export { SagaClient, type StartOptions, type StartedSaga } from './saga-client.js';
export type { SagaClientOptions } from './saga-client-options.js';
export { SagaHandle, type ResultOptions, type SagaResult } from './saga-handle.js';
