// The promises a chaos run checks against MongoDB (and the dead-letter queue) once every saga has ended.
import type { Db } from 'mongodb';
import type { SagaDocument } from '../../src/model/saga-document.js';
import { isTerminal } from '../../src/model/saga-document.js';
import { SERVICE_COLLECTIONS } from '../../sagas/order-fulfillment/index.js';
import type { ChaosOrder } from './order-mix.js';

export interface InvariantCounts {
  orders: number;
  sagas: number;
  missing: number;
  duplicates: number;
  nonTerminal: number;
  wrongOutcome: number;
  doubleEffects: number;
  badCompensations: number;
  deadLettersMissing: number;
  /** Checkouts (checkout-invariants.ts), 0 in runs without them. */
  checkouts: number;
  checkoutSagas: number;
  /** Waits resumed other than exactly once per answer. */
  waitResumes: number;
  /** Sagas still waiting past their deadline. */
  waitingPastDeadline: number;
}

export interface InvariantReport {
  readonly counts: InvariantCounts;
  readonly outcomes: Record<string, number>;
  /** One line per violation (the first few are printed). */
  readonly problems: string[];
}

/** The forward step → its service collection, forward status and undone status. */
const LEDGERS = [
  { step: 'process-payment', collection: SERVICE_COLLECTIONS.payments, done: 'captured', undone: 'refunded' },
  {
    step: 'reserve-inventory',
    collection: SERVICE_COLLECTIONS.reservations,
    done: 'reserved',
    undone: 'released',
  },
  {
    step: 'calculate-shipping',
    collection: SERVICE_COLLECTIONS.shipments,
    done: 'booked',
    undone: 'cancelled',
  },
  { step: 'send-confirmation', collection: SERVICE_COLLECTIONS.notifications, done: 'sent', undone: '' },
] as const;

interface Effect {
  _id: string;
  orderId: string;
  status: string;
  undoneAt?: Date;
}

export type HasDeadLetter = (sagaId: string, generation: number) => Promise<boolean>;

export async function checkInvariants(
  db: Db,
  expectedOrders: number,
  hasDeadLetter: HasDeadLetter,
): Promise<InvariantReport> {
  const problems: string[] = [];
  const orders = await db.collection<ChaosOrder>('orders').find({}).toArray();
  const sagas = await db.collection<SagaDocument>('sagas').find({ saga: 'order-fulfillment' }).toArray();
  const counts: InvariantCounts = {
    orders: orders.length,
    sagas: sagas.length,
    missing: Math.max(0, expectedOrders - orders.length),
    duplicates: 0,
    nonTerminal: 0,
    wrongOutcome: 0,
    doubleEffects: 0,
    badCompensations: 0,
    deadLettersMissing: 0,
    checkouts: 0,
    checkoutSagas: 0,
    waitResumes: 0,
    waitingPastDeadline: 0,
  };
  if (orders.length < expectedOrders)
    problems.push(`${expectedOrders - orders.length} inserted orders vanished`);

  const sagasByKey = new Map<string, SagaDocument[]>();
  for (const saga of sagas) sagasByKey.set(saga.key, [...(sagasByKey.get(saga.key) ?? []), saga]);
  const effects = new Map<string, Effect[]>();
  for (const ledger of LEDGERS) {
    for (const effect of await db.collection<Effect>(ledger.collection).find({}).toArray()) {
      const key = `${ledger.collection}|${effect.orderId}`;
      effects.set(key, [...(effects.get(key) ?? []), effect]);
    }
  }

  const outcomes: Record<string, number> = {};
  const orderIds = new Set(orders.map((order) => order._id));
  for (const saga of sagas) {
    if (!orderIds.has(saga.key)) {
      counts.duplicates += 1;
      problems.push(`saga ${saga._id} has key ${saga.key}, which is no order`);
    }
  }
  for (const order of orders) {
    const found = sagasByKey.get(order._id) ?? [];
    if (found.length === 0) {
      counts.missing += 1;
      problems.push(`order ${order._id} (${order.chaos.kind}) has no saga`);
      continue;
    }
    if (found.length > 1) {
      counts.duplicates += found.length - 1;
      problems.push(
        `order ${order._id} has ${found.length} sagas: ${found.map((saga) => saga._id).join(', ')}`,
      );
    }
    for (const ledger of LEDGERS) {
      const records = effects.get(`${ledger.collection}|${order._id}`) ?? [];
      if (records.length > 1) {
        counts.doubleEffects += records.length - 1;
        problems.push(`order ${order._id}: ${records.length} ${ledger.collection} records (${ledger.step})`);
      }
    }
    for (const saga of found) {
      outcomes[saga.status] = (outcomes[saga.status] ?? 0) + 1;
      if (!isTerminal(saga.status)) {
        counts.nonTerminal += 1;
        problems.push(`saga ${saga._id} (order ${order._id}, ${order.chaos.kind}) is still ${saga.status}`);
        continue;
      }
      if (saga.status !== order.chaos.expect) {
        counts.wrongOutcome += 1;
        const reason = saga.error?.message ?? saga.reason ?? '';
        problems.push(
          `saga ${saga._id} (order ${order._id}, ${order.chaos.kind}) ended ${saga.status}, expected ` +
            `${order.chaos.expect} ${reason}`,
        );
      }
      const effectProblems = checkEffects(
        saga,
        (collection) => effects.get(`${collection}|${order._id}`) ?? [],
      );
      if (effectProblems.length > 0) {
        counts.badCompensations += 1;
        problems.push(
          ...effectProblems.map((problem) => `saga ${saga._id} (order ${order._id}): ${problem}`),
        );
      }
      if (
        (saga.status === 'failed' || saga.status === 'rejected') &&
        !(await hasDeadLetter(saga._id, saga.generation))
      ) {
        counts.deadLettersMissing += 1;
        problems.push(`saga ${saga._id} (${saga.status}) has no dead-letter entry`);
      }
    }
  }
  return { counts, outcomes, problems };
}

