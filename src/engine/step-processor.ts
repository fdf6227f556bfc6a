// Processes one step job: checks that its attempt is the one the saga waits for, runs the user's code with its
// timeout, and applies the resulting transition in one write. A job whose attempt is no longer current only
// re-queues what the saga needs now.
import { EJSON, type Document } from 'bson';
import type { SagaLogger } from '../logging/saga-logger.js';
import type { ResolvedWaitStep, SagaDefinition, SagaRegistry } from '../definition/index.js';
import { backoffDelay, idempotencyKeyFor, parseStepOutput } from '../definition/index.js';
import { SagastreamError, StepTimeoutError, isRetryable, serializeError } from '../errors/index.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import { STARTED_MARK_MARGIN_MS, carriedMark, letsRun, type AttemptMark } from '../queue/attempt-gate.js';
import { compensationWaitJobId, compensationWakeJobId, stepQueueName } from '../queue/queue-names.js';
import type { SagaDocument, StoredError, WaitState } from '../model/saga-document.js';
import { waitNamespace } from '../model/wait-keys.js';
import { checkedWaitKeys } from './wait-filter.js';
import type { WaitSteps } from './wait-resumer.js';
import { isScheduledAttempt, jobBase } from '../model/scheduled-attempt.js';
import { copyOfStored } from '../store/local-update.js';
import type { SagaStore } from '../store/saga-store.js';
import type { StepJobRef } from '../model/step-job-ref.js';
import { noSagaTracing, type SagaTracing } from '../tracing/saga-tracing.js';
import type { AbortRegistry } from './abort-registry.js';
import { runAttempt } from './attempt-runner.js';
import { deadLetterFor } from './dead-letters.js';
import { expectedJobs } from '../model/expected-job.js';
import { definitionSpan, firstAttempts, indexesOf, waveAt, type StepSpan } from '../model/step-group.js';
import {
  advancePastGroup,
  advancePastWave,
  moveOnIfDone,
  type GroupAdvanceDependencies,
} from './group-advance.js';
import { stopStepJob } from './step-job-stop.js';
import { countIfEnded, noSagaMetrics, type SagaMetrics } from './saga-metrics.js';
import { beginCompensation, type StepFailure } from './saga-transitions.js';

/** How long past an in-flight attempt's timeout its compensation waits for that attempt to report. */
const IN_FLIGHT_GRACE_MS = 2_000;
/** Sagas whose state this worker knows after completing one of their steps (see `known`). */
const MAX_KNOWN_SAGAS = 1_000;

export interface StepProcessorDependencies {
  registry: SagaRegistry;
  store: SagaStore;
  queues: SagaQueues;
  aborts: AbortRegistry;
  logger: SagaLogger;
  /** Step durations, retries and saga outcomes, counted here as they happen. */
  metrics?: SagaMetrics;
  /** Each attempt's span, and the root span of the sagas this worker ends. */
  tracing?: SagaTracing;
  /** The process's services, given to every step as `ctx.services`. */
  services?: unknown;
  /** Fail points for tests (see StepProcessorHooks). */
  hooks?: StepProcessorHooks;
  /**
   * Forward steps one job may run in a row (see `Carrier`); 1 queues every step as its own job. 1 when absent.
   */
  stepsPerJob?: number;
  /** Whether a job may go on to the saga's next step now; false once the worker is closing. Always when absent. */
  mayContinue?: () => boolean;
  /** Where wait steps are stored and ended; required by sagas that have wait steps. */
  waits?: WaitSteps;
}

/**
 * The job a chain of forward steps runs in. After a step's result write scheduled the next step, the worker runs
 * that step in the same slot instead of queueing it: no job is added, taken and finished for it, the Redis round
 * trips that cost most of a step. The next step's gate holds `started:<ms>@<carrier job id>` (attempt-gate.ts), so
 * a stop knows it may have acted and since when, and the sweeper leaves it alone while the carrier is active. If
 * the worker dies, BullMQ re-runs the carrier once its lock expires; that re-run finds its own step done and queues
 * the saga's current attempt, which runs again, as a crashed step's job would.
 */
interface Carrier {
  readonly jobId: string;
  /** Steps run in this job so far. */
  steps: number;
}

