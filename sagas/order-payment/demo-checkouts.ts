// Demo checkouts for `sagastream demo` and `dev --demo`: each pays with one of the demo's test cards, which
// tell the simulated payment provider (src/cli/demo) how to answer, so every path of the saga shows up.

/** The simulated provider's test cards and what it does with a payment intent paid by each. */
export const TEST_CARDS = {
  /** Captured after a short delay: the saga completes. */
  'test-card-ok': 'captured',
  /** Declined after a short delay: check-payment fails, the intent is cancelled. */
  'test-card-declined': 'declined',
  /** Never answered: the wait times out and the intent is cancelled. */
  'test-card-no-answer': 'never',
} as const;

export type TestCard = keyof typeof TEST_CARDS;
export type ProviderAnswer = (typeof TEST_CARDS)[TestCard];

/** The provider's answer to a payment method; undefined for anything but a test card (it leaves those alone). */
export function answerFor(paymentMethod: unknown): ProviderAnswer | undefined {
  return typeof paymentMethod === 'string' && Object.hasOwn(TEST_CARDS, paymentMethod)
    ? TEST_CARDS[paymentMethod as TestCard]
    : undefined;
}

/** Relative frequency of each test card in the demo stream. */
const MIX: readonly (readonly [TestCard, number])[] = [
  ['test-card-ok', 75],
  ['test-card-declined', 12],
  ['test-card-no-answer', 13],
];
const MIX_TOTAL = MIX.reduce((sum, [, weight]) => sum + weight, 0);

const SKUS = ['book-1984', 'mug-blue', 'lamp-oak', 'tea-earl-grey', 'sock-wool', 'pen-fountain'];

type Random = () => number;

function pickCard(random: Random): TestCard {
  let roll = random() * MIX_TOTAL;
  for (const [card, weight] of MIX) {
    roll -= weight;
    if (roll < 0) return card;
  }
  return 'test-card-ok';
}

/** A checkout awaiting payment, paid by `card`. */
export function demoCheckout(card: TestCard, sequence: number, random: Random = Math.random) {
  const customer = `customer-${1 + (sequence % 97)}`;
  return {
    status: 'awaiting-payment',
    customer: { id: customer, email: `${customer}@example.com` },
    items: Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
      sku: SKUS[Math.floor(random() * SKUS.length)] ?? 'mug-blue',
      quantity: 1 + Math.floor(random() * 3),
    })),
    total_amount: Math.round((5 + random() * 195) * 100) / 100,
    currency: 'EUR',
    paymentMethod: card,
    placedAt: new Date(),
  };
}

/** The next checkout of the demo stream, its test card drawn from the mix. */
export function nextDemoCheckout(sequence: number, random: Random = Math.random): Record<string, unknown> {
  return demoCheckout(pickCard(random), sequence, random);
}
