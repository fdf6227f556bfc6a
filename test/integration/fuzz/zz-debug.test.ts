import type { MongoClient } from 'mongodb';
import { it } from 'vitest';
import { SagaRegistry } from '../../../src/definition/index.js';
import type { SagaDocument } from '../../../src/store/saga-document.js';
import { orderFulfillment } from '../../../sagas/order-fulfillment/index.js';
import { bindServices } from '../../../sagas/order-fulfillment/services.js';
import { engineTest } from '../engine/engine-test-kit.js';
import { connectMongo } from '../helpers.js';

it('debug', async () => {
  const client: MongoClient = await connectMongo();
  const test = engineTest(client, 'fuzz-dbg');
  bindServices(test.db);
  await test.start({ registry: new SagaRegistry([orderFulfillment]) });
  await test.db
    .collection('orders')
    .insertOne({
      status: 'pending',
      customer: { id: 'c' },
      items: [{ sku: 'a', quantity: 1 }],
      total_amount: 5,
    });
  for (let i = 0; i < 20; i += 1) {
    await new Promise((r) => setTimeout(r, 1000));
    const s = await test.db.collection<SagaDocument>('sagas').findOne({});
    console.log(
      i,
      JSON.stringify({
        status: s?.status,
        steps: s?.steps.map((x) => [x.name, x.status, x.attempts, x.error?.message]),
        h: s?.history.slice(-3),
      }),
    );
    if (s?.status === 'completed') break;
  }
  await test.stop();
  await client.close();
}, 60_000);