/** Points where a test can hold the processor to hit a race deterministically. */
export interface StepProcessorHooks {
  /** After the write that scheduled `next` and before its job is added. */
  afterScheduleWrite?: (next: StepJobRef) => Promise<void>;
  /** After forward attempt `ref` ran, before its outcome's write; a throw stands for a write that failed. */
  beforeResultWrite?: (ref: StepJobRef) => Promise<void>;
  /** After wait step `ref` stored its wait, before its timer and its read of a document that matches already. */
  afterWaitEntered?: (ref: StepJobRef) => Promise<void>;
}

/** `parent.child(bindings)`, created on the first call and reused after. */
function lazyChild(parent: SagaLogger, bindings: Record<string, unknown>): () => SagaLogger {
  let child: SagaLogger | undefined;
  return () => (child ??= parent.child(bindings));
}

function toStored(error: unknown): StoredError {
  const { message, code, name } = serializeError(error);
  return { message, code, name };
}

function outputsOf(saga: SagaDocument): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (const step of saga.steps) if (step.status === 'completed') outputs[step.name] = step.output;
  return outputs;
}

export class StepProcessor {
  /**
   * The state (without history) of sagas this worker just moved to their next step, by saga id. The next step,
   * usually on this worker since continuations are queued LIFO, checks it instead of reading the saga back.
   * Taken out when used; the oldest are dropped beyond MAX_KNOWN_SAGAS.
   */
  private readonly known = new Map<string, SagaDocument>();
  private readonly metrics: SagaMetrics;
  private readonly tracing: SagaTracing;
  /** @internal Fail points; tests set them on a running worker's processor. */
  readonly hooks: StepProcessorHooks;

  constructor(private readonly deps: StepProcessorDependencies) {
    this.metrics = deps.metrics ?? noSagaMetrics;
    this.tracing = deps.tracing ?? noSagaTracing;
    this.hooks = deps.hooks ?? {};
  }

  private remember(saga: SagaDocument): void {
    this.known.delete(saga._id);
    this.known.set(saga._id, saga);
    if (this.known.size > MAX_KNOWN_SAGAS) this.known.delete(this.known.keys().next().value!);
  }

  private recall(sagaId: string): SagaDocument | undefined {
    const saga = this.known.get(sagaId);
    if (saga) this.known.delete(sagaId);
    return saga;
  }

  /**
   * Runs job `jobId` (absent: no job carries the attempt, so it never goes on to the next step).
   * @throws SagastreamError `VERSION_NOT_LOADED` for a version this process does not load (never run then).
   */
  async process(ref: StepJobRef, jobId?: string): Promise<void> {
    // The job's own version: a saga runs on the definition it started on, whatever else is loaded here.
    const definition = this.deps.registry.get(ref.saga, ref.version ?? 1);
    if (ref.phase === 'forward')
      await this.forward(definition, ref, jobId === undefined ? null : { jobId, steps: 1 });
    else await this.compensate(definition, ref, jobId);
  }

  /** Whether `carrier` goes on to the next step itself instead of queueing it. */
  private continues(carrier: Carrier | null): carrier is Carrier {
    return (
      carrier !== null && carrier.steps < (this.deps.stepsPerJob ?? 1) && this.deps.mayContinue?.() !== false
    );
  }

  /**
   * A job that lost its race: make sure the saga's current job exists. It is re-added only when missing, and then
   * as lost (`restoreStep`): Redis may have lost it after it ran, so a cancel must count it as may-have-acted.
   */
  private async requeueCurrent(definition: SagaDefinition, sagaId: string): Promise<void> {
    const saga = await this.deps.store.get(sagaId);
    if (!saga) return;
    // A group (or compensation wave) whose members are all done but that nothing moved past: move it on here.
    if ((await moveOnIfDone(this.advanceDeps(), definition, saga)) !== null) return;
    for (const job of expectedJobs(saga, definition)) await this.deps.queues.restoreStep(job);
  }

  private advanceDeps(): GroupAdvanceDependencies {
    return { store: this.deps.store, queues: this.deps.queues, metrics: this.metrics, tracing: this.tracing };
  }

