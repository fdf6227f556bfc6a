// What an operator (admin API, CLI) and the deadline timer can do to a saga: cancel it, retry it, and manage its
// dead letters. MongoDB changes first; the queues follow, and the recovery sweeper covers a crash in between.
import { randomUUID } from 'node:crypto';
import { ObjectId, type Db } from 'mongodb';
import type { SagaLogger } from '../logging/saga-logger.js';
import { describeIssues, parseSagaInput, validateValue, type SagaRegistry } from '../definition/index.js';
import { SagaStarter } from './saga-starter.js';
import { SagastreamError } from '../errors/index.js';
import { SIGNALS_COLLECTION } from '../definition/index.js';

/** A signal outlives its saga's deadline by this much, then the `signals` TTL index removes it. */
const SIGNAL_KEPT_AFTER_DEADLINE_MS = 24 * 3_600_000;
import type { DeadLetterJobData } from '../queue/job-data.js';
import { compareDeadLetterIds, deadLetterJobId } from '../queue/queue-names.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import type { SagaDocument, SagaReason } from '../model/saga-document.js';
import type { SagaStore } from '../store/saga-store.js';
import { expectedJobs } from '../model/expected-job.js';
import { jobBase } from '../model/scheduled-attempt.js';
import { noSagaTracing, type SagaTracing } from '../tracing/saga-tracing.js';
import { countIfEnded, noSagaMetrics, type SagaMetrics } from './saga-metrics.js';
import { beginCompensation, redriveSaga } from './saga-transitions.js';
import { stopStepJob, type StepJobStop, type StepJobStopHooks } from './step-job-stop.js';
import type { StopReason } from '../queue/attempt-gate.js';
import type { StepJobRef } from '../model/step-job-ref.js';

export interface DeadLetterEntry extends DeadLetterJobData {
  id: string;
}

export interface DeadLetterPage {
  items: DeadLetterEntry[];
  /** The id to pass as `after` for the next page; null on the last page. */
  next: string | null;
}

export class SagaOperations {
  private readonly starter: SagaStarter;

  constructor(
    private readonly db: Db,
    private readonly registry: SagaRegistry,
    private readonly store: SagaStore,
    private readonly queues: SagaQueues,
    private readonly logger: SagaLogger,
    /** A cancel or deadline of a saga with nothing to compensate ends it here, in whichever process calls. */
    private readonly metrics: SagaMetrics = noSagaMetrics,
    /** The root span of a saga a cancel or deadline ends here. */
    private readonly tracing: SagaTracing = noSagaTracing,
  ) {
    this.starter = new SagaStarter(store, queues, logger, metrics, tracing);
  }

  /**
   * Starts saga `sagaName` from code with `input`, validated by its input schema first. Idempotent by `key`: when
   * a saga already has that key, it is returned with `created: false` (as for a second insert of a document).
   * @throws ValidationError `INPUT_VALIDATION_FAILED` with the issues, storing nothing; SagastreamError
   * `SAGA_NOT_FOUND` for an unknown saga name.
   */
  async start(
    sagaName: string,
    input: unknown,
    key: string = `client:${randomUUID()}`,
  ): Promise<{ saga: SagaDocument; created: boolean }> {
    const definition = this.registry.get(sagaName);
    const parsed = await parseSagaInput(definition, input);
    const started = await this.starter.startFromCode(definition, parsed, key);
    if (started.created)
      this.logger.info({ sagaId: started.saga._id, saga: sagaName, key }, 'saga started from code');
    return started;
  }

  /** @internal Fail points of the stops this object makes (tests hold a cancel between its steps). */
  readonly stopHooks: StepJobStopHooks = {};

  /** The attempt a running saga waits for has no claim in MongoDB: its gate and its job say whether it began. */
  private readonly stopScheduled = (ref: StepJobRef, reason: SagaReason): Promise<StepJobStop> =>
    stopStepJob(
      this.queues,
      ref,
      reason === 'deadline' || reason === 'step-failed' ? reason : 'cancelled',
      () => new Date(),
      this.stopHooks,
    );

  private async requireSaga(sagaId: string): Promise<SagaDocument> {
    const saga = await this.store.get(sagaId);
    if (!saga) throw new SagastreamError('SAGA_NOT_FOUND', `saga ${sagaId} does not exist`, { sagaId });
    return saga;
  }

  private async queueExpected(saga: SagaDocument): Promise<void> {
    const jobs = expectedJobs(saga, this.registry.forSaga(saga));
    if (jobs.length > 0) await this.queues.enqueueSteps(jobs);
    if (saga.status === 'running') {
      await this.queues.scheduleDeadlines([{ ...jobBase(saga), deadline: saga.deadline }]);
    }
  }

