// Which forward attempt a running saga waits for, derived from its document: the one rule that the step
// processor's check before running, the result write's filter and the recovery sweeper all follow.
import { versionOf } from '../definition/index.js';
import type { SagaDocument } from './saga-document.js';
import type { StepJobRef } from './step-job-ref.js';

/**
 * The attempt of its current step a running saga has scheduled: `scheduled` (and `running`, written only by a
 * cancel or by versions that claimed attempts) name it, `pending` and `retrying` count the attempts made before.
 */
export function scheduledAttempt(saga: Pick<SagaDocument, 'status' | 'steps' | 'stepIndex'>): number | null {
  if (saga.status !== 'running') return null;
  const step = saga.steps[saga.stepIndex];
  if (!step) return null;
  switch (step.status) {
    case 'scheduled':
    case 'running':
      return step.attempts;
    case 'pending':
    case 'retrying':
      return step.attempts + 1;
    default:
      return null;
  }
}

/** True when `ref` is the forward attempt the saga waits for, in its generation: only then may it run. */
export function isScheduledAttempt(
  saga: Pick<SagaDocument, 'status' | 'steps' | 'stepIndex' | 'generation'>,
  ref: Pick<StepJobRef, 'step' | 'attempt' | 'generation'>,
): boolean {
  return (
    saga.generation === ref.generation &&
    saga.stepIndex === ref.step &&
    scheduledAttempt(saga) === ref.attempt
  );
}

/** The forward job a running saga waits for; null once it left `running`. */
export function scheduledStepRef(
  saga: Pick<SagaDocument, '_id' | 'saga' | 'version' | 'status' | 'steps' | 'stepIndex' | 'generation'>,
): StepJobRef | null {
  const attempt = scheduledAttempt(saga);
  const step = saga.steps[saga.stepIndex];
  if (attempt === null || !step) return null;
  return {
    sagaId: saga._id,
    saga: saga.saga,
    version: versionOf(saga),
    phase: 'forward',
    step: saga.stepIndex,
    stepName: step.name,
    attempt,
    generation: saga.generation,
  };
}
