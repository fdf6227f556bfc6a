// A cancel or the deadline stops the forward attempt a running saga has scheduled and learns whether that attempt
// may have acted: nothing was written to MongoDB when it began. The attempt's gate (queue/attempt-gate.ts) decides
// started or stopped in one atomic step that the worker goes through too; the job only tells what the gate cannot
// (Redis lost the mark, or the mark expired).
import type { Job } from 'bullmq';
import type { StepJobData } from '../queue/job-data.js';
import { STOP_MARK_HOLD_MS, carrierOf, type AttemptMark, type StopReason } from '../queue/attempt-gate.js';
import { stepJobId } from '../queue/queue-names.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import type { StepJobRef } from '../model/step-job-ref.js';

/** Whether the stopped attempt may have acted; if so, since when it may have run (its compensation waits). */
export type StepJobStop = { mayHaveStarted: false } | { mayHaveStarted: true; since: Date };

/** Points where a test can hold a stop between its steps to hit a race deterministically. */
export interface StepJobStopHooks {
  /** The attempt is chosen (the saga was read), the gate not yet set. */
  beforeGate?: (ref: StepJobRef) => Promise<void>;
  /** The gate is set and the job looked at; its verdict and the job's removal follow. */
  afterLook?: (ref: StepJobRef) => Promise<void>;
}

/** Never handed to a worker: BullMQ sets both in the call that gives a job to a worker, and keeps them after. */
function neverTaken(job: Job<StepJobData>): boolean {
  return !job.processedOn && job.attemptsStarted === 0;
}

/** What a stop concludes from the gate's previous mark (null: this stop set it) and the job as it looked after. */
function verdict(mark: AttemptMark | null, job: Job<StepJobData> | undefined, now: () => Date): StepJobStop {
  const since = (): Date => (job?.processedOn ? new Date(job.processedOn) : now());
  if (mark !== null) {
    // An earlier stop of this attempt set the gate and saw its job never taken: it never began.
    if (mark.endsWith(':not-started')) return { mayHaveStarted: false };
    // A worker went through the gate first, the job may have run before Redis lost it, an earlier stop found it may
    // have acted, or one has not recorded what it found (it may have been cut off after Redis lost the job and the
    // sweeper re-added it untaken): may have acted. An attempt run inside a carrier job has no job of its own; its
    // mark holds when it began.
    return { mayHaveStarted: true, since: carrierOf(mark)?.startedAt ?? since() };
  }
  // This stop set the gate: no worker runs the attempt from now on; the job tells whether one did before.
  if (!job) return { mayHaveStarted: true, since: now() };
  if (!neverTaken(job)) return { mayHaveStarted: true, since: since() };
  return { mayHaveStarted: false };
}

/**
 * Makes sure attempt `ref` never starts from now on, and says whether it may have started before. The gate is set
 * to `stopped` first (no worker runs the attempt after that, whatever BullMQ does with its job), then:
 * - the gate held `started` (a worker passed it, in the attempt's job or inside a carrier job) or `lost` (its job was re-added after Redis lost it): may have
 *   acted, since the job was taken;
 * - the job waits, never taken: it never began (not compensated); removing it is only cleanup now;
 * - the job was taken (by a worker that then found the gate stopped, or before its mark expired): may have acted;
 * - no job: Redis lost it (and the mark with it), or the write that scheduled it has not been followed by its add
 *   yet: may have acted (compensating is safe, forgetting is not). A late add queues a job that never runs.
 * The stop that set the gate records its verdict on it, so a second stop of the attempt answers the same; a second
 * stop that finds no verdict yet counts the attempt as may-have-acted.
 */
export async function stopStepJob(
  queues: Pick<SagaQueues, 'stepQueue' | 'markAttempt' | 'recordStopVerdict'>,
  ref: StepJobRef,
  reason: StopReason,
  now: () => Date = () => new Date(),
  hooks: StepJobStopHooks = {},
): Promise<StepJobStop> {
  await hooks.beforeGate?.(ref);
  const mark = await queues.markAttempt(ref, `stopped:${reason}`, STOP_MARK_HOLD_MS);
  const job = await queues.stepQueue(ref.saga, ref.version).getJob(stepJobId(ref));
  await hooks.afterLook?.(ref);
  const stop = verdict(mark, job, now);
  if (mark === null) await queues.recordStopVerdict(ref, reason, stop.mayHaveStarted);
  // A worker that took the job meanwhile holds its lock and the removal fails: it finds the gate stopped.
  if (!stop.mayHaveStarted) await job?.remove().catch(() => undefined);
  return stop;
}
