// The second write of a parallel group's last member to finish (and of a compensation wave's): the member's own
// write records its outcome and returns the saga; when that shows every member done, one conditional write moves
// the saga past the group, and whichever member's write matches queues what comes next. A process that dies between
// the two leaves a group all done and not moved past: the recovery sweeper makes the same move.
import type { SagaDefinition } from '../definition/index.js';
import type { SagaDocument } from '../model/saga-document.js';
import {
  definitionSpan,
  firstAttempts,
  spanAt,
  spanCompleted,
  waveAt,
  waveCompensated,
} from '../model/step-group.js';
import { expectedJobs } from '../model/expected-job.js';
import { jobBase } from '../model/scheduled-attempt.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import type { SagaStore } from '../store/saga-store.js';
import type { SagaTracing } from '../tracing/saga-tracing.js';
import type { SagaMetrics } from './saga-metrics.js';

export interface GroupAdvanceDependencies {
  store: SagaStore;
  queues: SagaQueues;
  metrics: SagaMetrics;
  /** Records the saga's root span when the move ends it. */
  tracing: SagaTracing;
}

/** Whether `saga` (running) is at a parallel group all of whose members completed: ready to move past it. */
export function groupDone(saga: SagaDocument): boolean {
  if (saga.status !== 'running') return false;
  const span = spanAt(saga.steps, saga.stepIndex);
  return span.end - span.first > 1 && span.first === saga.stepIndex && spanCompleted(saga, span);
}

/** Whether `saga` (compensating) is at a wave all of whose compensations completed. */
export function waveDone(saga: SagaDocument): boolean {
  if (saga.status !== 'compensating' || !saga.compensation) return false;
  const wave = waveAt(saga, saga.compensation.position);
  return wave.end - wave.first > 1 && waveCompensated(saga, wave);
}

/**
 * Moves a running saga past its completed group and queues the next step (or each member of the next group); the
 * saga completes after a last group. False when another member (or the sweeper) moved it first, or it is not done.
 */
export async function advancePastGroup(
  deps: GroupAdvanceDependencies,
  definition: SagaDefinition,
  saga: SagaDocument,
): Promise<boolean> {
  if (!groupDone(saga)) return false;
  const group = spanAt(saga.steps, saga.stepIndex);
  const next = definitionSpan(definition, group.end);
  if (!(await deps.store.advancePastGroup(saga, group, next))) return false;
  if (next === null) {
    deps.metrics.sagasEnded(saga.saga, 'completed', 1);
    deps.tracing.sagaEnded(saga, 'completed');
    await deps.queues.removeDeadline(saga._id, saga.generation);
    return true;
  }
  await deps.queues.enqueueSteps(
    firstAttempts(jobBase(saga), definition.steps, next).map((ref) => ({ ref, continuation: true })),
  );
  return true;
}

/** Moves compensation past its completed wave and queues the next one's jobs, or ends the saga compensated. */
export async function advancePastWave(deps: GroupAdvanceDependencies, saga: SagaDocument): Promise<boolean> {
  if (!waveDone(saga)) return false;
  const wave = waveAt(saga, saga.compensation!.position);
  if (!(await deps.store.advancePastWave(saga, wave))) return false;
  if (wave.end >= saga.compensation!.plan.length) {
    deps.metrics.sagasEnded(saga.saga, 'compensated', 1);
    deps.tracing.sagaEnded(saga, 'compensated');
    await deps.queues.removeDeadline(saga._id, saga.generation);
    return true;
  }
  // The document as the write left it: compensation at the next wave.
  const moved: SagaDocument = { ...saga, compensation: { ...saga.compensation!, position: wave.end } };
  await deps.queues.enqueueSteps(
    expectedJobs(moved, undefined).map((job) => ({ ...job, continuation: true })),
  );
  return true;
}

/**
 * Whether `saga` is at a parallel group (or compensation wave) all done that nothing moved past, and if so moves it
 * on: what a stale job and the recovery sweeper check before re-queueing. Null when there is nothing to move.
 */
export async function moveOnIfDone(
  deps: GroupAdvanceDependencies,
  definition: SagaDefinition,
  saga: SagaDocument,
): Promise<boolean | null> {
  if (groupDone(saga)) return advancePastGroup(deps, definition, saga);
  if (waveDone(saga)) return advancePastWave(deps, saga);
  return null;
}
