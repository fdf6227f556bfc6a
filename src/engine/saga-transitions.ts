// The transitions that need the whole saga document: starting compensation (step failure, deadline, cancel)
// and an operator's redrive. Each is an optimistic update on the revision read, retried on conflict.
import type { UpdateFilter } from 'mongodb';
import type { SagaDefinition } from '../definition/index.js';
import { SagastreamError } from '../errors/index.js';
import type { CompensationRecord, SagaDocument, SagaReason, StoredError } from '../model/saga-document.js';
import { HISTORY_LIMIT } from '../model/saga-document.js';
import type { SagaStore } from '../store/saga-store.js';
import type { StepJobRef } from '../model/step-job-ref.js';
import { compensationPlan } from '../model/compensation-plan.js';
import { freshSteps } from './new-saga.js';

const MAX_CONFLICT_RETRIES = 20;

export interface StepFailure {
  ref: StepJobRef;
  error: StoredError;
  timedOut: boolean;
}

/** Builds the update that moves a running saga into compensation (or straight to `compensated`). */
function compensationUpdate(
  saga: SagaDocument,
  definition: SagaDefinition,
  reason: SagaReason,
  failure: StepFailure | undefined,
  now: Date,
): UpdateFilter<SagaDocument> {
  const set: Record<string, unknown> = { updatedAt: now, reason };
  if (failure) {
    const path = `steps.${failure.ref.step}`;
    set[`${path}.status`] = failure.timedOut ? 'timed-out' : 'failed';
    set[`${path}.error`] = failure.error;
    set[`${path}.endedAt`] = now;
    if (failure.timedOut) set[`${path}.mayHaveEffect`] = true;
    set.error = failure.error;
  }
  const projected: SagaDocument = failure
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
  const { plan, skipped } = compensationPlan(projected, definition);
  const pending: CompensationRecord = { status: 'pending', attempts: 0 };
  for (const index of plan) set[`steps.${index}.compensation`] = pending;
  for (const index of skipped) set[`steps.${index}.compensation`] = { status: 'skipped', attempts: 0 };
  set.compensation = { plan, position: 0 };
  if (plan.length === 0) {
    set.status = 'compensated';
    set.endedAt = now;
  } else {
    set.status = 'compensating';
  }
  const message = failure ? `${failure.ref.stepName}: ${failure.error.message}` : reason;
  return {
    $set: set,
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

function stillAtAttempt(saga: SagaDocument, ref: StepJobRef): boolean {
  const step = saga.steps[ref.step];
  return (
    saga.status === 'running' &&
    saga.generation === ref.generation &&
    saga.stepIndex === ref.step &&
    step?.status === 'running' &&
    step.attempts === ref.attempt
  );
}

/**
 * Moves a running saga into compensation. With `failure`, only while that exact attempt is still the
 * current one; without, whenever the saga is running (deadline, cancel). Null when it no longer applies.
 */
export async function beginCompensation(
  store: SagaStore,
  definition: SagaDefinition,
  sagaId: string,
  reason: SagaReason,
  failure?: StepFailure,
  expectedGeneration?: number,
): Promise<SagaDocument | null> {
  for (let round = 0; round < MAX_CONFLICT_RETRIES; round++) {
    const saga = await store.get(sagaId);
    if (!saga || saga.status !== 'running') return null;
    if (expectedGeneration !== undefined && saga.generation !== expectedGeneration) return null;
    if (failure && !stillAtAttempt(saga, failure.ref)) return null;
    const updated = await store.transition(
      saga,
      compensationUpdate(saga, definition, reason, failure, new Date()),
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
): Promise<SagaDocument> {
  for (let round = 0; round < MAX_CONFLICT_RETRIES; round++) {
    const saga = await store.get(sagaId);
    if (!saga) throw new SagastreamError('SAGA_NOT_FOUND', `saga ${sagaId} does not exist`, { sagaId });
    const now = new Date();
    let update: UpdateFilter<SagaDocument>;
    if (saga.status === 'failed' && saga.compensation) {
      const stepIndex = saga.compensation.plan[saga.compensation.position];
      const set: Record<string, unknown> = {
        status: 'compensating',
        generation: saga.generation + 1,
        updatedAt: now,
      };
      if (stepIndex !== undefined)
        set[`steps.${stepIndex}.compensation`] = { status: 'pending', attempts: 0 };
      update = {
        $set: set,
        $unset: { endedAt: '' },
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
        $unset: { endedAt: '', error: '', reason: '', validationIssues: '', rawInput: '', compensation: '' },
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
    const updated = await store.transition(saga, update);
    if (updated) return updated;
  }
  throw new SagastreamError('INVALID_STATE', `saga ${sagaId} kept changing while being retried`, { sagaId });
}
