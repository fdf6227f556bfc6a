// Starts sagas for a batch of trigger events: one unordered insertMany, then the first steps and deadline
// timers in bulk. The unique {saga, key} index makes replayed events harmless.
import type { Logger } from 'pino';
import type { SagaDefinition } from '../definition/index.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import type { SagaDocument } from '../store/saga-document.js';
import type { SagaStore } from '../store/saga-store.js';
import { deadLetterFor } from './dead-letters.js';
import { newSagaDocument } from './new-saga.js';
import { noSagaMetrics, type SagaMetrics } from './saga-metrics.js';
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
    private readonly logger: Logger,
    private readonly metrics: SagaMetrics = noSagaMetrics,
  ) {}

  async start(definition: SagaDefinition, events: readonly TriggerEvent[]): Promise<StartResult> {
    const now = new Date();
    // Several events for one key in a batch (insert then update) still make one saga: keep the first.
    const byKey = new Map<string, SagaDocument>();
    for (const event of events) {
      const doc = newSagaDocument(definition, event, now);
      if (!byKey.has(doc.key)) byKey.set(doc.key, doc);
    }
    const { inserted, duplicates } = await this.store.insertMany([...byKey.values()]);
    const running = inserted.filter((saga) => saga.status === 'running');
    const rejected = inserted.filter((saga) => saga.status === 'rejected');
    // Counted once inserted: a replayed event hits the unique index and is not inserted again.
    if (inserted.length > 0) this.metrics.sagasStarted(definition.name, inserted.length);
    if (rejected.length > 0) this.metrics.sagasEnded(definition.name, 'rejected', rejected.length);
    // Crash between the insert and these adds: the recovery sweeper queues what is missing.
    await Promise.all([
      this.queues.enqueueSteps(
        running.map((saga) => ({
          ref: {
            sagaId: saga._id,
            saga: saga.saga,
            phase: 'forward' as const,
            step: 0,
            stepName: definition.steps[0]!.name,
            attempt: 1,
            generation: 0,
          },
        })),
      ),
      this.queues.scheduleDeadlines(
        running.map((saga) => ({
          sagaId: saga._id,
          saga: saga.saga,
          generation: 0,
          deadline: saga.deadline,
        })),
      ),
      this.queues.addDeadLetters(rejected.map((saga) => deadLetterFor(saga, 'rejected'))),
    ]);
    await Promise.all(rejected.map((saga) => this.store.markDeadLettered(saga._id, saga.generation)));
    for (const saga of rejected) {
      this.logger.warn(
        { sagaId: saga._id, saga: saga.saga, issues: saga.validationIssues },
        'trigger document rejected',
      );
    }
    return {
      started: running.length,
      rejected: rejected.length,
      duplicates: duplicates.length + (events.length - byKey.size),
      sagas: inserted,
    };
  }
}
