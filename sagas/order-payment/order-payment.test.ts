import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { checkoutSchema } from './checkout-schema.js';
import { defineOrderPayment, orderPayment } from './index.js';

const validCheckout = {
  _id: new ObjectId('665f1c0a9d3e4b0012345678'),
  status: 'awaiting-payment',
  customer: { id: 'c-1', email: 'ada@example.com' },
  items: [{ sku: 'mug-blue', quantity: 2 }],
  total_amount: 24.9,
};

function issuesOf(document: unknown): string[] {
  const result = checkoutSchema.safeParse(document);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('order-payment input schema', () => {
  it('accepts a checkout, gives its id as text and defaults the currency and payment method', () => {
    expect(checkoutSchema.parse(validCheckout)).toMatchObject({
      orderId: '665f1c0a9d3e4b0012345678',
      currency: 'EUR',
      paymentMethod: 'card',
      items: [{ sku: 'mug-blue', quantity: 2 }],
    });
  });

  it('rejects a checkout without items, customer or a numeric total', () => {
    const { items: _items, customer: _customer, ...bare } = validCheckout;
    expect(issuesOf({ ...bare, total_amount: '24.90' })).toEqual([
      'customer: a checkout needs a customer: { id, email? }',
      'items: a checkout needs items: [{ sku, quantity }]',
      'total_amount: total_amount must be a number',
    ]);
    expect(issuesOf({ ...validCheckout, paymentMethod: '' })).toEqual([
      'paymentMethod: paymentMethod is empty',
    ]);
  });
});

describe('order-payment definition', () => {
  it('opens an intent, waits for the payment, checks it, reserves, books and confirms', () => {
    expect(
      orderPayment.steps.map((step) => [
        step.name,
        step.kind ?? 'task',
        step.kind === 'wait' ? step.wait.timeoutMs : step.timeoutMs,
        step.compensate !== undefined,
      ]),
    ).toEqual([
      ['create-payment-intent', 'task', 10_000, true],
      ['payment-answered', 'wait', 60_000, true],
      ['check-payment', 'task', 5_000, false],
      ['reserve-stock', 'task', 15_000, true],
      ['book-courier', 'task', 15_000, true],
      ['confirm', 'task', 5_000, false],
    ]);
    const wait = orderPayment.steps[1];
    expect(wait?.kind === 'wait' && wait.wait).toMatchObject({
      collection: 'provider_payments',
      on: ['insert', 'update', 'replace'],
      onTimeout: 'compensate',
    });
    expect(orderPayment.trigger).toMatchObject({
      collection: 'checkouts',
      on: ['insert'],
      filter: { status: 'awaiting-payment' },
    });
    expect(orderPayment.timeoutMs).toBe(5 * 60_000);
  });

  it('waits for a captured or a declined payment of its own checkout', () => {
    const wait = orderPayment.steps[1];
    if (wait?.kind !== 'wait') throw new Error('payment-answered is not a wait step');
    const filter = wait.wait.match({
      sagaId: 's-1',
      sagaName: 'order-payment',
      step: 'payment-answered',
      input: checkoutSchema.parse(validCheckout),
      outputs: {},
      services: {},
    });
    expect(filter).toEqual({
      orderId: '665f1c0a9d3e4b0012345678',
      status: { $in: ['captured', 'declined'] },
    });
  });

  it('takes its payment timeout from the options, and refuses an unknown option', () => {
    const patient = defineOrderPayment({ paymentTimeout: '2h' }).steps[1];
    expect(patient?.kind === 'wait' && patient.wait.timeoutMs).toBe(2 * 3_600_000);
    expect(() => defineOrderPayment({ paymentTimeout: 'soon' as never })).toThrow(/timeout/);
    expect(() => defineOrderPayment({ timeout: '1h' } as never)).toThrow(/timeout/);
  });
});