  /**
   * Sends signal `name` with `data` to a running saga. Its wait step for that signal ends with `data` (checked by
   * the step's `output` schema there); a saga that has not reached the step yet takes it when it does. The signal is
   * kept in the `signals` collection until a day after the saga's deadline.
   * @throws SagastreamError `SAGA_NOT_FOUND`; `INVALID_STATE` when the saga is not running or has no step waiting
   * for `name`.
   */
  async signal(sagaId: string, name: string, data?: unknown): Promise<{ signalId: string }> {
    const saga = await this.requireSaga(sagaId);
    const definition = this.registry.forSaga(saga);
    const names = definition.steps.flatMap((step) =>
      step.kind === 'wait' && step.wait.signal !== undefined ? [step.wait.signal] : [],
    );
    if (!names.includes(name)) {
      throw new SagastreamError(
        'INVALID_STATE',
        `saga ${saga.saga} has no step waiting for signal "${name}"` +
          (names.length > 0 ? ` (its signals: ${names.join(', ')})` : ' (it waits for no signal)'),
        { sagaId },
      );
    }
    if (saga.status !== 'running') {
      throw new SagastreamError(
        'INVALID_STATE',
        `saga ${sagaId} is ${saga.status}; only a running saga takes signals`,
        { sagaId },
      );
    }
    const signalId = new ObjectId();
    await this.db.collection(SIGNALS_COLLECTION).insertOne({
      _id: signalId,
      sagaId,
      name,
      data: data ?? null,
      sentAt: new Date(),
      expiresAt: new Date(saga.deadline.getTime() + SIGNAL_KEPT_AFTER_DEADLINE_MS),
    });
    this.logger.info({ sagaId, saga: saga.saga, signal: name }, 'signal sent');
    return { signalId: signalId.toHexString() };
  }

  /** Cancels a running saga: its completed steps are compensated and it ends `compensated` (reason `cancelled`). */
  async cancel(sagaId: string): Promise<SagaDocument> {
    const saga = await this.requireSaga(sagaId);
    const updated = await beginCompensation(
      this.store,
      this.registry.forSaga(saga),
      sagaId,
      'cancelled',
      undefined,
      undefined,
      this.stopScheduled,
    );
    if (!updated) {
      const current = await this.requireSaga(sagaId);
      throw new SagastreamError(
        'INVALID_STATE',
        `saga ${sagaId} is ${current.status}; only running sagas can be cancelled`,
        { sagaId },
      );
    }
    this.logger.info({ sagaId, saga: saga.saga }, 'saga cancelled');
    countIfEnded(this.metrics, updated);
    this.tracing.sagaEnded(updated);
    await this.queueExpected(updated);
    return updated;
  }

  /** The deadline timer fired: compensate if the saga is still running in that generation and overdue. */
  async deadlinePassed(sagaId: string, generation: number): Promise<SagaDocument | null> {
    const saga = await this.store.get(sagaId);
    if (!saga || saga.status !== 'running' || saga.generation !== generation) return null;
    if (saga.deadline.getTime() > Date.now()) {
      // Fired early (timers are not exact): schedule it again for the remainder.
      await this.queueExpected(saga);
      return null;
    }
    const updated = await beginCompensation(
      this.store,
      this.registry.forSaga(saga),
      sagaId,
      'deadline',
      undefined,
      generation,
      this.stopScheduled,
    );
    if (updated) {
      this.logger.warn({ sagaId, saga: saga.saga }, 'saga deadline passed; compensating');
      countIfEnded(this.metrics, updated);
      this.tracing.sagaEnded(updated);
      await this.queueExpected(updated);
    }
    return updated;
  }

  /**
   * A cancel or deadline that set its attempt's gate to `stopped` (see step-job-stop.ts) and was cut off before its
   * transition left the saga running with an attempt that can never run: the recovery sweeper finishes that stop.
   */
  async finishStop(sagaId: string, generation: number, reason: StopReason): Promise<SagaDocument | null> {
    const saga = await this.store.get(sagaId);
    if (!saga) return null;
    const updated = await beginCompensation(
      this.store,
      this.registry.forSaga(saga),
      sagaId,
      reason,
      undefined,
      generation,
      this.stopScheduled,
    );
    if (updated) {
      this.logger.warn({ sagaId, saga: saga.saga, reason }, 'finished a stop that was cut off; compensating');
      countIfEnded(this.metrics, updated);
      this.tracing.sagaEnded(updated);
      await this.queueExpected(updated);
    }
    return updated;
  }

