// The job a non-terminal saga needs next, derived from its document alone. The recovery sweeper re-queues it
// when Redis lost it; a stale job re-queues it so a saga never waits on a job that no longer exists.
import { versionOf, type SagaDefinition } from '../definition/index.js';
import type { ScheduledStep } from './step-job-ref.js';
import type { SagaDocument } from './saga-document.js';
import { scheduledStepRef } from './scheduled-attempt.js';

/**
 * `definition` is the saga's own version's, when this process loads it; without it the job is derived from the
 * document alone (the recovery sweeper restores jobs of versions it does not load, for the workers that do).
 */
export function expectedJob(
  saga: SagaDocument,
  definition: SagaDefinition | undefined,
  now = Date.now(),
): ScheduledStep | null {
  const trace = saga.trace ? { trace: saga.trace.traceparent } : {};
  const base = {
    sagaId: saga._id,
    saga: saga.saga,
    version: versionOf(saga),
    generation: saga.generation,
    ...trace,
  };
  if (saga.status === 'running') {
    const scheduled = scheduledStepRef(saga);
    if (!scheduled || (definition !== undefined && !definition.steps[scheduled.step])) return null;
    const ref = { ...scheduled, ...trace };
    const step = saga.steps[ref.step]!;
    const due = step.status === 'retrying' ? step.nextAttemptAt?.getTime() : undefined;
    return { ref, delayMs: due === undefined ? 0 : Math.max(0, due - now) };
  }
  if (saga.status === 'compensating' && saga.compensation) {
    const { plan, position } = saga.compensation;
    const stepIndex = plan[position];
    if (stepIndex === undefined) return null;
    const step = saga.steps[stepIndex];
    if (!step) return null;
    const record = step.compensation ?? { status: 'pending', attempts: 0 };
    const attempt = record.status === 'running' ? record.attempts : record.attempts + 1;
    const due = record.status === 'retrying' ? record.nextAttemptAt?.getTime() : undefined;
    return {
      ref: { ...base, phase: 'compensate', step: stepIndex, stepName: step.name, attempt, position },
      delayMs: due === undefined ? 0 : Math.max(0, due - now),
    };
  }
  return null;
}
