// The end of every chaos scenario: wait until each order's saga has ended (bounded), then check the invariants,
// dead letters included, and print what was found.
import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { deadLetterJobId, DEAD_LETTER_QUEUE, queueKeyPrefix } from '../../src/queue/queue-names.js';
import type { SagaDocument } from '../../src/model/saga-document.js';
import { TERMINAL_STATUSES } from '../../src/model/saga-document.js';
import type { Say } from './chaos-cluster.js';
import { sleep } from './chaos-cluster.js';
import { checkCheckouts } from './checkout-invariants.js';
import { checkInvariants, type InvariantCounts, type InvariantReport } from './invariants.js';

/**
 * True once there are `expectedOrders` order-fulfillment sagas (and `expectedCheckouts` order-payment ones) and none
 * is open; false after `drainSeconds`.
 */
export async function waitForQuiescence(
  db: Db,
  expectedOrders: number,
  drainSeconds: number,
  say: Say,
  expectedCheckouts = 0,
): Promise<boolean> {
  const deadline = Date.now() + drainSeconds * 1000;
  let lastReport = 0;
  while (Date.now() < deadline) {
    try {
      const sagas = db.collection<SagaDocument>('sagas');
      const total = await sagas.countDocuments({ saga: 'order-fulfillment' });
      const checkouts = expectedCheckouts > 0 ? await sagas.countDocuments({ saga: 'order-payment' }) : 0;
      const open = await sagas.countDocuments({ status: { $nin: [...TERMINAL_STATUSES] } });
      if (total >= expectedOrders && checkouts >= expectedCheckouts && open === 0) return true;
      if (Date.now() - lastReport > 10_000) {
        say(`waiting: ${total}/${expectedOrders} sagas, ${open} not ended`);
        lastReport = Date.now();
      }
    } catch (error) {
      say(`quiescence poll failed: ${(error as Error).message}`);
    }
    await sleep(1_000);
  }
  return false;
}

/** The number of invariant violations in `counts` (0: all hold). */
export function violations(counts: InvariantCounts): number {
  return (
    counts.missing +
    counts.duplicates +
    counts.nonTerminal +
    counts.wrongOutcome +
    counts.doubleEffects +
    counts.badCompensations +
    counts.deadLettersMissing +
    counts.waitResumes +
    counts.waitingPastDeadline
  );
}

/**
 * Checks the invariants against MongoDB and the dead-letter queue, printing the outcomes and the first problems.
 * Dead letters lost with Redis data come back with the sweeper's next round (every 15 s): allows two rounds.
 */
export async function checkWithDeadLetters(
  db: Db,
  /** The runner's own client (a Cluster client on a Redis Cluster); the queue shares it and leaves it open. */
  redis: Redis | Cluster,
  queuePrefix: string,
  expectedOrders: number,
  say: Say,
  /** Checkouts the run inserted (checkout-feed.ts): checked by checkout-invariants.ts too. */
  expectedCheckouts = 0,
): Promise<InvariantReport> {
  const deadLetters = new Queue(DEAD_LETTER_QUEUE, {
    connection: redis,
    prefix: queueKeyPrefix(queuePrefix, DEAD_LETTER_QUEUE),
  });
  deadLetters.on('error', () => undefined);
  try {
    const hasDeadLetter = async (sagaId: string, generation: number): Promise<boolean> =>
      (await deadLetters.getJob(deadLetterJobId(sagaId, generation))) !== undefined;
    const check = async (): Promise<InvariantReport> =>
      withCheckouts(await checkInvariants(db, expectedOrders, hasDeadLetter), db, expectedCheckouts);
    let report = await check();
    for (let wait = 0; report.counts.deadLettersMissing > 0 && wait < 40; wait += 1) {
      await sleep(1_000);
      report = await check();
    }
    say(`outcomes: ${JSON.stringify(report.outcomes)}`);
    if (report.problems.length > 0) {
      say(`${report.problems.length} problems (first 30):`);
      for (const problem of report.problems.slice(0, 30)) say(`  ${problem}`);
    }
    return report;
  } finally {
    await deadLetters.close().catch(() => undefined);
  }
}

/** The orders' report with the checkouts' counts added to it (their outcomes prefixed `checkout:`). */
async function withCheckouts(
  report: InvariantReport,
  db: Db,
  expectedCheckouts: number,
): Promise<InvariantReport> {
  if (expectedCheckouts === 0) return report;
  const checkouts = await checkCheckouts(db, expectedCheckouts);
  const counts = { ...report.counts };
  for (const key of Object.keys(checkouts.counts) as (keyof typeof checkouts.counts)[]) {
    counts[key] = (counts[key] ?? 0) + checkouts.counts[key];
  }
  return {
    counts,
    outcomes: {
      ...report.outcomes,
      ...Object.fromEntries(
        Object.entries(checkouts.outcomes).map(([status, n]) => [`checkout:${status}`, n]),
      ),
    },
    problems: [...report.problems, ...checkouts.problems],
  };
}
