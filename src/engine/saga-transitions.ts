// The transitions that need the whole saga document: starting compensation (step failure, deadline, cancel)
// and an operator's redrive. Each is an optimistic update on the revision read, retried on conflict.
import type { UpdateFilter } from 'mongodb';
import type { SagaDefinition } from '../definition/index.js';
import { SagastreamError } from '../errors/index.js';
import type {
  CompensationRecord,
  SagaDocument,
  SagaReason,
  StepStatus,
  StoredError,
} from '../model/saga-document.js';
import { HISTORY_LIMIT, type SagaTraceContext } from '../model/saga-document.js';
import type { SagaStore } from '../store/saga-store.js';
import type { StepJobRef } from '../model/step-job-ref.js';
import { compensationPlan } from '../model/compensation-plan.js';
import { indexesOf, waveAt } from '../model/step-group.js';
import { isScheduledAttempt, scheduledStepRefs } from '../model/scheduled-attempt.js';
import { stepJobId } from '../queue/queue-names.js';
import type { StepJobStop } from './step-job-stop.js';
import { freshSteps } from './new-saga.js';

const MAX_CONFLICT_RETRIES = 20;

export interface StepFailure {
  ref: StepJobRef;
  error: StoredError;
  timedOut: boolean;
  /** When the failed attempt began: stored with its outcome, the attempt's only write. */
  attemptStartedAt: Date;
  /** A wait step that fails while it waits (its timeout, a document its schema refuses), not an attempt. */
  waiting?: boolean;
}

/** The attempt a running saga had scheduled when a cancel or the deadline stopped it, and what that found. */
export interface StoppedAttempt {
  ref: StepJobRef;
  stop: StepJobStop;
}

/** Stops the scheduled attempt `ref` through its job (engine/step-job-stop.ts), for `reason`. */
export type StopScheduledAttempt = (ref: StepJobRef, reason: SagaReason) => Promise<StepJobStop>;

/**
 * The step record as the stop found it: an attempt that may have acted becomes `running` since its job was taken,
 * so compensation includes it, waits for it and takes its late result; one that never began is not `scheduled`
 * any more (attempt 1 goes back to `pending`, a retry stays `retrying` after the attempts that failed).
 */
function stoppedStepFields(saga: SagaDocument, stopped: StoppedAttempt): Record<string, unknown> {
  const path = `steps.${stopped.ref.step}`;
  const step = saga.steps[stopped.ref.step];
  if (stopped.stop.mayHaveStarted) {
    const since = stopped.stop.since;
    return {
      [`${path}.status`]: 'running',
      [`${path}.attempts`]: stopped.ref.attempt,
      [`${path}.attemptStartedAt`]: since,
      [`${path}.startedAt`]: step?.startedAt && step.startedAt < since ? step.startedAt : since,
    };
  }
  if (step?.status === 'scheduled') {
    return { [`${path}.status`]: 'pending', [`${path}.attempts`]: stopped.ref.attempt - 1 };
  }
  return {};
}

/** Whether the saga waits at `ref`'s step, in its generation (a wait step's failure applies only then). */
function isWaitingAt(saga: SagaDocument, ref: StepJobRef): boolean {
  return (
    saga.generation === ref.generation &&
    saga.stepIndex === ref.step &&
    saga.steps[ref.step]?.status === 'waiting'
  );
}

