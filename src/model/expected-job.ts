// The jobs a non-terminal saga needs next, derived from its document alone. The recovery sweeper re-queues them
// when Redis lost them; a stale job re-queues them so a saga never waits on a job that no longer exists.
import type { SagaDefinition } from '../definition/index.js';
import type { ScheduledStep } from './step-job-ref.js';
import type { SagaDocument } from './saga-document.js';
import { jobBase, scheduledStepRefs } from './scheduled-attempt.js';
import { indexesOf, waveAt } from './step-group.js';

/**
 * One job, or one per unfinished member at a parallel group (forward) or wave (compensation). `definition` is the
 * saga's own version's, when this process loads it; without it the jobs are derived from the document alone (the
 * recovery sweeper restores jobs of versions it does not load, for the workers that do).
 */
export function expectedJobs(
  saga: SagaDocument,
  definition: SagaDefinition | undefined,
  now = Date.now(),
): ScheduledStep[] {
  const base = jobBase(saga);
  if (saga.status === 'running') {
    return scheduledStepRefs(saga).flatMap((ref) => {
      if (definition !== undefined && !definition.steps[ref.step]) return [];
      const step = saga.steps[ref.step]!;
      const due = step.status === 'retrying' ? step.nextAttemptAt?.getTime() : undefined;
      return [{ ref, delayMs: due === undefined ? 0 : Math.max(0, due - now) }];
    });
  }
  if (saga.status === 'compensating' && saga.compensation) {
    const { plan, position } = saga.compensation;
    // Every member of the wave is claimed under the wave's first position.
    return indexesOf(waveAt(saga, position)).flatMap((at) => {
      const stepIndex = plan[at];
      const step = stepIndex === undefined ? undefined : saga.steps[stepIndex];
      if (stepIndex === undefined || !step) return [];
      const record = step.compensation ?? { status: 'pending', attempts: 0 };
      if (record.status === 'completed') return [];
      const attempt = record.status === 'running' ? record.attempts : record.attempts + 1;
      const due = record.status === 'retrying' ? record.nextAttemptAt?.getTime() : undefined;
      return [
        {
          ref: {
            ...base,
            phase: 'compensate' as const,
            step: stepIndex,
            stepName: step.name,
            attempt,
            position,
          },
          delayMs: due === undefined ? 0 : Math.max(0, due - now),
        },
      ];
    });
  }
  return [];
}
