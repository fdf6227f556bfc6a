// Which forward attempts a running saga waits for, derived from its document: the one rule that the step
// processor's check before running, the result write's filter and the recovery sweeper all follow. A saga waits for
// one attempt of its current step, or, at a parallel group, for one of each member that has not completed.
import { versionOf } from '../definition/index.js';
import type { SagaDocument, StepRecord } from './saga-document.js';
import type { StepJobRef } from './step-job-ref.js';
import { indexesOf, spanAt } from './step-group.js';

/**
 * The attempt of a step the saga has scheduled: `scheduled` (and `running`, written only by a stop or by versions
 * that claimed attempts) name it, `pending` and `retrying` count the attempts made before. Null for any other status.
 */
export function attemptOf(step: Pick<StepRecord, 'status' | 'attempts'> | undefined): number | null {
  switch (step?.status) {
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

type ScheduledFields = Pick<SagaDocument, 'status' | 'steps' | 'stepIndex'>;

/** What every job derived from a saga document names of it, its trace context included (tracing/). */
export function jobBase(
  saga: Pick<SagaDocument, '_id' | 'saga' | 'version' | 'generation' | 'trace'>,
): Pick<StepJobRef, 'sagaId' | 'saga' | 'version' | 'generation' | 'trace'> {
  return {
    sagaId: saga._id,
    saga: saga.saga,
    version: versionOf(saga),
    generation: saga.generation,
    ...(saga.trace ? { trace: saga.trace.traceparent } : {}),
  };
}

/** The attempt of its current step a running saga has scheduled (of a group: of its first member). */
export function scheduledAttempt(saga: ScheduledFields): number | null {
  if (saga.status !== 'running') return null;
  return attemptOf(saga.steps[saga.stepIndex]);
}

/** True when `ref` is a forward attempt the saga waits for, in its generation: only then may it run. */
export function isScheduledAttempt(
  saga: ScheduledFields & Pick<SagaDocument, 'generation'>,
  ref: Pick<StepJobRef, 'step' | 'attempt' | 'generation'>,
): boolean {
  if (saga.status !== 'running' || saga.generation !== ref.generation) return false;
  const span = spanAt(saga.steps, saga.stepIndex);
  return (
    span.first === saga.stepIndex &&
    ref.step >= span.first &&
    ref.step < span.end &&
    attemptOf(saga.steps[ref.step]) === ref.attempt
  );
}

/** The forward jobs a running saga waits for (one, or one per unfinished member of a group); none once it left `running`. */
export function scheduledStepRefs(
  saga: Pick<
    SagaDocument,
    '_id' | 'saga' | 'version' | 'status' | 'steps' | 'stepIndex' | 'generation' | 'trace'
  >,
): StepJobRef[] {
  if (saga.status !== 'running') return [];
  const base = jobBase(saga);
  return indexesOf(spanAt(saga.steps, saga.stepIndex)).flatMap((index) => {
    const step = saga.steps[index];
    const attempt = attemptOf(step);
    if (attempt === null || !step) return [];
    return [{ ...base, phase: 'forward' as const, step: index, stepName: step.name, attempt }];
  });
}

/** The forward job a running saga waits for; null once it left `running` (of a group: its first unfinished member). */
export function scheduledStepRef(
  saga: Pick<
    SagaDocument,
    '_id' | 'saga' | 'version' | 'status' | 'steps' | 'stepIndex' | 'generation' | 'trace'
  >,
): StepJobRef | null {
  return scheduledStepRefs(saga)[0] ?? null;
}