  /**
   * The saga, if `ref` is the attempt it waits for: running, in that generation, at that step and attempt. The
   * copy kept after the previous step's write is enough: whatever stopped the saga since (cancel, deadline) set
   * this attempt's gate to `stopped`, or found it `started` and waits for it (step-job-stop.ts).
   */
  private async scheduledSaga(ref: StepJobRef): Promise<SagaDocument | null> {
    const known = this.recall(ref.sagaId);
    if (known && isScheduledAttempt(known, ref)) return known;
    const saga = await this.deps.store.getForStep(ref.sagaId);
    return saga && isScheduledAttempt(saga, ref) ? saga : null;
  }

  /**
   * From the carrier's second step on, the attempt runs inside an earlier step's job and has no job of its own, and
   * its gate was set by the step before, alongside the write that scheduled it (`premarked`).
   */
  private async forward(
    definition: SagaDefinition,
    ref: StepJobRef,
    carrier: Carrier | null,
    premarked?: AttemptMark | null,
  ): Promise<void> {
    const { store, queues } = this.deps;
    const step = definition.steps[ref.step];
    if (!step)
      throw new SagastreamError('INVALID_STATE', `saga ${ref.saga} has no step #${ref.step}`, {
        sagaId: ref.sagaId,
      });
    // The gate is passed alongside the check, in parallel: a `started` mark on an attempt that turns out stale only
    // makes a later stop of it count it as may-have-acted, which is safe.
    const [saga, mark] = await Promise.all([
      this.scheduledSaga(ref),
      premarked !== undefined
        ? premarked
        : queues.markAttempt(ref, 'started', step.timeoutMs + STARTED_MARK_MARGIN_MS),
    ]);
    if (!saga) return this.requeueCurrent(definition, ref.sagaId);
    // A cancel or the deadline stopped this attempt first: it never runs; whoever stopped it moves the saga on.
    if (!letsRun(mark)) return;
    if (step.kind === 'wait') return this.enterWait(definition, step, ref, saga);
    // A parallel group's member (of a group of more than one): its result write leaves the saga at the group.
    const group = (step.group?.size ?? 1) > 1 ? definitionSpan(definition, ref.step) : null;
    const next = group ? null : definitionSpan(definition, ref.step + 1);
    const isLast = group === null && next === null;
    // A copy the step's code never sees (it may change its input or outputs): after the step completes, it is
    // the saga's new state for the next step's claim.
    const untouched = isLast || group ? undefined : copyOfStored(saga);
    const traced = this.tracing.attempt(ref, saga, {
      timeoutMs: step.timeoutMs,
      queue: stepQueueName(ref.saga, ref.version),
      ...(carrier ? { jobId: carrier.jobId } : {}),
    });
    // The user's code runs with the attempt's span active: its own spans nest under it.
    const run = traced.wrap(step.run);
    // Built on first use: a child logger serializes its bindings (through redaction) when created, which a
    // step that logs nothing should not pay for.
    const logger = lazyChild(this.deps.logger, {
      sagaId: ref.sagaId,
      saga: ref.saga,
      step: step.name,
      attempt: ref.attempt,
      ...traced.logFields,
    });
    const inFlight = this.deps.aborts.register(ref.sagaId);
    const attemptStartedAt = new Date();
    const attemptDeadline = new Date(Math.min(Date.now() + step.timeoutMs, saga.deadline.getTime()));
    let outcome: { output: unknown } | { error: unknown };
    const attemptEnded = this.metrics.stepAttemptStarted(ref.saga, step.name);
    try {
      const output = await runAttempt(
        {
          sagaId: ref.sagaId,
          step: step.name,
          phase: 'forward',
          timeoutMs: step.timeoutMs,
          cancel: inFlight.signal,
        },
        // The output check runs inside the attempt, so an async refinement that hangs times out like the step.
        async (signal) => {
          const value = await run({
            services: this.deps.services,
            sagaId: ref.sagaId,
            sagaName: ref.saga,
            step: step.name,
            input: saga.input,
            outputs: outputsOf(saga),
            idempotencyKey: idempotencyKeyFor(ref.sagaId, step.name, 'forward'),
            attempt: ref.attempt,
            signal,
            get logger() {
              return logger();
            },
            deadline: attemptDeadline,
            span: traced.span,
          });
          return parseStepOutput(step, value, ref.sagaId);
        },
      );
      outcome = { output };
    } catch (error) {
      outcome = { error };
    } finally {
      inFlight.release();
    }
    attemptEnded(
      'output' in outcome ? 'completed' : outcome.error instanceof StepTimeoutError ? 'timed-out' : 'failed',
    );
    if ('output' in outcome) traced.end('completed');
    await this.hooks.beforeResultWrite?.(ref);
    if ('output' in outcome && group)
      return this.completeMember(definition, ref, group, outcome.output, attemptStartedAt);
    if ('output' in outcome) {
      const nextRefs = next === null ? [] : firstAttempts(ref, definition.steps, next);
      const nextRef = nextRefs.length === 1 ? nextRefs[0]! : null;
      // A wait step is entered by its own job, and a group's members each run in their own: both end the chain.
      const carries =
        nextRef !== null && this.continues(carrier) && definition.steps[nextRef.step]?.kind !== 'wait';
      const premark = carries ? this.markCarried(definition, nextRef, carrier) : null;
      let completed: boolean;
      try {
        completed = await store.completeStep(ref, outcome.output, next, attemptStartedAt, untouched);
      } finally {
        // Whatever happens from here, a mark that failed must not go unhandled; a mark that did not (and so never
        // runs its step) is harmless, see `markCarried`.
        premark?.catch(() => undefined);
      }
      if (completed) {
        if (this.deps.logger.isLevelEnabled?.('debug') !== false) logger().debug('step completed');
        if (untouched) this.remember(untouched);
        if (nextRefs.length > 0) {
          for (const scheduled of nextRefs) await this.hooks.afterScheduleWrite?.(scheduled);
          if (nextRef && premark && this.continues(carrier)) {
            carrier.steps += 1;
            return this.forward(definition, nextRef, carrier, await premark);
          }
          // Added after the write that scheduled them: a cancel in between takes the ids first, making this a no-op.
          await queues.enqueueSteps(nextRefs.map((scheduled) => ({ ref: scheduled, continuation: true })));
        } else {
          this.metrics.sagasEnded(ref.saga, 'completed', 1);
          this.tracing.sagaEnded(saga, 'completed');
          await queues.removeDeadline(ref.sagaId, ref.generation);
        }
        return;
      }
      if (await store.recordLateResult(ref, { output: outcome.output })) return this.wakeCompensation(ref);
      return this.requeueCurrent(definition, ref.sagaId);
    }
    const error = outcome.error;
    const stored = toStored(error);
    const timedOut = error instanceof StepTimeoutError;
    // Cut off by a cancel or the deadline: whatever the code threw, its effect may exist.
    const cancelled =
      inFlight.signal.aborted || (error instanceof SagastreamError && error.code === 'CANCELLED');
    if (!cancelled && isRetryable(error) && ref.attempt < step.retry.attempts) {
      const delay = backoffDelay(step.retry, ref.attempt);
      traced.end('retrying', { error, retryDelayMs: delay });
      logger().warn({ err: stored, retryInMs: delay }, 'step attempt failed; retrying');
      const retryAt = new Date(Date.now() + delay);
      if (
        await store.scheduleStepRetry(
          ref,
          stored,
          timedOut,
          retryAt,
          attemptStartedAt,
          undefined,
          group?.first,
        )
      ) {
        this.metrics.stepRetried(ref.saga, step.name, 'forward');
        await queues.enqueueSteps([{ ref: { ...ref, attempt: ref.attempt + 1 }, delayMs: delay }]);
        return;
      }
    } else if (!cancelled) {
      traced.end(timedOut ? 'timed-out' : 'failed', { error });
      logger().warn({ err: stored }, 'step failed for good; compensating');
      if (await this.failForGood(definition, { ref, error: stored, timedOut, attemptStartedAt })) return;
    }
    traced.end('cancelled', { error });
    // The saga moved on while this attempt ran (deadline, cancel): keep what happened for compensation.
    if (await store.recordLateResult(ref, { error: stored, timedOut: timedOut || cancelled })) {
      return this.wakeCompensation(ref);
    }
    return this.requeueCurrent(definition, ref.sagaId);
  }

