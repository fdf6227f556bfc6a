import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { orderFulfillment } from './index.js';
import { orderSchema } from './order-schema.js';

const validOrder = {
  _id: new ObjectId('665f1c0a9d3e4b0012345678'),
  status: 'pending',
  customer: { id: 'c-1', email: 'ada@example.com' },
  items: [{ sku: 'book-1', quantity: 2 }],
  total_amount: 42.5,
};

function issuesOf(document: unknown): string[] {
  const result = orderSchema.safeParse(document);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('order-fulfillment input schema', () => {
  it('accepts a complete order, gives the order id as text and defaults the currency', () => {
    const order = orderSchema.parse(validOrder);
    expect(order.orderId).toBe('665f1c0a9d3e4b0012345678');
    expect(order.currency).toBe('USD');
    expect(order.items).toEqual([{ sku: 'book-1', quantity: 2 }]);
  });

  it('rejects an order without items, or with an empty item list', () => {
    const { items: _items, ...withoutItems } = validOrder;
    expect(issuesOf(withoutItems)).toEqual(['items: an order needs items: [{ sku, quantity }]']);
    expect(issuesOf({ ...validOrder, items: [] })).toEqual(['items: an order needs at least one item']);
  });

  it('rejects an order without a customer', () => {
    const { customer: _customer, ...withoutCustomer } = validOrder;
    expect(issuesOf(withoutCustomer)).toEqual(['customer: an order needs a customer: { id, email? }']);
    expect(issuesOf({ ...validOrder, customer: { id: ' ' } })).toEqual(['customer.id: customer.id is empty']);
  });

  it.each([['12.50'], [null], [undefined], [{ amount: 3 }]])('rejects the non-numeric total %j', (total) => {
    expect(issuesOf({ ...validOrder, total_amount: total })).toEqual([
      'total_amount: total_amount must be a number',
    ]);
  });

  it('rejects bad items and unknown simulate steps', () => {
    expect(issuesOf({ ...validOrder, items: [{ sku: 'x', quantity: 0 }] })).toEqual([
      'items.0.quantity: quantity must be at least 1',
    ]);
    expect(issuesOf({ ...validOrder, simulate: { failAt: 'pack-box' } })[0]).toMatch(
      /^simulate\.failAt: must be one of/,
    );
    expect(issuesOf({ ...validOrder, simulate: { failCompensationAt: 'send-confirmation' } })[0]).toMatch(
      /^simulate\.failCompensationAt: must be one of process-payment, reserve-inventory, calculate-shipping/,
    );
    expect(issuesOf({ ...validOrder, simulate: { failTimes: 1.5 } })).toEqual([
      'simulate.failTimes: must be a whole number',
    ]);
  });

  it('accepts every simulate switch', () => {
    const simulate = {
      failAt: 'calculate-shipping',
      failTimes: 2,
      hangAt: 'send-confirmation',
      failCompensationAt: 'process-payment',
    };
    expect(orderSchema.parse({ ...validOrder, simulate }).simulate).toEqual(simulate);
  });
});

describe('order-fulfillment definition', () => {
  it('has the four steps with their timeouts, retries and compensations', () => {
    expect(
      orderFulfillment.steps.map((step) => [step.name, step.timeoutMs, step.compensate !== undefined]),
    ).toEqual([
      ['process-payment', 30_000, true],
      ['reserve-inventory', 15_000, true],
      ['calculate-shipping', 10_000, true],
      ['send-confirmation', 5_000, false],
    ]);
    for (const step of orderFulfillment.steps) {
      expect(step.retry).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delayMs: 1_000 } });
    }
    expect(orderFulfillment.compensation).toMatchObject({ timeoutMs: 60_000, retry: { attempts: 3 } });
    expect(orderFulfillment.timeoutMs).toBe(5 * 60_000);
    expect(orderFulfillment.trigger).toMatchObject({ collection: 'orders', on: ['insert'] });
  });
});