/**
 * A saga's effects agree with its steps: each forward effect belongs to this saga's idempotency key; a completed
 * saga's effects are all applied; compensations ran only for steps that completed or may have had an effect
 * (timed out), most recent first, and left the effect undone.
 */
function checkEffects(saga: SagaDocument, recordsOf: (collection: string) => Effect[]): string[] {
  const problems: string[] = [];
  const plan = saga.compensation?.plan ?? [];
  for (let index = 1; index < plan.length; index += 1) {
    if ((plan[index] ?? 0) >= (plan[index - 1] ?? 0))
      problems.push(`compensation plan ${plan.join(',')} is not reverse order`);
  }
  let previousEnd = 0;
  for (const stepIndex of plan) {
    const step = saga.steps[stepIndex];
    const compensation = step?.compensation;
    if (step === undefined || compensation === undefined || compensation.status === 'pending') continue;
    const ledger = LEDGERS.find((candidate) => candidate.step === step.name);
    const mayHaveRun = step.status === 'completed' || step.mayHaveEffect === true;
    if (compensation.status !== 'skipped' && !mayHaveRun) {
      problems.push(`compensation of ${step.name} ran, but the step ${step.status} without any effect`);
    }
    const ended = compensation.endedAt?.getTime() ?? Number.POSITIVE_INFINITY;
    if (ended < previousEnd) problems.push(`compensation of ${step.name} ended before the later step's`);
    previousEnd = Math.min(ended, Number.MAX_SAFE_INTEGER);
    if (ledger === undefined || ledger.undone === '' || compensation.status !== 'completed') continue;
    const record = recordsOf(ledger.collection).find((effect) => effect._id === `${saga._id}:${step.name}`);
    if (record?.status === ledger.done)
      problems.push(`${step.name} compensated but ${ledger.collection} still ${ledger.done}`);
    if (step.status === 'completed' && record?.status !== ledger.undone) {
      problems.push(
        `${step.name} completed and compensated, but its ${ledger.collection} record is ${record?.status ?? 'missing'}`,
      );
    }
  }
  for (const [stepIndex, step] of saga.steps.entries()) {
    const ledger = LEDGERS[stepIndex];
    if (ledger === undefined) continue;
    const records = recordsOf(ledger.collection);
    for (const record of records) {
      if (record._id !== `${saga._id}:${step.name}`)
        problems.push(`${ledger.collection} ${record._id} is no key of this saga`);
    }
    const record = records[0];
    if (saga.status === 'completed' && record?.status !== ledger.done) {
      problems.push(`completed, but ${ledger.collection} is ${record?.status ?? 'missing'}`);
    }
    if (saga.status === 'rejected' && record !== undefined)
      problems.push(`rejected, but has ${ledger.collection} ${record.status}`);
    if (saga.status === 'compensated' && ledger.undone !== '' && record?.status === ledger.done) {
      problems.push(`compensated, but ${ledger.collection} is still ${ledger.done}`);
    }
    if (step.status === 'failed' && step.mayHaveEffect !== true && record?.status === ledger.done) {
      problems.push(`${step.name} failed on every attempt, yet ${ledger.collection} is ${ledger.done}`);
    }
  }
  return problems;
}