  /**
   * Records the output of a parallel group's member. When its write shows every member completed, it tries to move
   * the saga past the group (group-advance.ts): of members that finish together, exactly one does.
   */
  private async completeMember(
    definition: SagaDefinition,
    ref: StepJobRef,
    group: StepSpan,
    output: unknown,
    attemptStartedAt: Date,
  ): Promise<void> {
    const after = await this.deps.store.completeMember(ref, group, output, attemptStartedAt);
    if (!after) {
      if (await this.deps.store.recordLateResult(ref, { output })) return this.wakeCompensation(ref);
      return this.requeueCurrent(definition, ref.sagaId);
    }
    await advancePastGroup(this.advanceDeps(), definition, after);
  }

  /**
   * Enters wait step `ref`: evaluates its `match`, stores the wait with the saga (one write; the step shows
   * `waiting`), sets its timer, then looks once for a document that matches already. A document written before the
   * wait was stored is found by that read; one written after reaches the wait watcher, which finds the wait stored.
   * The wait then holds no job and no worker slot: only its timer.
   */
  private async enterWait(
    definition: SagaDefinition,
    step: ResolvedWaitStep,
    ref: StepJobRef,
    saga: SagaDocument,
  ): Promise<void> {
    const { store, queues } = this.deps;
    const waits = this.waits();
    const attemptStartedAt = new Date();
    const ns = waitNamespace(step.wait.database ?? store.db.databaseName, step.wait.collection);
    let filter: Document;
    let keys: string[];
    try {
      filter = step.wait.match({
        sagaId: ref.sagaId,
        sagaName: ref.saga,
        step: step.name,
        input: saga.input,
        outputs: outputsOf(saga),
        services: this.deps.services,
      });
      keys = checkedWaitKeys(ns, filter, step.name);
    } catch (error) {
      // `match` is plain code over the saga's state: another attempt would give the same answer.
      const stored = toStored(error);
      this.deps.logger.warn({ sagaId: ref.sagaId, step: step.name, err: stored }, 'wait match failed');
      await this.failForGood(definition, { ref, error: stored, timedOut: false, attemptStartedAt });
      return;
    }
    const timeoutMs = step.wait.timeoutMs;
    const waiting: WaitState = {
      step: ref.step,
      ns,
      ...(step.wait.signal === undefined ? {} : { signal: step.wait.signal }),
      on: [...step.wait.on],
      filter: EJSON.stringify(filter, { relaxed: false }),
      keys,
      since: attemptStartedAt,
      ...(timeoutMs === undefined ? {} : { timeoutAt: new Date(attemptStartedAt.getTime() + timeoutMs) }),
    };
    if (!(await waits.store.enter(ref, waiting, attemptStartedAt))) {
      return this.requeueCurrent(definition, ref.sagaId);
    }
    // The saga's trace rides along in the timer's job (as in every job), so a timer found in Redis names it.
    const wait = { ...jobBase(saga), step: ref.step, stepName: step.name };
    await this.hooks.afterWaitEntered?.(ref);
    // Added after the write, like a step's job; lost (a crash in between, Redis lost), the sweeper adds it again.
    if (waiting.timeoutAt) await queues.scheduleWaitTimeouts([{ wait, at: waiting.timeoutAt }]);
    // A document written before the wait was stored; if this process dies first, the sweeper reads it instead.
    await waits.resumer.matchExisting(wait, waiting, filter);
  }

