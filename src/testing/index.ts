/**
 * sagastream/testing: run your sagas for real in a test, with their timeouts and backoffs shrunk.
 *
 * ```ts
 * import { createTestEnvironment } from 'sagastream/testing';
 * import registry from './sagas.js';
 *
 * const env = await createTestEnvironment({ sagas: registry, services: { payments: fake }, timeScale: 0.01 });
 * const end = await env.client.start('charge-order', input, { key: 'k1' }).then((saga) => saga.result());
 * // end: { status: 'completed' | 'compensated' | 'failed' | 'rejected', outputs: { [step]: output }, error? }
 * await env.db.collection('orders').insertOne(doc); // a trigger document starts its saga too
 * await env.stop();
 * ```
 *
 * It uses MONGODB_URL / REDIS_URL when set, else starts the embedded MongoDB-compatible server and a
 * `redis-server` child; every environment has its own database and queue prefix.
 *
 * @module
 */
export { createTestEnvironment, TestEnvironment } from './test-environment.js';
export type { TestEnvironmentOptions } from './test-environment-options.js';
export { scaleDefinition } from '../definition/scale-definition.js';
export type { SagaResult } from '../client/index.js';
