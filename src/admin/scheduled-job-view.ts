// Whether the attempt a running saga has scheduled waits in BullMQ or runs: MongoDB does not know, since nothing
// is written when a step begins (one write per step, see engine/ARCHITECTURE.md). BullMQ's job state says.
import { scheduledStepRef, scheduledStepRefs } from '../model/scheduled-attempt.js';
import type { StepJobRef } from '../model/step-job-ref.js';
import type { SagaDocument } from '../model/saga-document.js';
import { stepJobId } from '../queue/queue-names.js';
import type { SagaQueues } from '../queue/saga-queues.js';

export interface ScheduledJobView {
  state: 'queued' | 'running';
  /** When a worker took the job (BullMQ's processedOn), while it runs. */
  startedAt: Date | null;
}

const QUEUED_STATES: readonly string[] = ['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children'];

/**
 * The scheduled attempt's job as shown; null when the saga waits for none or its job is missing. An attempt run
 * inside an earlier step's job (its gate names that carrier, attempt-gate.ts) shows as running while the carrier is
 * active, since the time in its mark.
 */
export async function scheduledJobView(
  queues: Pick<SagaQueues, 'stepQueue' | 'carrierOfAttempt'>,
  saga: SagaDocument,
  ref: StepJobRef | null = scheduledStepRef(saga),
): Promise<ScheduledJobView | null> {
  if (!ref) return null;
  const queue = queues.stepQueue(saga.saga, ref.version);
  const job = await queue.getJob(stepJobId(ref));
  if (!job) {
    const carrier = ref.phase === 'forward' ? await queues.carrierOfAttempt(ref) : null;
    return carrier?.state === 'active' ? { state: 'running', startedAt: carrier.startedAt } : null;
  }
  const state = await job.getState();
  if (state === 'active') {
    return { state: 'running', startedAt: job.processedOn ? new Date(job.processedOn) : null };
  }
  return QUEUED_STATES.includes(state) ? { state: 'queued', startedAt: null } : null;
}

/** The view of each attempt the saga has scheduled (one, or one per unfinished member of a group), by step index. */
export async function scheduledJobViews(
  queues: Pick<SagaQueues, 'stepQueue' | 'carrierOfAttempt'>,
  saga: SagaDocument,
): Promise<Map<number, ScheduledJobView>> {
  const views = new Map<number, ScheduledJobView>();
  for (const ref of scheduledStepRefs(saga)) {
    const view = await scheduledJobView(queues, saga, ref);
    if (view) views.set(ref.step, view);
  }
  return views;
}
