// What a partition scenario measures after a fault heals: when the proxied worker completes a step again (its own
// metrics, so steps of the other worker do not count), how long the trigger stood still, and how long a
// partitioned process takes to obey SIGTERM.
import type { Db } from 'mongodb';
import type { SagaDocument } from '../../src/model/saga-document.js';
import type { LeaseDocument } from '../../src/store/lease.js';
import type { ManagedProcess } from './chaos-processes.js';
import { sleep } from './chaos-cluster.js';
import type { OrderFeed } from './order-feed.js';
import { completedStepAttempts, scrapeMetrics } from './process-probe.js';

export const TRIGGER_LEASE_ID = 'trigger:order-fulfillment';

const seconds = (ms: number): number => Math.round(ms / 100) / 10;

/** The step attempts a worker has completed so far, read from its `--metrics-port` listener. */
export async function completedSteps(metricsPort: number): Promise<number | undefined> {
  const text = await scrapeMetrics(metricsPort);
  return text === undefined ? undefined : completedStepAttempts(text);
}

/** Like `completedSteps`, retried a few times; throws when the worker does not answer. */
export async function completedStepsNow(metricsPort: number): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    const count = await completedSteps(metricsPort);
    if (count !== undefined) return count;
    if (attempt === 5) throw new Error(`no metrics on port ${metricsPort}: is the worker running?`);
    await sleep(200);
  }
}

export interface WorkerResume {
  /** Seconds from the heal to the worker's first completed step (±0.1 s); null: none within the bound. */
  resumeSeconds: number | null;
  /** Steps the worker completed in the `windowSeconds` after the heal. */
  stepsAfterHeal: number;
}

/**
 * Polls the worker's completed-step count every 100 ms from the heal on, for at least `windowMs` and until its
 * first step after the heal or `timeoutMs`. `baseline` is the count read at the heal.
 */
export async function measureWorkerResume(
  metricsPort: number,
  healAt: number,
  baseline: number,
  windowMs: number,
  timeoutMs: number,
): Promise<WorkerResume> {
  let resumeSeconds: number | null = null;
  let latest = baseline;
  while (Date.now() - healAt < timeoutMs) {
    const count = await completedSteps(metricsPort);
    if (count !== undefined) latest = count;
    if (resumeSeconds === null && latest > baseline) resumeSeconds = seconds(Date.now() - healAt);
    if (resumeSeconds !== null && Date.now() - healAt >= windowMs) break;
    await sleep(100);
  }
  return { resumeSeconds, stepsAfterHeal: latest - baseline };
}

export interface TriggerRecovery {
  /** Longest time without a new saga from the fault to 5 s after the catch-up (or the bound). */
  longestGapSeconds: number;
  /** Seconds from the heal until every order inserted during the fault had its saga; null: not within the bound. */
  catchUpSeconds: number | null;
  /** Orders inserted during the fault still without a saga at the end. */
  ordersWithoutSaga: number;
}

/** Waits until each order inserted in [faultAt, healAt] has a saga (at most `timeoutMs` after the heal). */
export async function measureTriggerRecovery(
  db: Db,
  feed: OrderFeed,
  faultAt: number,
  healAt: number,
  timeoutMs: number,
): Promise<TriggerRecovery> {
  const sagas = db.collection<SagaDocument>('sagas');
  const keys = feed.idsInsertedBetween(faultAt, healAt);
  const withoutSaga = async (): Promise<number> =>
    keys.length -
    (await sagas.countDocuments({ saga: 'order-fulfillment', key: { $in: keys } }).catch(() => 0));
  let catchUpAt: number | undefined;
  let missing = keys.length;
  while (Date.now() - healAt < timeoutMs) {
    missing = await withoutSaga();
    if (missing <= 0) {
      catchUpAt = Date.now();
      break;
    }
    await sleep(250);
  }
  // The tail after the catch-up shows whether sagas keep coming for new orders.
  const end = (catchUpAt ?? Date.now()) + 5_000;
  await sleep(Math.max(0, end - Date.now()));
  const created = await sagas
    .find(
      { createdAt: { $gte: new Date(faultAt), $lte: new Date(end) } },
      { projection: { createdAt: 1 }, sort: { createdAt: 1 } },
    )
    .toArray();
  let longestGap = 0;
  let previous = faultAt;
  for (const { createdAt } of [...created, { createdAt: new Date(end) }]) {
    longestGap = Math.max(longestGap, createdAt.getTime() - previous);
    previous = createdAt.getTime();
  }
  return {
    longestGapSeconds: seconds(longestGap),
    catchUpSeconds: catchUpAt === undefined ? null : seconds(Math.max(0, catchUpAt - healAt)),
    ordersWithoutSaga: Math.max(0, catchUpAt === undefined ? await withoutSaga() : 0),
  };
}

