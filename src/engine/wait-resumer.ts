// Ends waits: with the document that matched (from the wait watcher, or found when the wait began), or with the
// step's timeout. Every ending is one conditional write on the `waiting` state (store/wait-store.ts), so whichever
// comes first wins and the others find nothing to do: a replayed event, a second watcher, a match racing the timer.
import type { Document } from 'mongodb';
import type { SagaLogger } from '../logging/saga-logger.js';
import {
  parseStepOutput,
  type ResolvedWaitStep,
  type SagaDefinition,
  type SagaRegistry,
} from '../definition/index.js';
import { SagastreamError, serializeError } from '../errors/index.js';
import { expectedJobs } from '../model/expected-job.js';
import { definitionSpan, firstAttempts } from '../model/step-group.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import type { SagaStore } from '../store/saga-store.js';
import type { SagaDocument, WaitState } from '../model/saga-document.js';
import { splitNamespace } from '../model/wait-keys.js';
import type { WaitRef } from '../model/wait-ref.js';
import { storedWaitFilter, waitingFilter, type WaitStore } from '../store/wait-store.js';
import { noSagaTracing, type SagaTracing } from '../tracing/saga-tracing.js';
import { noSagaMetrics, countIfEnded, type SagaMetrics } from './saga-metrics.js';
import { beginCompensation } from './saga-transitions.js';

export interface WaitResumerDependencies {
  registry: SagaRegistry;
  store: SagaStore;
  waits: WaitStore;
  queues: SagaQueues;
  logger: SagaLogger;
  metrics?: SagaMetrics;
  /** Each wait's `wait <name>` span, and the root span of a saga a wait ends. */
  tracing?: SagaTracing;
}

/** What the roles that end waits share: where waits are stored and what ends them. */
export interface WaitSteps {
  store: WaitStore;
  resumer: WaitResumer;
}

export class WaitResumer {
  private readonly metrics: SagaMetrics;
  private readonly tracing: SagaTracing;

  constructor(private readonly deps: WaitResumerDependencies) {
    this.metrics = deps.metrics ?? noSagaMetrics;
    this.tracing = deps.tracing ?? noSagaTracing;
  }

  /**
   * Records the wait's span (from its start, stored as the step's attempt start) once a write ended it, and the
   * saga's root if that write ended the saga. Tracing only: the saga is read again for its trace.
   */
  private async traceWaitEnded(
    wait: WaitRef,
    outcome: string,
    ended?: SagaDocument,
  ): Promise<SagaDocument | null> {
    if (!this.tracing.enabled) return null;
    const saga = ended ?? (await this.deps.store.getForStep(wait.sagaId));
    if (!saga) return null;
    const since = saga.steps[wait.step]?.attemptStartedAt;
    if (since) this.tracing.waitEnded(saga, wait.stepName, since, outcome);
    this.tracing.sagaEnded(saga);
    return saga;
  }

  /** The wait step `wait` names, in the saga's own version. */
  private waitStep(wait: WaitRef): { definition: SagaDefinition; step: ResolvedWaitStep } {
    const definition = this.deps.registry.get(wait.saga, wait.version ?? 1);
    const step = definition.steps[wait.step];
    if (step?.kind !== 'wait') {
      throw new SagastreamError('INVALID_STATE', `step #${wait.step} of ${wait.saga} is not a wait step`, {
        sagaId: wait.sagaId,
      });
    }
    return { definition, step };
  }

  /**
   * Ends the wait with `document` (validated by the step's `output` schema; one it refuses fails the step for
   * good). True when this call ended it.
   */
  async matched(wait: WaitRef, document: Document, hasTimer = true): Promise<boolean> {
    const { definition, step } = this.waitStep(wait);
    let output: unknown;
    // A signal's step records the data it carries; a document wait, the document.
    const value: unknown = step.wait.signal === undefined ? document : (document.data ?? null);
    try {
      output = await parseStepOutput(step, value, wait.sagaId);
    } catch (error) {
      return this.fail(definition, wait, error);
    }
    return this.resume(definition, wait, output, 'matched', hasTimer);
  }

  /**
   * The read that makes a wait safe from a lost wake-up: once the wait is stored, a document that matches already
   * (written before, while no wait watcher could see the wait) ends it. Run by the worker that entered the wait,
   * and again by the sweeper for waits entered since its last sweep (that worker may have died in between): one
   * such read after the wait's write, plus the wait watcher for every later change, leaves no document unseen.
   * True when this call ended the wait.
   */
  async matchExisting(
    wait: WaitRef,
    waiting: Pick<WaitState, 'ns' | 'filter' | 'timeoutAt'>,
    /** The stored filter as a query, when the caller has it already (the worker that just built it). */
    filter: Document = storedWaitFilter(waiting),
  ): Promise<boolean> {
    const [database, collection] = splitNamespace(waiting.ns);
    const existing = await this.deps.store.db.client.db(database).collection(collection).findOne(filter);
    return existing !== null && this.matched(wait, existing, waiting.timeoutAt !== undefined);
  }