  /** Redrives a failed or rejected saga with a new generation and removes its dead letters. */
  async retry(sagaId: string): Promise<SagaDocument> {
    const saga = await this.requireSaga(sagaId);
    const definition = this.registry.forSaga(saga);
    const updated = await redriveSaga(
      this.store,
      definition,
      sagaId,
      async (rejected) => {
        // A change event's documentKey is `{ _id }` (plus the shard key): a filter for the document as it is.
        // Only triggered sagas can be rejected (code-started ones throw instead), but keep the stored input then.
        const { trigger } = rejected;
        const source = trigger
          ? await this.db.client
              .db(trigger.ns.db)
              .collection(trigger.ns.coll)
              .findOne(trigger.documentKey as Record<string, unknown>)
          : null;
        const document = source ?? (rejected.rawInput as Record<string, unknown> | undefined) ?? {};
        const parsed = await validateValue(definition.input, document);
        if (parsed.success) return { ok: true, input: parsed.data };
        return { ok: false, message: describeIssues(parsed.issues) };
      },
      (saga, at) => this.tracing.sagaRedriven(saga, at),
    );
    await this.removeDeadLetters(updated);
    this.logger.info(
      { sagaId, saga: saga.saga, generation: updated.generation },
      'saga retried by an operator',
    );
    await this.queueExpected(updated);
    return updated;
  }

  /**
   * One page of dead letters in `compareDeadLetterIds` order, after the id `after` (the previous page's
   * `next`). BullMQ keeps them in insertion order, which no cursor can follow, so the ids are sorted here.
   */
  async deadLetterPage(options: { limit: number; after?: string }): Promise<DeadLetterPage> {
    const ids = (await this.queues.deadLetterIds()).sort(compareDeadLetterIds);
    const { after } = options;
    const start = after === undefined ? 0 : ids.findIndex((id) => compareDeadLetterIds(id, after) > 0);
    if (start < 0) return { items: [], next: null };
    const pageIds = ids.slice(start, start + options.limit);
    // An entry retried or discarded since the ids were read is left out; the cursor stays the last id.
    const jobs = await Promise.all(pageIds.map((id) => this.queues.deadLetters.getJob(id)));
    const items = jobs.flatMap((job) => (job?.id === undefined ? [] : [{ id: job.id, ...job.data }]));
    const more = ids.length > start + pageIds.length;
    return { items, next: more ? (pageIds[pageIds.length - 1] ?? null) : null };
  }

  /** The first `limit` dead letters (see deadLetterPage for the order). */
  async listDeadLetters(limit = 100): Promise<DeadLetterEntry[]> {
    return (await this.deadLetterPage({ limit })).items;
  }

  async retryDeadLetter(id: string): Promise<SagaDocument> {
    const job = await this.queues.deadLetters.getJob(id);
    if (!job) throw new SagastreamError('SAGA_NOT_FOUND', `dead letter ${id} does not exist`);
    if (job.data.kind !== 'stuck') return this.retry(job.data.sagaId);
    // A stuck saga never left its state: hand it back to the sweeper and queue its job once more now.
    await this.store.clearStuck(job.data.sagaId);
    const saga = await this.requireSaga(job.data.sagaId);
    for (const expected of expectedJobs(saga, this.registry.forSaga(saga)))
      await this.queues.restoreStep(expected);
    await job.remove();
    this.logger.info({ sagaId: saga._id, saga: saga.saga }, 'stuck saga released by an operator');
    return saga;
  }

  /**
   * Drops a dead letter for good; the saga stays as it is, marked so the sweeper does not re-create it, and expires
   * after its retention from now.
   */
  async discardDeadLetter(id: string): Promise<void> {
    const job = await this.queues.deadLetters.getJob(id);
    if (!job) throw new SagastreamError('SAGA_NOT_FOUND', `dead letter ${id} does not exist`);
    await this.store.discardDeadLetter(job.data);
    await job.remove();
  }

  /** Dead-letter ids are per generation, so the ones of earlier generations are known without a scan. */
  private async removeDeadLetters(saga: SagaDocument): Promise<void> {
    for (let generation = 0; generation < saga.generation; generation++) {
      for (const kind of ['compensation-failed', 'stuck'] as const) {
        const job = await this.queues.deadLetters.getJob(deadLetterJobId(saga._id, generation, kind));
        await job?.remove();
      }
    }
  }
}
