import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { checkoutSchema } from './checkout-schema.js';
import { answerFor, demoCheckout, nextDemoCheckout, TEST_CARDS, type TestCard } from './demo-checkouts.js';

/** A small seeded generator (mulberry32): the same seed draws the same checkouts. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('demo checkouts', () => {
  it.each(Object.keys(TEST_CARDS) as TestCard[])('a checkout paid by %s passes the input schema', (card) => {
    for (let sequence = 0; sequence < 20; sequence++) {
      const checkout = checkoutSchema.parse({ _id: new ObjectId(), ...demoCheckout(card, sequence) });
      expect(checkout.paymentMethod).toBe(card);
    }
  });

  it('draws every test card from the mix, the same ones for the same seed', () => {
    const draw = (seed: number) => {
      const random = seeded(seed);
      return Array.from({ length: 300 }, (_, sequence) => nextDemoCheckout(sequence, random).paymentMethod);
    };
    const cards = draw(17);
    expect(new Set(cards)).toEqual(new Set(Object.keys(TEST_CARDS)));
    expect(draw(17)).toEqual(cards);
    expect(draw(18)).not.toEqual(cards);
  });

  it('tells the provider how to answer each test card, and nothing for any other payment method', () => {
    expect(answerFor('test-card-ok')).toBe('captured');
    expect(answerFor('test-card-declined')).toBe('declined');
    expect(answerFor('test-card-no-answer')).toBe('never');
    expect(answerFor('card')).toBeUndefined();
    expect(answerFor('toString')).toBeUndefined();
    expect(answerFor(undefined)).toBeUndefined();
  });
});
