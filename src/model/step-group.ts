// Parallel groups as the saga document records them: consecutive step records that carry the same `group`. Derived
// from the document alone, so the recovery sweeper handles groups of versions its process does not load.
import type { SagaDocument, StepRecord } from './saga-document.js';
import type { StepJobRef } from './step-job-ref.js';

/** Indexes `[first, end)` of the steps that run together with step `index`: its group, or the step alone. */
export interface StepSpan {
  first: number;
  end: number;
}

export function spanAt(steps: readonly Pick<StepRecord, 'group'>[], index: number): StepSpan {
  const group = steps[index]?.group;
  if (group === undefined) return { first: index, end: index + 1 };
  let first = index;
  while (first > 0 && steps[first - 1]?.group === group) first -= 1;
  let end = index + 1;
  while (end < steps.length && steps[end]?.group === group) end += 1;
  return { first, end };
}

/** The indexes of a span. */
export function indexesOf(span: StepSpan): number[] {
  return Array.from({ length: span.end - span.first }, (_, offset) => span.first + offset);
}

/** Whether every step of `span` completed: a group's last member to finish then moves the saga past it. */
export function spanCompleted(saga: Pick<SagaDocument, 'steps'>, span: StepSpan): boolean {
  return indexesOf(span).every((index) => saga.steps[index]?.status === 'completed');
}

/**
 * The compensation wave that starts at plan position `position`: `[position, end)` of plan entries whose steps are
 * members of one group (compensated at the same time), or that position alone.
 */
export function waveAt(saga: Pick<SagaDocument, 'steps' | 'compensation'>, position: number): StepSpan {
  const plan = saga.compensation?.plan ?? [];
  const group = saga.steps[plan[position] ?? -1]?.group;
  let end = position + 1;
  if (group !== undefined) while (end < plan.length && saga.steps[plan[end]!]?.group === group) end += 1;
  return { first: position, end };
}

/** Whether every compensation of the wave at `wave` completed. */
export function waveCompensated(saga: Pick<SagaDocument, 'steps' | 'compensation'>, wave: StepSpan): boolean {
  const plan = saga.compensation?.plan ?? [];
  return indexesOf(wave).every(
    (position) => saga.steps[plan[position]!]?.compensation?.status === 'completed',
  );
}

/** The span of step `index` in `definition` (its group's members, or the step alone); null past the last step. */
export function definitionSpan(
  definition: { readonly steps: readonly { readonly group?: { first: number; size: number } }[] },
  index: number,
): StepSpan | null {
  const step = definition.steps[index];
  if (!step) return null;
  return step.group
    ? { first: step.group.first, end: step.group.first + step.group.size }
    : { first: index, end: index + 1 };
}

/** The `$set` fields that schedule attempt 1 of every step of `span` (what the write that reaches it adds). */
export function scheduleFields(span: StepSpan): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const index of indexesOf(span)) {
    fields[`steps.${index}.status`] = 'scheduled';
    fields[`steps.${index}.attempts`] = 1;
  }
  return fields;
}

/** Attempt 1 of every step of `span`: the jobs the write that scheduled them queues after it. */
export function firstAttempts(
  base: Pick<StepJobRef, 'sagaId' | 'saga' | 'version' | 'generation'>,
  steps: readonly { readonly name: string }[],
  span: StepSpan,
): StepJobRef[] {
  return indexesOf(span).map((index) => ({
    ...base,
    phase: 'forward' as const,
    step: index,
    stepName: steps[index]!.name,
    attempt: 1,
  }));
}
