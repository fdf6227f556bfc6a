// Trigger documents at the edges: one near the 16 MB BSON limit, and one whose total is NaN. Each must end as
// a `rejected` saga, and the watcher must go on with the orders after it.
import type { Document } from 'bson';
import { describe, expect, it } from 'vitest';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { sagaEndingIn } from '../engine/engine-test-kit.js';
import { useOrderFulfillmentRuntime } from './order-fulfillment-runtime.js';

interface AnyIdDocument extends Document {
  _id: unknown;
}

function validOrder(id: string): AnyIdDocument {
  return {
    _id: id,
    status: 'pending',
    customer: { id: 'c-1' },
    items: [{ sku: 'SKU-1', quantity: 1 }],
    total_amount: 20,
  };
}

describe('edge-case trigger documents', () => {
  const fuzz = useOrderFulfillmentRuntime('fuzz-edges');

  // MongoDB compares NaN as false with any other number, so `{ $not: { $lte: 0 } }` passes it to the input schema.
  it('rejects an order whose total_amount is NaN', async () => {
    const orders = fuzz.db.collection<AnyIdDocument>('orders');
    await orders.insertOne({ ...validOrder('nan-total'), total_amount: Number.NaN });
    const saga = await sagaEndingIn(fuzz.db, 'nan-total', ['rejected'], 10_000);
    expect(saga.status).toBe('rejected');
  });

  it('rejects a document near 16 MB and keeps watching', async () => {
    const orders = fuzz.db.collection<AnyIdDocument>('orders');
    const big = { ...validOrder('near-16mb'), items: 'x'.repeat(16 * 1024 * 1024 - 2_048) };
    await orders.insertOne(big);
    const after = { ...validOrder('after-16mb') };
    await orders.insertOne(after);
    const sagas = fuzz.db.collection<SagaDocument>('sagas');
    const next = await sagaEndingIn(fuzz.db, 'after-16mb', ['completed'], 40_000);
    expect(next.status).toBe('completed');
    const bigSaga = await sagas.findOne(
      { key: 'near-16mb' },
      { projection: { status: 1, validationIssues: 1 } },
    );
    expect(bigSaga?.status).toBe('rejected');
    expect(fuzz.runtime.trigger?.status().watchers[0]?.state).toBe('active');
  }, 60_000);
});
