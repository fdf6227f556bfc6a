// The runtime the trigger-document fuzz tests share: the order-fulfillment saga with its services on a fresh
// database, watcher, worker and sweeper in this process. Call inside a `describe`.
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { orderFulfillment } from '../../../sagas/order-fulfillment/index.js';
import { createOrderServices } from '../../../sagas/order-fulfillment/services.js';
import { SagaRegistry } from '../../../src/definition/index.js';
import type { SagaRuntime } from '../../../src/runtime/saga-runtime.js';
import { engineTest, type EngineTest } from '../engine/engine-test-kit.js';
import { connectMongo } from '../helpers.js';

export interface OrderFulfillmentRuntime {
  /** Set in beforeAll. */
  db: Db;
  runtime: SagaRuntime;
}

export function useOrderFulfillmentRuntime(name: string): OrderFulfillmentRuntime {
  const fixture = {} as OrderFulfillmentRuntime;
  let client: MongoClient;
  let test: EngineTest;

  beforeAll(async () => {
    client = await connectMongo();
    test = engineTest(client, name);
    fixture.db = test.db;
    fixture.runtime = await test.start({
      registry: new SagaRegistry([orderFulfillment]),
      services: createOrderServices(test.db),
    });
  });

  afterAll(async () => {
    await test.stop();
    await client.close();
  });

  return fixture;
}
