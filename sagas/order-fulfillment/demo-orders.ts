// Demo orders for `sagastream demo` and `dev --demo`: a mix whose sagas succeed, retry, time out, compensate,
// dead-letter or are rejected, so every path of the saga shows up in the data and the admin API.
import type { Simulate } from './order-schema.js';

export type DemoOutcome = 'succeeds' | 'retries' | 'times-out' | 'compensates' | 'dead-letters' | 'rejected';

export interface DemoOrder {
  readonly outcome: DemoOutcome;
  readonly document: Record<string, unknown>;
}

/** Relative frequency of each outcome in the demo stream. */
const MIX: readonly (readonly [DemoOutcome, number])[] = [
  ['succeeds', 50],
  ['retries', 15],
  ['times-out', 8],
  ['compensates', 12],
  ['dead-letters', 5],
  ['rejected', 10],
];
const MIX_TOTAL = MIX.reduce((sum, [, weight]) => sum + weight, 0);

const SKUS = ['book-1984', 'mug-blue', 'lamp-oak', 'tea-earl-grey', 'sock-wool', 'pen-fountain'];

type Random = () => number;

function pick<T>(values: readonly T[], random: Random): T {
  return values[Math.floor(random() * values.length)] as T;
}

function pickOutcome(random: Random): DemoOutcome {
  let roll = random() * MIX_TOTAL;
  for (const [outcome, weight] of MIX) {
    roll -= weight;
    if (roll < 0) return outcome;
  }
  return 'succeeds';
}

function simulateFor(outcome: DemoOutcome, random: Random): Simulate | undefined {
  switch (outcome) {
    case 'retries':
      return {
        failAt: pick(['process-payment', 'reserve-inventory', 'calculate-shipping'] as const, random),
        failTimes: 1 + Math.floor(random() * 2),
      };
    case 'times-out':
      // One attempt of the 5 s send-confirmation hangs until its timeout; the retry goes through.
      return { hangAt: 'send-confirmation', failTimes: 1 };
    case 'compensates':
      return {
        failAt: pick(['reserve-inventory', 'calculate-shipping', 'send-confirmation'] as const, random),
      };
    case 'dead-letters':
      return { failAt: 'calculate-shipping', failCompensationAt: 'process-payment' };
    default:
      return undefined;
  }
}

/** A pending order with the `simulate` switches that lead to `outcome`. */
export function demoOrder(outcome: DemoOutcome, sequence: number, random: Random = Math.random): DemoOrder {
  const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
    sku: pick(SKUS, random),
    quantity: 1 + Math.floor(random() * 3),
  }));
  const document: Record<string, unknown> = {
    status: 'pending',
    customer: { id: `customer-${1 + (sequence % 97)}`, email: `customer-${1 + (sequence % 97)}@example.com` },
    items,
    total_amount: Math.round((5 + random() * 195) * 100) / 100,
    currency: 'EUR',
    placedAt: new Date(),
    demo: outcome,
  };
  const simulate = simulateFor(outcome, random);
  if (simulate !== undefined) document.simulate = simulate;
  if (outcome === 'rejected') {
    // One of the three things the input schema refuses.
    const flaw = sequence % 3;
    if (flaw === 0) delete document.items;
    else if (flaw === 1) delete document.customer;
    else document.total_amount = 'forty-two';
  }
  return { outcome, document };
}

/** The next order of the demo stream, its outcome drawn from the mix. */
export function nextDemoOrder(sequence: number, random: Random = Math.random): DemoOrder {
  return demoOrder(pickOutcome(random), sequence, random);
}
