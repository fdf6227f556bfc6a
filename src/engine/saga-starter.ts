// Starts sagas for a batch of trigger events: one unordered insertMany, then the first steps and deadline
// timers in bulk. The unique {saga, key} index makes replayed events harmless.
import { jobBase, scheduledStepRefs } from '../model/scheduled-attempt.js';
import type { SagaLogger } from '../logging/saga-logger.js';
import type { SagaDefinition } from '../definition/index.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import type { SagaDocument } from '../model/saga-document.js';
import type { SagaStore } from '../store/saga-store.js';
import { noSagaTracing, type SagaStartTrace, type SagaTracing } from '../tracing/saga-tracing.js';
import { deadLetterFor } from './dead-letters.js';
import { noSagaMetrics, type SagaMetrics } from './saga-metrics.js';
import { codeStartedSagaDocument, legacyKeyOf, newSagaDocument, sameTriggerDocument } from './new-saga.js';
import type { TriggerEvent } from './trigger-event.js';

export interface StartResult {
  started: number;
  rejected: number;
  /** Events whose saga already existed (replays, a second watcher). */
  duplicates: number;
  sagas: SagaDocument[];
}

export class SagaStarter {
  constructor(
    private readonly store: SagaStore,
    private readonly queues: SagaQueues,
    private readonly logger: SagaLogger,
    private readonly metrics: SagaMetrics = noSagaMetrics,
    private readonly tracing: SagaTracing = noSagaTracing,
  ) {}

  async start(definition: SagaDefinition, events: readonly TriggerEvent[]): Promise<StartResult> {
    const now = new Date();
    // Several events for one key in a batch (insert then update) still make one saga: keep the first.
    const byKey = new Map<string, { saga: SagaDocument; event: TriggerEvent }>();
    for (const event of events) {
      const saga = await newSagaDocument(definition, event, now);
      if (!byKey.has(saga.key)) byKey.set(saga.key, { saga, event });
    }
    const legacy = await this.startedUnderLegacyKeys(definition, [...byKey.values()]);
    const fresh = [...byKey.values()].filter(({ saga }) => !legacy.has(saga.key));
    const traces = this.traceStarts(fresh, now);
    const { inserted, duplicates } = await this.store.insertMany(fresh.map(({ saga }) => saga));
    for (const saga of inserted) traces?.get(saga._id)?.stored(saga);
    // Replayed events whose saga never began: the watcher that stored it may not have queued its first job.
    const notBegun =
      duplicates.length === 0
        ? []
        : await this.store.findNotBegun(
            definition.name,
            duplicates.map((saga) => saga.key),
          );
    const { running, rejected } = await this.launch(definition, inserted, notBegun);
    return {
      started: running.length,
      rejected: rejected.length,
      duplicates: duplicates.length + legacy.size + (events.length - byKey.size),
      sagas: inserted,
    };
  }

  /**
   * Starts one saga from code with an input its schema already accepted. Idempotent by `key`: when the saga
   * already has one under that key, that saga is returned (`created: false`), as for a replayed trigger event.
   */
  async startFromCode(
    definition: SagaDefinition,
    input: unknown,
    key: string,
  ): Promise<{ saga: SagaDocument; created: boolean }> {
    const saga = codeStartedSagaDocument(definition, input, key);
    const trace = this.tracing.sagaStarting(saga);
    if (trace.context) saga.trace = trace.context;
    const { inserted } = await this.store.insertMany([saga]);
    if (inserted.length === 1) {
      trace.stored(saga);
      await this.launch(definition, inserted);
      return { saga, created: true };
    }
    const existing = await this.store.findByKey(definition.name, key);
    if (!existing)
      throw new Error(`saga ${definition.name} with key ${key} vanished after a duplicate insert`);
    return { saga: existing, created: false };
  }

  /** Starts the trace of each saga about to be stored (`saga.trace`); null when tracing is off. */
  private traceStarts(
    fresh: readonly { saga: SagaDocument; event: TriggerEvent }[],
    receivedAt: Date,
  ): Map<string, SagaStartTrace> | null {
    if (!this.tracing.enabled) return null;
    const traces = new Map<string, SagaStartTrace>();
    for (const { saga, event } of fresh) {
      const { document, ns, operationType } = event;
      const trace = this.tracing.sagaStarting(saga, { document, ns, operationType, receivedAt });
      if (trace.context) saga.trace = trace.context;
      traces.set(saga._id, trace);
    }
    return traces;
  }

  /**
   * Queues what new sagas need: first steps and deadline timers, or dead letters for the rejected ones.
   * `requeued` sagas were stored earlier and never began: their first jobs are queued again (BullMQ keeps one
   * job per id, so a job that is there already stays as it is).
   */
  private async launch(
    definition: SagaDefinition,
    inserted: readonly SagaDocument[],
    requeued: readonly SagaDocument[] = [],
  ): Promise<{ running: SagaDocument[]; rejected: SagaDocument[] }> {
    const running = inserted.filter((saga) => saga.status === 'running');
    const toQueue = [...running, ...requeued];
    const rejected = inserted.filter((saga) => saga.status === 'rejected');
    // Counted once inserted: a replayed event hits the unique index and is not inserted again.
    if (inserted.length > 0) this.metrics.sagasStarted(definition.name, inserted.length);
    if (rejected.length > 0) this.metrics.sagasEnded(definition.name, 'rejected', rejected.length);
    // Crash between the insert and these adds: the recovery sweeper queues what is missing.
    await Promise.all([
      // From the document: a replayed saga not begun may be of an older version than `definition`. Its first step,
      // or each member of a parallel group that comes first.
      this.queues.enqueueSteps(toQueue.flatMap((saga) => scheduledStepRefs(saga).map((ref) => ({ ref })))),
      this.queues.scheduleDeadlines(toQueue.map((saga) => ({ ...jobBase(saga), deadline: saga.deadline }))),
      this.queues.addDeadLetters(rejected.map((saga) => deadLetterFor(saga, 'rejected'))),
    ]);
    await Promise.all(rejected.map((saga) => this.store.markDeadLettered(saga._id, saga.generation)));
    for (const saga of rejected) {
      this.logger.warn(
        { sagaId: saga._id, saga: saga.saga, issues: saga.validationIssues },
        'trigger document rejected',
      );
    }
    return { running, rejected };
  }

  /**
   * The keys of this batch whose document already has a saga stored under the key form of the first versions
   * (which gave `1` and `'1'` one key): the unique index cannot see those, so they are looked up, in one query,
   * only for documents whose key form changed.
   */
  private async startedUnderLegacyKeys(
    definition: SagaDefinition,
    candidates: readonly { saga: SagaDocument; event: TriggerEvent }[],
  ): Promise<Set<string>> {
    const byLegacyKey = new Map<string, { saga: SagaDocument; event: TriggerEvent }>();
    for (const candidate of candidates) {
      const legacyKey = legacyKeyOf(definition, candidate.event, candidate.saga.key);
      if (legacyKey !== undefined) byLegacyKey.set(legacyKey, candidate);
    }
    const found = new Set<string>();
    if (byLegacyKey.size === 0) return found;
    const stored = await this.store.findTriggersByKey(definition.name, [...byLegacyKey.keys()]);
    for (const { key, trigger } of stored) {
      const candidate = byLegacyKey.get(key);
      // The old key was shared by `1` and `'1'`: only a saga of this very _id counts.
      if (candidate && sameTriggerDocument(trigger?.documentKey, candidate.event.documentKey)) {
        found.add(candidate.saga.key);
      }
    }
    return found;
  }
}
