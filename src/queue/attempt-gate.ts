// Decides once per scheduled forward attempt whether it started or was stopped: one Redis key per attempt that the
// worker (right before it runs the step) and a cancel or the deadline (before it looks at the attempt's job) both
// try to set with a single `SET NX`. Whoever sets it first wins; the other reads what the winner wrote. BullMQ's
// own keys are never touched, so this holds whatever BullMQ does with the job meanwhile.
import type { StepJobRef } from '../model/step-job-ref.js';
import { queueKeyPrefix, stepJobId, stepQueueName } from './queue-names.js';

/** `step-failed`: a parallel group's member failed for good, which stops the other members. */
export type StopReason = 'cancelled' | 'deadline' | 'step-failed';

/**
 * What an attempt's key holds:
 * - `started`: a worker passed the gate and runs (or ran) the step in the attempt's own job; a stalled re-run of
 *   it passes again;
 * - `started:<ms>@<job id>`: a worker passed the gate at `<ms>` and runs (or ran) the step inside another job, the
 *   carrier: the job of an earlier step of the saga, which goes on to the next step in the same slot instead of
 *   queueing it (StepProcessor, `stepsPerJob`). The attempt has no job of its own while the carrier is active; if
 *   the carrier's worker dies, BullMQ re-runs the carrier, which queues the attempt's job;
 * - `lost`: the recovery sweeper re-added the attempt's job after Redis lost it, so it may have run before; a
 *   worker still runs it, a stop counts it as may-have-acted;
 * - `stopped:<reason>`: a cancel or the deadline won; no worker runs this attempt from now on. The stop that won
 *   then appends what it found (`:not-started` or `:may-have-acted`), so a later stop of the same attempt (a cut-off
 *   stop finished by the sweeper, a deadline racing a cancel) gives the same answer without the job, which the
 *   first one may have removed (or Redis lost and the sweeper re-added).
 */
export type AttemptMark =
  | 'started'
  | `started:${number}@${string}`
  | 'lost'
  | `stopped:${StopReason}`
  | `stopped:${StopReason}:${'not-started' | 'may-have-acted'}`;

/**
 * How long `stopped` and `lost` marks are kept: a week. They are rare (one per cancel, deadline or lost job) and
 * must outlive anything that could still process the attempt's job from an old view of the saga: a job added
 * after its stop (the write→add window) waiting behind a backlog, a worker's kept copy of the saga (see
 * StepProcessor.known). A saga's own deadline would not do: a stale copy does not know the saga ended.
 */
export const STOP_MARK_HOLD_MS = 7 * 24 * 3_600_000;

/**
 * How much longer than its step's timeout a `started` mark is kept. One is written per step, so it is kept short:
 * a stop only needs it while the job does not show that a worker took it, and BullMQ records that
 * (`processedOn`, `attemptsStarted`) in the same call that hands the job to the worker, before the mark is set.
 * Past it a stop wins the gate, finds the job taken (or gone) and counts the attempt as may-have-acted, as the
 * mark would have; a stalled re-run sets the mark again.
 */
export const STARTED_MARK_MARGIN_MS = 60_000;

/**
 * `<prefix>:{saga-orders}:gate:<step job id>`: under the hash tag of the attempt's step queue, so on the Redis
 * Cluster master that holds the attempt's job, and spread over the masters as the queues are.
 */
export function attemptGateKey(prefix: string, ref: StepJobRef): string {
  return `${queueKeyPrefix(prefix, stepQueueName(ref.saga, ref.version))}:gate:${stepJobId(ref)}`;
}

/** The reason a stop mark names; null for any other mark. */
export function stopReasonOf(mark: AttemptMark | null): StopReason | null {
  if (!mark?.startsWith('stopped:')) return null;
  const reason = mark.split(':')[1];
  return reason === 'deadline' || reason === 'step-failed' ? reason : 'cancelled';
}

/** True for a mark that lets a worker run the attempt (a `started` of its own or of a carrier, or `lost`). */
export function letsRun(mark: AttemptMark | null): boolean {
  return mark === null || mark.startsWith('started') || mark === 'lost';
}

/** The mark of an attempt run inside carrier job `jobId`, from `at`. */
export function carriedMark(jobId: string, at: Date): AttemptMark {
  return `started:${at.getTime()}@${jobId}`;
}

/** The carrier job and start of an attempt run inside another job; null for any other mark. */
export function carrierOf(mark: AttemptMark | null): { jobId: string; startedAt: Date } | null {
  const carried = mark === null ? null : /^started:(\d+)@(.+)$/.exec(mark);
  return carried ? { jobId: carried[2]!, startedAt: new Date(Number(carried[1])) } : null;
}
