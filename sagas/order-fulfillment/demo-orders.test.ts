import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { demoOrder, nextDemoOrder, type DemoOutcome } from './demo-orders.js';
import { orderSchema } from './order-schema.js';

describe('demo orders', () => {
  it.each<DemoOutcome>(['succeeds', 'retries', 'times-out', 'compensates', 'dead-letters'])(
    'a "%s" order passes the input schema',
    (outcome) => {
      for (let sequence = 0; sequence < 20; sequence++) {
        expect(
          orderSchema.safeParse({ _id: new ObjectId(), ...demoOrder(outcome, sequence).document }).success,
        ).toBe(true);
      }
    },
  );

  it('a "rejected" order fails the input schema in each of its three ways', () => {
    const fields = [0, 1, 2].map((sequence) => {
      const result = orderSchema.safeParse({
        _id: new ObjectId(),
        ...demoOrder('rejected', sequence).document,
      });
      expect(result.success).toBe(false);
      return result.error?.issues.map((issue) => issue.path.join('.'));
    });
    expect(fields).toEqual([['items'], ['customer'], ['total_amount']]);
  });

  it('draws every outcome from the mix', () => {
    const seen = new Set(Array.from({ length: 500 }, (_, sequence) => nextDemoOrder(sequence).outcome));
    expect([...seen].sort()).toEqual(
      ['compensates', 'dead-letters', 'rejected', 'retries', 'succeeds', 'times-out'].sort(),
    );
  });
});