/** Builds the update that moves a running saga into compensation (or straight to `compensated`). */
function compensationUpdate(
  saga: SagaDocument,
  definition: SagaDefinition,
  reason: SagaReason,
  failure: StepFailure | undefined,
  stopped: readonly StoppedAttempt[],
  now: Date,
  /** `{ expiresAt }` for a saga ending now (store.expiryFields), written only if nothing is left to compensate. */
  expiry: { expiresAt?: Date },
): UpdateFilter<SagaDocument> {
  const set: Record<string, unknown> = { updatedAt: now, reason };
  if (failure) {
    const path = `steps.${failure.ref.step}`;
    const firstStart = saga.steps[failure.ref.step]?.startedAt;
    const started = failure.attemptStartedAt;
    set[`${path}.status`] = failure.timedOut ? 'timed-out' : 'failed';
    set[`${path}.attempts`] = failure.ref.attempt;
    set[`${path}.attemptStartedAt`] = started;
    set[`${path}.startedAt`] = firstStart && firstStart < started ? firstStart : started;
    set[`${path}.error`] = failure.error;
    set[`${path}.endedAt`] = now;
    if (failure.timedOut) set[`${path}.mayHaveEffect`] = true;
    set.error = failure.error;
  }
  let projected: SagaDocument = failure
    ? {
        ...saga,
        steps: saga.steps.map((step, index) =>
          index === failure.ref.step
            ? {
                ...step,
                status: failure.timedOut ? 'timed-out' : 'failed',
                mayHaveEffect: failure.timedOut || step.mayHaveEffect,
              }
            : step,
        ),
      }
    : saga;
  for (const attempt of stopped) {
    const fields = stoppedStepFields(saga, attempt);
    Object.assign(set, fields);
    const status = fields[`steps.${attempt.ref.step}.status`] as StepStatus | undefined;
    if (status) {
      projected = {
        ...projected,
        steps: projected.steps.map((step, index) =>
          index === attempt.ref.step ? { ...step, status } : step,
        ),
      };
    }
  }
  const { plan, skipped } = compensationPlan(projected, definition);
  const pending: CompensationRecord = { status: 'pending', attempts: 0 };
  for (const index of plan) set[`steps.${index}.compensation`] = pending;
  for (const index of skipped) set[`steps.${index}.compensation`] = { status: 'skipped', attempts: 0 };
  set.compensation = { plan, position: 0 };
  if (plan.length === 0) {
    set.status = 'compensated';
    set.endedAt = now;
    Object.assign(set, expiry);
  } else {
    set.status = 'compensating';
  }
  const message = failure ? `${failure.ref.stepName}: ${failure.error.message}` : reason;
  return {
    $set: set,
    // A wait ends with the saga's running: no watcher resumes it from now on.
    $unset: { waiting: '' },
    $push: {
      history: {
        $each: [
          {
            at: now,
            type: 'compensation-started',
            message: message.slice(0, 1000),
            ...(failure ? { step: failure.ref.stepName } : {}),
          },
          ...(plan.length === 0 ? [{ at: now, type: 'saga-compensated' }] : []),
        ],
        $slice: -HISTORY_LIMIT,
      },
    },
  };
}

/**
 * Moves a running saga into compensation. With `failure`, only while that exact attempt is still the
 * current one; without, whenever the saga is running (deadline, cancel). With `stopScheduled`, after it stopped the
 * attempts the saga waits for (one, or the other members of a parallel group; a stop is not repeated: a removed job
 * would look lost the second time). Null when it no longer applies.
 */
export async function beginCompensation(
  store: SagaStore,
  definition: SagaDefinition,
  sagaId: string,
  reason: SagaReason,
  failure?: StepFailure,
  expectedGeneration?: number,
  stopScheduled?: StopScheduledAttempt,
): Promise<SagaDocument | null> {
  const stops = new Map<string, StepJobStop>();
  for (let round = 0; round < MAX_CONFLICT_RETRIES; round++) {
    const saga = await store.get(sagaId);
    if (!saga || saga.status !== 'running') return null;
    if (expectedGeneration !== undefined && saga.generation !== expectedGeneration) return null;
    if (
      failure &&
      !(failure.waiting ? isWaitingAt(saga, failure.ref) : isScheduledAttempt(saga, failure.ref))
    )
      return null;
    // The attempts to stop: every one the saga waits for (a parallel group waits for several), except the one whose
    // failure this is, which has ended.
    const scheduled = stopScheduled
      ? scheduledStepRefs(saga).filter((ref) => ref.step !== failure?.ref.step)
      : [];
    const stopped: StoppedAttempt[] = [];
    for (const ref of scheduled) {
      const key = stepJobId(ref);
      let stop = stops.get(key);
      if (!stop) {
        stop = await stopScheduled!(ref, reason);
        stops.set(key, stop);
      }
      stopped.push({ ref, stop });
    }
    const now = new Date();
    const updated = await store.transition(
      saga,
      compensationUpdate(saga, definition, reason, failure, stopped, now, store.expiryFields(saga, now)),
    );
    if (updated) return updated;
  }
  throw new SagastreamError('INVALID_STATE', `saga ${sagaId} kept changing while starting its compensation`, {
    sagaId,
  });
}

