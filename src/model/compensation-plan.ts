// Which completed steps a failing saga undoes, and in which order: a pure derivation from its document.
import type { SagaDefinition } from '../definition/index.js';
import type { SagaDocument } from './saga-document.js';

/**
 * Steps to compensate, most recent first: those that completed, and those whose effect may exist (an attempt
 * timed out or is still in flight). Steps without a `compensate` are skipped, and so are wait steps that did not
 * end with a document.
 */
export function compensationPlan(
  saga: SagaDocument,
  definition: SagaDefinition,
): { plan: number[]; skipped: number[] } {
  const plan: number[] = [];
  const skipped: number[] = [];
  for (let index = saga.steps.length - 1; index >= 0; index--) {
    const step = saga.steps[index]!;
    // A wait acts on nothing: only one that ended with its document has something to undo (its `compensate`).
    const mayHaveEffect =
      definition.steps[index]?.kind === 'wait'
        ? step.status === 'completed'
        : step.status === 'completed' || step.status === 'running' || step.mayHaveEffect === true;
    if (!mayHaveEffect) continue;
    if (definition.steps[index]?.compensate) plan.push(index);
    else skipped.push(index);
  }
  return { plan, skipped };
}