  private waits(): NonNullable<StepProcessorDependencies['waits']> {
    if (!this.deps.waits)
      throw new SagastreamError('INVALID_STATE', 'this step processor runs no wait steps');
    return this.deps.waits;
  }

  /**
   * Sets the gate of the step a carrier goes on to, sent alongside the result write that schedules that step
   * instead of after it, so a step costs one round trip between the two, not two. Early is safe:
   * - the write fails or no longer matches: nothing scheduled the step, so nothing ever looks at its gate (its
   *   key names the attempt and generation, which only a write from this state schedules, and a re-run of this
   *   step that succeeds finds the mark its own and runs the step);
   * - a stop that reads the step scheduled and sets the gate first wins, and the carrier does not run it; one that
   *   comes after finds it started and counts it as may-have-acted, from the mark's time, which is at most one
   *   round trip before the attempt's own start (IN_FLIGHT_GRACE_MS covers that);
   * - the worker starts closing before the write returns: the step is queued as its own job, whose worker passes
   *   the gate as the carrier's (a stop then counts it as may-have-acted, as it would count a carried one).
   */
  private markCarried(
    definition: SagaDefinition,
    next: StepJobRef,
    carrier: Carrier,
  ): Promise<AttemptMark | null> {
    const { timeoutMs } = definition.steps[next.step]!;
    return this.deps.queues.markAttempt(
      next,
      carriedMark(carrier.jobId, new Date()),
      timeoutMs + STARTED_MARK_MARGIN_MS,
    );
  }

