// A cancel or the deadline stops the forward attempt a running saga has scheduled, through its BullMQ job, and
// learns whether that attempt may have acted: nothing was written to MongoDB when it began.
import type { Job } from 'bullmq';
import { SagastreamError } from '../errors/index.js';
import type { StepJobData } from '../queue/job-data.js';
import { stepJobId } from '../queue/queue-names.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import type { StepJobRef } from '../model/step-job-ref.js';

/** Whether the stopped attempt may have acted; if so, since when it may have run (its compensation waits). */
export type StepJobStop = { mayHaveStarted: false } | { mayHaveStarted: true; since: Date };

/** How long a placeholder holds an attempt's id: far longer than any pause between a write and its job's add. */
export const PLACEHOLDER_HOLD_MS = 24 * 3_600_000;
/** A job found, removed and re-added by someone else in a loop: never expected more than twice. */
const MAX_ROUNDS = 10;
const QUEUED_STATES: readonly string[] = ['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children'];

/** Never handed to a worker: not active now, and not taken before (a stalled run, an infrastructure retry). */
function neverTaken(job: Job<StepJobData>, state: string): boolean {
  return QUEUED_STATES.includes(state) && !job.processedOn && job.attemptsStarted === 0;
}

/**
 * Makes sure attempt `ref` never starts from now on, and says whether it may have started before:
 * - its job waits and had never been taken: removed, so it never started (not compensated);
 * - its job is active, or was taken before: it may be running or have acted, since the job was taken;
 * - no job: Redis lost it, or the write that scheduled it has not been followed by its add yet. A placeholder
 *   takes the id, so a late add is a no-op, and the attempt counts as may-have-acted (compensating is safe,
 *   forgetting is not).
 * After a removal the placeholder goes in too, so nothing re-adds the job before the saga leaves `running`.
 */
export async function stopStepJob(
  queues: Pick<SagaQueues, 'stepQueue'>,
  ref: StepJobRef,
  reason: NonNullable<StepJobRef['placeholder']>,
  now: () => Date = () => new Date(),
): Promise<StepJobStop> {
  const queue = queues.stepQueue(ref.saga);
  const jobId = stepJobId(ref);
  let removed = false;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const job = await queue.getJob(jobId);
    if (!job) {
      await queue.add(
        ref.phase,
        { ...ref, placeholder: reason },
        { jobId, delay: PLACEHOLDER_HOLD_MS, removeOnComplete: true, removeOnFail: true },
      );
      continue; // ours now, or a real job that was added meanwhile: look again
    }
    if (job.data.placeholder)
      return removed ? { mayHaveStarted: false } : { mayHaveStarted: true, since: now() };
    const state = await job.getState();
    if (neverTaken(job, state)) {
      // A locked job (a worker took it since) refuses removal: look again.
      removed = await job.remove().then(
        () => true,
        () => removed,
      );
      continue;
    }
    return { mayHaveStarted: true, since: new Date(job.processedOn ?? job.timestamp) };
  }
  throw new SagastreamError(
    'INVALID_STATE',
    `the job of ${stepJobId(ref)} kept changing while being stopped`,
    {
      sagaId: ref.sagaId,
    },
  );
}
