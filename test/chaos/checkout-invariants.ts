// The promises a chaos run checks for its checkouts (order-payment: a wait for the provider's answer, then the
// parallel group `prepare`): one saga per checkout, the outcome its plan expects, each wait ended by exactly one
// resume (or by its timeout, never both), no saga still waiting past its deadline, and effects applied at most
// once and undone by compensation, the group's members included.
import type { Db } from 'mongodb';
import type { SagaDocument } from '../../src/model/saga-document.js';
import { isTerminal } from '../../src/model/saga-document.js';
import { PAYMENT_COLLECTIONS } from '../../sagas/order-payment/index.js';
import type { ChaosCheckout } from './checkout-mix.js';

export interface CheckoutCounts {
  checkouts: number;
  checkoutSagas: number;
  /** Waits resumed more than once, or resumed although the plan never answered them. */
  waitResumes: number;
  /** Sagas that still wait although their deadline has passed. */
  waitingPastDeadline: number;
}

interface Effect {
  _id: string;
  orderId: string;
  status: string;
}

/** Forward step → its ledger, what it records, and what its compensation leaves ('' : none). */
const LEDGERS = [
  {
    step: 'create-payment-intent',
    collection: PAYMENT_COLLECTIONS.paymentIntents,
    done: 'created',
    undone: 'cancelled',
  },
  {
    step: 'reserve-stock',
    collection: PAYMENT_COLLECTIONS.stockReservations,
    done: 'reserved',
    undone: 'released',
  },
  {
    step: 'book-courier',
    collection: PAYMENT_COLLECTIONS.courierBookings,
    done: 'booked',
    undone: 'cancelled',
  },
  { step: 'confirm', collection: PAYMENT_COLLECTIONS.confirmations, done: 'sent', undone: '' },
] as const;

const WAIT_STEP = 'payment-answered';

export interface CheckoutReport {
  counts: CheckoutCounts & {
    missing: number;
    duplicates: number;
    nonTerminal: number;
    wrongOutcome: number;
    doubleEffects: number;
    badCompensations: number;
  };
  outcomes: Record<string, number>;
  problems: string[];
}

export async function checkCheckouts(db: Db, expected: number, now = new Date()): Promise<CheckoutReport> {
  const problems: string[] = [];
  const checkouts = await db.collection<ChaosCheckout>('checkouts').find({}).toArray();
  const sagas = await db.collection<SagaDocument>('sagas').find({ saga: 'order-payment' }).toArray();
  const counts: CheckoutReport['counts'] = {
    checkouts: checkouts.length,
    checkoutSagas: sagas.length,
    waitResumes: 0,
    waitingPastDeadline: 0,
    missing: Math.max(0, expected - checkouts.length),
    duplicates: 0,
    nonTerminal: 0,
    wrongOutcome: 0,
    doubleEffects: 0,
    badCompensations: 0,
  };
  if (checkouts.length < expected)
    problems.push(`${expected - checkouts.length} inserted checkouts vanished`);
  const effects = new Map<string, Effect[]>();
  for (const ledger of [...LEDGERS, { collection: PAYMENT_COLLECTIONS.refunds }]) {
    for (const effect of await db.collection<Effect>(ledger.collection).find({}).toArray()) {
      const key = `${ledger.collection}|${effect.orderId}`;
      effects.set(key, [...(effects.get(key) ?? []), effect]);
    }
  }
  const sagasByKey = new Map<string, SagaDocument[]>();
  for (const saga of sagas) sagasByKey.set(saga.key, [...(sagasByKey.get(saga.key) ?? []), saga]);
  const outcomes: Record<string, number> = {};
  for (const saga of sagas) {
    if (saga.waiting && saga.deadline.getTime() < now.getTime()) {
      counts.waitingPastDeadline += 1;
      problems.push(`saga ${saga._id} still waits for ${saga.waiting.ns} past its deadline`);
    }
  }
  for (const checkout of checkouts) {
    const found = sagasByKey.get(checkout._id) ?? [];
    const label = `checkout ${checkout._id} (${checkout.chaos.kind})`;
    if (found.length !== 1) {
      if (found.length === 0) counts.missing += 1;
      else counts.duplicates += found.length - 1;
      problems.push(`${label} has ${found.length} sagas`);
      if (found.length === 0) continue;
    }
    for (const [collection, records] of [
      ...LEDGERS.map((ledger) => ledger.collection),
      PAYMENT_COLLECTIONS.refunds,
    ].map((collection) => [collection, effects.get(`${collection}|${checkout._id}`) ?? []] as const)) {
      if (records.length > 1) {
        counts.doubleEffects += records.length - 1;
        problems.push(`${label}: ${records.length} ${collection} records`);
      }
    }
    const saga = found[0]!;
    outcomes[saga.status] = (outcomes[saga.status] ?? 0) + 1;
    if (!isTerminal(saga.status)) {
      counts.nonTerminal += 1;
      problems.push(`saga ${saga._id} (${label}) is still ${saga.status}`);
      continue;
    }
    if (saga.status !== checkout.chaos.expect) {
      counts.wrongOutcome += 1;
      problems.push(`saga ${saga._id} (${label}) ended ${saga.status}, expected ${checkout.chaos.expect}`);
    }
    // Exactly one resume for an answered wait, none for one never answered (its timeout ended it).
    const resumes = (saga.history ?? []).filter(
      (event) => event.step === WAIT_STEP && (event.type === 'wait-ended' || event.type === 'saga-completed'),
    ).length;
    const expectedResumes = checkout.chaos.kind === 'unpaid' ? 0 : 1;
    if (resumes !== expectedResumes) {
      counts.waitResumes += 1;
      problems.push(
        `saga ${saga._id} (${label}): its wait was resumed ${resumes} times, expected ${expectedResumes}`,
      );
    }
    const effectProblems = LEDGERS.flatMap((ledger) => {
      const record = (effects.get(`${ledger.collection}|${checkout._id}`) ?? [])[0];
      if (saga.status === 'completed' && record?.status !== ledger.done)
        return [`completed, but ${ledger.collection} is ${record?.status ?? 'missing'}`];
      if (
        saga.status === 'compensated' &&
        record !== undefined &&
        record.status === ledger.done &&
        ledger.undone !== ''
      )
        return [`compensated, but ${ledger.collection} is still ${ledger.done}`];
      if (saga.status === 'compensated' && ledger.undone === '' && record !== undefined)
        return [`compensated, but ${ledger.collection} has ${record.status}`];
      return [];
    });
    const refunds = effects.get(`${PAYMENT_COLLECTIONS.refunds}|${checkout._id}`) ?? [];
    if (checkout.chaos.kind !== 'paid' && checkout.chaos.kind !== 'paid-twice' && refunds.length > 0)
      effectProblems.push('refunded a payment that was never captured');
    if (effectProblems.length > 0) {
      counts.badCompensations += 1;
      problems.push(...effectProblems.map((problem) => `saga ${saga._id} (${label}): ${problem}`));
    }
  }
  return { counts, outcomes, problems };
}