  private async compensate(definition: SagaDefinition, ref: StepJobRef, jobId?: string): Promise<void> {
    const { store, queues } = this.deps;
    const saga = await store.claimCompensation(ref);
    if (!saga) return this.requeueCurrent(definition, ref.sagaId);
    const step = definition.steps[ref.step];
    const compensateFn = step?.compensate;
    if (!step || !compensateFn) {
      throw new SagastreamError(
        'INVALID_STATE',
        `step #${ref.step} of ${ref.saga} has nothing to compensate`,
        { sagaId: ref.sagaId },
      );
    }
    // Not ended (so never exported) when the compensation only parks below, waiting for an attempt in flight.
    const traced = this.tracing.attempt(ref, saga, {
      timeoutMs: definition.compensation.timeoutMs,
      queue: stepQueueName(ref.saga, ref.version),
      ...(jobId === undefined ? {} : { jobId }),
    });
    const runCompensation = traced.wrap(compensateFn);
    const logger = lazyChild(this.deps.logger, {
      sagaId: ref.sagaId,
      saga: ref.saga,
      step: step.name,
      phase: 'compensate',
      attempt: ref.attempt,
      ...traced.logFields,
    });
    const forward = saga.steps[ref.step]!;
    // An attempt still in flight (deadline or cancel cut in) may yet take effect: wait for it to report or
    // to pass its timeout, so the compensation runs after the effect, not before.
    const waitUntil = (forward.attemptStartedAt?.getTime() ?? 0) + step.timeoutMs + IN_FLIGHT_GRACE_MS;
    if (forward.status === 'running' && Date.now() < waitUntil) {
      const round = Math.floor(Date.now() / 1000);
      await queues.stepQueue(ref.saga, ref.version).add(ref.phase, ref, {
        jobId: compensationWaitJobId(ref, round),
        delay: waitUntil - Date.now(),
        removeOnComplete: true,
      });
      return;
    }
    const compensation = definition.compensation;
    const attemptEnded = this.metrics.stepAttemptStarted(ref.saga, step.name);
    try {
      await runAttempt(
        { sagaId: ref.sagaId, step: step.name, phase: 'compensate', timeoutMs: compensation.timeoutMs },
        (signal) =>
          runCompensation({
            services: this.deps.services,
            sagaId: ref.sagaId,
            sagaName: ref.saga,
            step: step.name,
            input: saga.input,
            outputs: outputsOf(saga),
            output: forward.status === 'completed' ? forward.output : undefined,
            reason:
              saga.reason === 'step-failed'
                ? (saga.error?.message ?? 'a step failed')
                : (saga.reason ?? 'unknown'),
            idempotencyKey: idempotencyKeyFor(ref.sagaId, step.name, 'compensate'),
            forwardIdempotencyKey: idempotencyKeyFor(ref.sagaId, step.name, 'forward'),
            attempt: ref.attempt,
            signal,
            get logger() {
              return logger();
            },
            deadline: new Date(Date.now() + compensation.timeoutMs),
            span: traced.span,
          }),
      );
    } catch (error) {
      attemptEnded('compensation-failed');
      const stored = toStored(error);
      if (isRetryable(error) && ref.attempt < compensation.retry.attempts) {
        const delay = backoffDelay(compensation.retry, ref.attempt);
        traced.end('retrying', { error, retryDelayMs: delay });
        logger().warn({ err: stored, retryInMs: delay }, 'compensation attempt failed; retrying');
        if (await store.scheduleCompensationRetry(ref, stored, new Date(Date.now() + delay))) {
          this.metrics.stepRetried(ref.saga, step.name, 'compensate');
          await queues.enqueueSteps([{ ref: { ...ref, attempt: ref.attempt + 1 }, delayMs: delay }]);
        }
        return;
      }
      traced.end('compensation-failed', { error });
      logger().error({ err: stored }, 'compensation failed for good; saga failed, dead letter queued');
      if (await store.failCompensation(ref, stored)) {
        this.metrics.sagasEnded(ref.saga, 'failed', 1);
        const failed = await store.get(ref.sagaId);
        this.tracing.sagaEnded(failed ?? saga, 'failed');
        if (failed) {
          await queues.addDeadLetters([deadLetterFor(failed, 'compensation-failed')]);
          await store.markDeadLettered(failed._id, failed.generation);
        }
        await queues.removeDeadline(ref.sagaId, ref.generation);
      }
      return;
    }
    attemptEnded('compensated');
    traced.end('compensated');
    const plan = saga.compensation?.plan ?? [];
    const position = ref.position ?? 0;
    const wave = waveAt(saga, position);
    if (wave.end - wave.first > 1) {
      // One of a wave compensated at the same time: the last to finish moves compensation on.
      const after = await store.completeWaveMember(ref);
      if (after) await advancePastWave(this.advanceDeps(), after);
      return;
    }
    const isLast = position >= plan.length - 1;
    if (await store.completeCompensation(ref, isLast)) {
      const nextStep = plan[position + 1];
      if (!isLast && nextStep !== undefined) {
        await queues.enqueueSteps([
          {
            ref: {
              ...ref,
              step: nextStep,
              stepName: definition.steps[nextStep]!.name,
              attempt: 1,
              position: position + 1,
            },
            continuation: true,
          },
        ]);
      } else if (isLast) {
        this.metrics.sagasEnded(ref.saga, 'compensated', 1);
        this.tracing.sagaEnded(saga, 'compensated');
        await queues.removeDeadline(ref.sagaId, ref.generation);
      }
    }
  }

