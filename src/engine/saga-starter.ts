// Starts sagas for a batch of trigger events: one unordered insertMany, then the first steps and deadline
// timers in bulk. A saga's `_id` is derived from its {saga, key}, so the unique `_id` makes replayed events harmless.
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
    const stored = await this.storedUnderLegacyIds(definition, [...byKey.values()]);
    const fresh = [...byKey.values()].filter(({ saga }) => !stored.has(saga.key));
    const traces = this.traceStarts(fresh, now);
    const { inserted, duplicates } = await this.store.insertMany(fresh.map(({ saga }) => saga));
    for (const saga of inserted) traces?.get(saga._id)?.stored(saga);
    // Replayed events whose saga never began: the watcher that stored it may not have queued its first job. A
    // saga under a legacy key form is left out: it is another key's as well, and began or not long ago.
    const replayed = [
      ...duplicates.map((saga) => saga._id),
      ...[...stored.values()].flatMap((id) => (id === null ? [] : [id])),
    ];
    const notBegun = replayed.length === 0 ? [] : await this.store.findNotBegun(replayed);
    const { running, rejected } = await this.launch(definition, inserted, notBegun);
    return {
      started: running.length,
      rejected: rejected.length,
      duplicates: duplicates.length + stored.size + (events.length - byKey.size),
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
    // A saga an earlier version stored under this key has a legacy id: the insert cannot see it (see start).
    if (await this.store.holdsLegacyIds()) {
      const stored = await this.store.findByKey(definition.name, key);
      if (stored) return { saga: stored, created: false };
    }
    const trace = this.tracing.sagaStarting(saga);
    if (trace.context) saga.trace = trace.context;
    const { inserted } = await this.store.insertMany([saga]);
    if (inserted.length === 1) {
      trace.stored(saga);
      await this.launch(definition, inserted);
      return { saga, created: true };
    }
    const existing = await this.store.findByKey(definition.name, key, true);
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
    // Counted once inserted: a replayed event meets its `_id` and is not inserted again.
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
   * The sagas of this batch an earlier version stored under a random (legacy) id, by the batch's key: the unique
   * `_id` cannot see them, since their `_id` is not the one derived from the key. Two kinds: a saga under today's key
   * (its id, requeued if it never began, as for any replay), and one under the key form of the first versions, which
   * gave `1` and `'1'` one key (null: it counts only for a document of the very same `_id`, and is not requeued).
   *
   * Asked only while the database holds legacy ids at all (`holdsLegacyIds`, checked once per process, then hourly
   * while the answer is yes), so the common case costs no round trip: the insert alone is the dedup. Checking before
   * the insert rather than after keeps a second saga from ever being stored, even for a moment.
   */
  private async storedUnderLegacyIds(
    definition: SagaDefinition,
    candidates: readonly { saga: SagaDocument; event: TriggerEvent }[],
  ): Promise<Map<string, string | null>> {
    const found = new Map<string, string | null>();
    if (candidates.length === 0 || !(await this.store.holdsLegacyIds())) return found;
    const byKey = new Map(candidates.map((candidate) => [candidate.saga.key, candidate]));
    const byLegacyKey = new Map<string, { saga: SagaDocument; event: TriggerEvent }>();
    for (const candidate of candidates) {
      const legacyKey = legacyKeyOf(definition, candidate.event, candidate.saga.key);
      if (legacyKey !== undefined) byLegacyKey.set(legacyKey, candidate);
    }
    const keys = new Set([...byKey.keys(), ...byLegacyKey.keys()]);
    for (const { _id, key, trigger } of await this.store.findTriggersByKey(definition.name, [...keys])) {
      const current = byKey.get(key);
      // Under its own derived id, the insert reports it as a duplicate.
      if (current && current.saga._id !== _id) found.set(key, _id);
      const candidate = byLegacyKey.get(key);
      // The old key was shared by `1` and `'1'`: only a saga of this very _id counts.
      if (candidate && sameTriggerDocument(trigger?.documentKey, candidate.event.documentKey)) {
        if (!found.has(candidate.saga.key)) found.set(candidate.saga.key, null);
      }
    }
    return found;
  }
}