  /**
   * The wait's timer fired: `continue` completes the step with output null, `compensate` fails it (the saga
   * compensates the steps before it). A timer that fired early is queued again for the rest.
   */
  async timedOut(wait: WaitRef): Promise<boolean> {
    const { definition, step } = this.waitStep(wait);
    const saga = await this.deps.store.collection.findOne(waitingFilter(wait), {
      projection: { waiting: 1, ...attemptProjection(wait) },
    });
    if (!saga?.waiting) return false;
    const timeoutAt = saga.waiting.timeoutAt;
    if (timeoutAt && timeoutAt.getTime() > Date.now()) {
      await this.deps.queues.scheduleWaitTimeouts([{ wait, at: timeoutAt }]);
      return false;
    }
    if (step.wait.onTimeout === 'continue') return this.resume(definition, wait, null, 'timed-out', false);
    const error = new SagastreamError(
      'WAIT_TIMEOUT',
      `no document of ${saga.waiting.ns} matched within the wait's timeout`,
      { sagaId: wait.sagaId, step: wait.stepName },
    );
    return this.fail(definition, wait, error, saga);
  }

  private async resume(
    definition: SagaDefinition,
    wait: WaitRef,
    output: unknown,
    reason: 'matched' | 'timed-out',
    /** Whether the wait has a timer to remove (one with a timeout that has not fired). */
    hasTimer: boolean,
  ): Promise<boolean> {
    const { waits, queues } = this.deps;
    const next = definitionSpan(definition, wait.step + 1);
    const isLast = next === null;
    if (!(await waits.resume(wait, output, next, reason))) return false;
    this.deps.logger.debug(
      { sagaId: wait.sagaId, saga: wait.saga, step: wait.stepName, reason },
      'wait ended',
    );
    const traced = await this.traceWaitEnded(wait, reason);
    const cleanup = hasTimer
      ? queues.removeWaitTimeout(wait.sagaId, wait.step, wait.generation)
      : Promise.resolve();
    if (isLast) {
      this.metrics.sagasEnded(wait.saga, 'completed', 1);
      await Promise.all([cleanup, queues.removeDeadline(wait.sagaId, wait.generation)]);
      return true;
    }
    // Queued after the write that scheduled them, as every next step is (a cancel in between takes its gate first).
    const base = {
      sagaId: wait.sagaId,
      saga: wait.saga,
      version: definition.version,
      generation: wait.generation,
      ...(traced?.trace ? { trace: traced.trace.traceparent } : {}),
    };
    await Promise.all([
      cleanup,
      queues.enqueueSteps(
        firstAttempts(base, definition.steps, next).map((ref) => ({ ref, continuation: true })),
      ),
    ]);
    return true;
  }

  /** The wait fails for good (a refused document, a timeout that compensates): the saga compensates. */
  private async fail(
    definition: SagaDefinition,
    wait: WaitRef,
    error: unknown,
    /** The saga as read already with attemptProjection, if it was; read here otherwise. */
    read?: Pick<SagaDocument, 'steps'>,
  ): Promise<boolean> {
    const { message, code, name } = serializeError(error);
    const saga =
      read ??
      (await this.deps.store.collection.findOne(waitingFilter(wait), {
        projection: attemptProjection(wait),
      }));
    if (!saga) return false;
    const record = saga.steps[wait.step];
    const updated = await beginCompensation(this.deps.store, definition, wait.sagaId, 'step-failed', {
      ref: {
        sagaId: wait.sagaId,
        saga: wait.saga,
        version: definition.version,
        phase: 'forward',
        step: wait.step,
        stepName: wait.stepName,
        attempt: record?.attempts ?? 1,
        generation: wait.generation,
      },
      error: { message, code, name },
      timedOut: false,
      attemptStartedAt: record?.attemptStartedAt ?? new Date(),
      waiting: true,
    });
    if (!updated) return false;
    this.deps.logger.warn(
      { sagaId: wait.sagaId, saga: wait.saga, step: wait.stepName, err: { message, code } },
      'wait failed; compensating',
    );
    countIfEnded(this.metrics, updated);
    await this.traceWaitEnded(wait, code === 'WAIT_TIMEOUT' ? 'timed-out' : 'failed', updated);
    await this.deps.queues.removeWaitTimeout(wait.sagaId, wait.step, wait.generation);
    const jobs = expectedJobs(updated, definition);
    if (jobs.length > 0) await this.deps.queues.enqueueSteps(jobs);
    else if (updated.status === 'compensated')
      await this.deps.queues.removeDeadline(wait.sagaId, wait.generation);
    return true;
  }
}

/** The waiting step's attempt fields, which a failure of the wait records. */
function attemptProjection(wait: WaitRef): Record<string, 1> {
  return { [`steps.${wait.step}.attemptStartedAt`]: 1, [`steps.${wait.step}.attempts`]: 1 };
}