  /**
   * A late result was just recorded for `forward`. If this step's compensation is the current one and already
   * claimed, it is parked on a delayed job until the attempt's timeout: run it now instead. The id is fixed per
   * forward attempt, so this adds at most one job.
   */
  private async wakeCompensation(forward: StepJobRef): Promise<void> {
    const saga = await this.deps.store.get(forward.sagaId);
    if (!saga || saga.status !== 'compensating' || saga.generation !== forward.generation) return;
    const position = saga.compensation?.position ?? 0;
    const plan = saga.compensation?.plan ?? [];
    if (!indexesOf(waveAt(saga, position)).some((at) => plan[at] === forward.step)) return;
    const record = saga.steps[forward.step]?.compensation;
    if (record?.status !== 'running') return;
    const ref: StepJobRef = { ...forward, phase: 'compensate', attempt: record.attempts, position };
    await this.deps.queues.stepQueue(ref.saga, ref.version).add(ref.phase, ref, {
      jobId: compensationWakeJobId(ref, forward.attempt),
      removeOnComplete: true,
    });
  }

  /**
   * Attempt `failure.ref` failed for good: the saga compensates, and the first compensation's job is queued. False
   * when the attempt was no longer the current one.
   */
  private async failForGood(definition: SagaDefinition, failure: StepFailure): Promise<boolean> {
    const updated = await beginCompensation(
      this.deps.store,
      definition,
      failure.ref.sagaId,
      'step-failed',
      failure,
      undefined,
      // The other members of a parallel group are stopped like a cancel stops an attempt: those that may have acted
      // are compensated (after they report or time out), those that never began are not.
      (ref) => stopStepJob(this.deps.queues, ref, 'step-failed'),
    );
    if (!updated) return false;
    countIfEnded(this.metrics, updated);
    this.tracing.sagaEnded(updated);
    await this.afterTransition(definition, updated);
    return true;
  }

  /** Queues the job a transition made necessary (the first compensation). */
  async afterTransition(definition: SagaDefinition, saga: SagaDocument): Promise<void> {
    const jobs = expectedJobs(saga, definition);
    if (jobs.length > 0) await this.deps.queues.enqueueSteps(jobs);
  }
}