/** The pid in the trigger lease's holder (`<host>:<pid>:<random>`) while it is unexpired, else undefined. */
export async function leaseHolderPid(db: Db): Promise<number | undefined> {
  const lease = await db
    .collection<LeaseDocument>('leases')
    .findOne({ _id: TRIGGER_LEASE_ID })
    .catch(() => null);
  if (lease === null || lease.expiresAt.getTime() <= Date.now()) return undefined;
  return Number(lease.holder.split(':')[1]);
}

/** Waits up to `timeoutMs` for `watcher` to hold the trigger lease. */
export async function waitForLeader(db: Db, watcher: ManagedProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (watcher.pid !== undefined && (await leaseHolderPid(db)) === watcher.pid) return true;
    await sleep(200);
  }
  return false;
}

export interface SigtermResult {
  exitSeconds: number;
  /** It had not exited after the grace and was SIGKILLed. */
  killed: boolean;
}

/** SIGTERM, then SIGKILL after `graceMs`: how long the process took to go. */
export async function measureSigterm(target: ManagedProcess, graceMs: number): Promise<SigtermResult> {
  const sentAt = Date.now();
  await target.stop('SIGTERM', graceMs);
  const elapsed = Date.now() - sentAt;
  return { exitSeconds: seconds(elapsed), killed: elapsed >= graceMs };
}

/**
 * Whether a process's `/readyz` answered 200 (true), anything else (false), or nothing within 5 s (undefined).
 * Its own probes are bounded at 2 s, so a partitioned process answers 503 after about that long.
 */
async function readyNow(port: number): Promise<boolean | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return undefined;
  }
}

export interface ReadinessFigures {
  /** Seconds from the fault to the first not-ready answer; null: it stayed ready. */
  notReadySeconds: number | null;
  /** Seconds from the heal to the first ready answer after it; null: not ready again while watched. */
  readyAgainSeconds: number | null;
}

/**
 * Polls a process's `/readyz` every 250 ms from the fault on, for the "readiness is correct within 10 s"
 * (not-ready during a partition, ready again after the heal). `stop()` ends the polling and gives the figures.
 */
export class ReadinessWatch {
  private notReadyAt: number | null = null;
  private readyAgainAt: number | null = null;
  private healAt: number | null = null;
  private readonly polling: Promise<void>;
  private stopped = false;

  constructor(
    private readonly port: number,
    private readonly faultAt: number,
  ) {
    this.polling = this.poll();
  }

  healed(at: number): void {
    this.healAt = at;
  }

  async stop(): Promise<ReadinessFigures> {
    this.stopped = true;
    await this.polling;
    return {
      notReadySeconds: this.notReadyAt === null ? null : seconds(this.notReadyAt - this.faultAt),
      readyAgainSeconds:
        this.readyAgainAt === null || this.healAt === null ? null : seconds(this.readyAgainAt - this.healAt),
    };
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      const ready = await readyNow(this.port);
      const now = Date.now();
      if (ready === false && this.notReadyAt === null) this.notReadyAt = now;
      if (ready === true && this.healAt !== null && this.readyAgainAt === null) this.readyAgainAt = now;
      await sleep(250);
    }
  }
}
