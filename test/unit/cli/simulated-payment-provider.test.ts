// What the demo's payment provider plans for an intent: its answer, after a delay drawn from the injected random.
import { describe, expect, it } from 'vitest';
import { planAnswer, providerRefOf } from '../../../src/cli/demo/simulated-payment-provider.js';

const delays = { minMs: 500, maxMs: 5_000 };

describe('planAnswer', () => {
  it('captures or declines a test card after a delay between the bounds', () => {
    const intent = (paymentMethod: string) => ({ _id: 'i-1', status: 'created', paymentMethod });
    expect(planAnswer(intent('test-card-ok'), () => 0, delays)).toEqual({ status: 'captured', delayMs: 500 });
    expect(planAnswer(intent('test-card-declined'), () => 0.5, delays)).toEqual({
      status: 'declined',
      delayMs: 2_750,
    });
    expect(planAnswer(intent('test-card-ok'), () => 0.999_999, delays)?.delayMs).toBe(5_000);
  });

  it('never answers the no-answer card, any other payment method, or an intent that is not new', () => {
    expect(
      planAnswer({ status: 'created', paymentMethod: 'test-card-no-answer' }, () => 0, delays),
    ).toBeUndefined();
    expect(planAnswer({ status: 'created', paymentMethod: 'card' }, () => 0, delays)).toBeUndefined();
    expect(planAnswer({ status: 'created' }, () => 0, delays)).toBeUndefined();
    expect(
      planAnswer({ status: 'cancelled', paymentMethod: 'test-card-ok' }, () => 0, delays),
    ).toBeUndefined();
  });
});

describe('providerRefOf', () => {
  it('gives an intent the same reference every time, and two intents two references', () => {
    expect(providerRefOf('s-1:create-payment-intent')).toMatch(/^psp-[0-9a-f]{12}$/);
    expect(providerRefOf('s-1:create-payment-intent')).toBe(providerRefOf('s-1:create-payment-intent'));
    expect(providerRefOf('s-1:create-payment-intent')).not.toBe(providerRefOf('s-2:create-payment-intent'));
  });
});
