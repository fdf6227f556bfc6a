// The chaos run's checkouts for the order-payment saga (a wait for the provider's answer, then a parallel group):
// each gets a plan for the payment provider's answer, which the run plays itself by writing `provider_payments`
// (chaos-provider.ts), and records the outcome it expects in `chaos.expect` for the invariant check.
import { demoCheckout } from '../../sagas/order-payment/demo-checkouts.js';
import type { SeededRandom } from './seeded-random.js';

/**
 * - `paid`: captured after a random delay, sometimes before the saga reaches its wait (found by the entering read);
 * - `paid-twice`: captured, then the same document updated again (a second matching change event);
 * - `declined`: declined, so check-payment fails and the saga compensates;
 * - `unpaid`: never answered, so the wait times out and the saga compensates.
 */
export type CheckoutKind = 'paid' | 'paid-twice' | 'declined' | 'unpaid';

export interface ChaosCheckout {
  _id: string;
  status: 'awaiting-payment';
  [field: string]: unknown;
  chaos: { kind: CheckoutKind; expect: 'completed' | 'compensated'; answerAfterMs: number | null };
}

const MIX: readonly [CheckoutKind, number][] = [
  ['paid', 60],
  ['paid-twice', 15],
  ['declined', 15],
  ['unpaid', 10],
];

function pickKind(random: SeededRandom): CheckoutKind {
  let roll = random.next() * 100;
  for (const [kind, share] of MIX) {
    roll -= share;
    if (roll < 0) return kind;
  }
  return 'paid';
}

export function chaosCheckout(index: number, runId: string, random: SeededRandom): ChaosCheckout {
  const kind = pickKind(random);
  // No demo test card: nothing but this run answers for it.
  const checkout = {
    ...demoCheckout('test-card-ok', index, () => random.next()),
    paymentMethod: 'chaos-card',
  };
  return {
    ...checkout,
    _id: `${runId}-c${String(index).padStart(6, '0')}`,
    status: 'awaiting-payment',
    chaos: {
      kind,
      expect: kind === 'paid' || kind === 'paid-twice' ? 'completed' : 'compensated',
      // A fifth answer at once, before the saga can have entered its wait; the rest within 4 s.
      answerAfterMs: kind === 'unpaid' ? null : random.next() < 0.2 ? 0 : random.int(200, 4_000),
    },
  };
}
