// The chaos run's orders: each asks, through the order-fulfillment saga's `simulate` field (or bad input), for
// one outcome, and records that outcome in `chaos.expect` so the invariant check can read it back from MongoDB.
import { COMPENSATED_STEPS, ORDER_STEPS, type OrderStep } from '../../sagas/order-fulfillment/index.js';
import type { SeededRandom } from './seeded-random.js';

export type ExpectedOutcome = 'completed' | 'compensated' | 'failed' | 'rejected';
export type OrderKind = 'ok' | 'transient' | 'fail' | 'hang' | 'compensation-fails' | 'invalid';

export interface ChaosOrder {
  _id: string;
  status: 'pending';
  [field: string]: unknown;
  chaos: { kind: OrderKind; expect: ExpectedOutcome };
}

/** Share of each kind, in percent (the mix: 70 % succeed, 10/5/5 % fail, 10 % invalid). */
const MIX: readonly [OrderKind, number][] = [
  ['ok', 55],
  ['transient', 15],
  ['fail', 10],
  ['hang', 5],
  ['compensation-fails', 5],
  ['invalid', 10],
];

const EXPECT: Record<OrderKind, ExpectedOutcome> = {
  ok: 'completed',
  transient: 'completed',
  fail: 'compensated',
  hang: 'compensated',
  'compensation-fails': 'failed',
  invalid: 'rejected',
};

// Only steps with short timeouts hang (5 s / 10 s), so a hanging saga costs under 40 s.
const HANG_STEPS: readonly OrderStep[] = ['send-confirmation', 'calculate-shipping'];

function pickKind(random: SeededRandom): OrderKind {
  let roll = random.next() * 100;
  for (const [kind, share] of MIX) {
    roll -= share;
    if (roll < 0) return kind;
  }
  return 'ok';
}

function simulateFor(kind: OrderKind, random: SeededRandom): Record<string, unknown> | undefined {
  switch (kind) {
    case 'transient':
      // Step attempts are 3: failing the first one or two still succeeds; one timed-out attempt too.
      return random.next() < 0.8
        ? { failAt: random.pick(ORDER_STEPS), failTimes: random.int(1, 2) }
        : { hangAt: 'send-confirmation', failTimes: 1 };
    case 'fail':
      return { failAt: random.pick(ORDER_STEPS) };
    case 'hang':
      return { hangAt: random.pick(HANG_STEPS) };
    case 'compensation-fails': {
      // The failing compensation must belong to a step before the failing one, or it never runs.
      const failAt = random.pick(['reserve-inventory', 'calculate-shipping', 'send-confirmation'] as const);
      const earlier = COMPENSATED_STEPS.slice(0, ORDER_STEPS.indexOf(failAt));
      return { failAt, failCompensationAt: random.pick(earlier) };
    }
    default:
      return undefined;
  }
}

/** Bad input that still passes the trigger filter (status pending, total not <= 0), so it must be rejected. */
function invalidFields(random: SeededRandom, valid: Record<string, unknown>): Record<string, unknown> {
  const variants: (() => Record<string, unknown>)[] = [
    () => ({ ...valid, customer: undefined }),
    () => ({ ...valid, items: [] }),
    () => ({ ...valid, items: [{ sku: 'A-1', quantity: 0 }] }),
    () => ({ ...valid, total_amount: 'twelve' }),
    () => ({ ...valid, total_amount: undefined }),
    () => ({ ...valid, currency: 'euro' }),
    () => ({ ...valid, customer: { id: '   ' } }),
    () => ({ ...valid, items: 'three boxes' }),
    () => ({ ...valid, simulate: { failAt: 'no-such-step' } }),
  ];
  const fields = random.pick(variants)();
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

export function chaosOrder(index: number, runId: string, random: SeededRandom): ChaosOrder {
  const kind = pickKind(random);
  const itemCount = random.int(1, 4);
  const items = Array.from({ length: itemCount }, (_, item) => ({
    sku: `SKU-${random.int(1, 500)}-${item}`,
    quantity: random.int(1, 5),
  }));
  const valid: Record<string, unknown> = {
    customer: { id: `c-${random.int(1, 10_000)}`, email: `c${index}@example.com` },
    items,
    total_amount: Math.round(random.between(5, 400) * 100) / 100,
    currency: random.pick(['EUR', 'USD', 'GBP']),
  };
  const simulate = simulateFor(kind, random);
  const fields =
    kind === 'invalid' ? invalidFields(random, valid) : { ...valid, ...(simulate && { simulate }) };
  return {
    _id: `${runId}-${String(index).padStart(6, '0')}`,
    status: 'pending',
    ...fields,
    chaos: { kind, expect: EXPECT[kind] },
  };
}