/**
 * An operator's retry. `failed` → compensation resumes at the compensation that failed, with a new
 * generation; `rejected` → the trigger document is validated again (`revalidate`) and, if valid now, the
 * saga starts from its first step.
 */
export async function redriveSaga(
  store: SagaStore,
  definition: SagaDefinition,
  sagaId: string,
  revalidate: (saga: SagaDocument) => Promise<{ ok: true; input: unknown } | { ok: false; message: string }>,
  /** The trace of the new generation (tracing/: a span of its own under the saga's root); undefined: unchanged. */
  traceOf: (saga: SagaDocument, at: Date) => SagaTraceContext | undefined = () => undefined,
): Promise<SagaDocument> {
  for (let round = 0; round < MAX_CONFLICT_RETRIES; round++) {
    const saga = await store.get(sagaId);
    if (!saga) throw new SagastreamError('SAGA_NOT_FOUND', `saga ${sagaId} does not exist`, { sagaId });
    const now = new Date();
    let update: UpdateFilter<SagaDocument>;
    if (saga.status === 'failed' && saga.compensation) {
      const { plan, position } = saga.compensation;
      const set: Record<string, unknown> = {
        status: 'compensating',
        generation: saga.generation + 1,
        updatedAt: now,
      };
      // The compensation that failed, or each one of its wave (a parallel group's) that did not complete.
      for (const at of indexesOf(waveAt(saga, position))) {
        const stepIndex = plan[at];
        if (stepIndex === undefined || saga.steps[stepIndex]?.compensation?.status === 'completed') continue;
        set[`steps.${stepIndex}.compensation`] = { status: 'pending', attempts: 0 };
      }
      update = {
        $set: set,
        // Running again: kept until it ends (or its next dead letter is resolved).
        $unset: { endedAt: '', expiresAt: '' },
        $push: {
          history: {
            $each: [{ at: now, type: 'saga-redriven', message: 'compensation resumed by an operator' }],
            $slice: -HISTORY_LIMIT,
          },
        },
      };
    } else if (saga.status === 'rejected') {
      const validation = await revalidate(saga);
      if (!validation.ok) {
        throw new SagastreamError(
          'INPUT_VALIDATION_FAILED',
          `saga ${sagaId} input is still invalid: ${validation.message}`,
          { sagaId },
        );
      }
      update = {
        $set: {
          status: 'running',
          input: validation.input,
          generation: saga.generation + 1,
          stepIndex: 0,
          steps: freshSteps(definition),
          deadline: new Date(now.getTime() + definition.timeoutMs),
          updatedAt: now,
        },
        $unset: {
          endedAt: '',
          expiresAt: '',
          error: '',
          reason: '',
          validationIssues: '',
          rawInput: '',
          compensation: '',
        },
        $push: {
          history: {
            $each: [{ at: now, type: 'saga-redriven', message: 'restarted after input was fixed' }],
            $slice: -HISTORY_LIMIT,
          },
        },
      };
    } else {
      throw new SagastreamError(
        'INVALID_STATE',
        `saga ${sagaId} is ${saga.status}; only failed or rejected sagas can be retried`,
        { sagaId },
      );
    }
    const trace = traceOf(saga, now);
    if (trace) update.$set = { ...update.$set, trace };
    const updated = await store.transition(saga, update);
    if (updated) return updated;
  }
  throw new SagastreamError('INVALID_STATE', `saga ${sagaId} kept changing while being retried`, { sagaId });
}
