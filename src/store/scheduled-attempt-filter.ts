// The filter of every write that records a forward attempt's outcome (or enters a wait): it matches while the
// attempt is the one the saga has scheduled, the same rule as model/scheduled-attempt.ts.
import type { Filter } from 'mongodb';
import type { SagaDocument } from '../model/saga-document.js';
import type { StepJobRef } from '../model/step-job-ref.js';

/**
 * Matches while `ref` is the attempt the saga has scheduled. Nothing was written when the attempt began. `at` is the
 * saga's `stepIndex` while the attempt is scheduled: the step's own, or its parallel group's first member's.
 */
export function scheduledAttemptFilter(ref: StepJobRef, at = ref.step): Filter<SagaDocument> {
  const path = `steps.${ref.step}`;
  return {
    _id: ref.sagaId,
    status: 'running',
    generation: ref.generation,
    stepIndex: at,
    $or: [
      { [`${path}.status`]: { $in: ['scheduled', 'running'] }, [`${path}.attempts`]: ref.attempt },
      { [`${path}.status`]: { $in: ['pending', 'retrying'] }, [`${path}.attempts`]: ref.attempt - 1 },
    ],
  };
}
