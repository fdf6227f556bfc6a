// The writes and reads of wait steps (`.waitFor`), on the sagas collection: entering a wait, ending it with the
// matched document (or a timeout's `continue`), and finding the sagas a changed document may resume. Each write
// is one conditional update on the state it leaves, so a document delivered twice, two wait watchers, or a match
// racing the timeout end the wait once.
import type { StepSpan } from '../model/step-group.js';
import { EJSON } from 'bson';
import type { Document, Filter } from 'mongodb';
import { SIGNALS_COLLECTION } from '../definition/index.js';
import type { SagaDocument, WaitState } from '../model/saga-document.js';
import type { StepJobRef } from '../model/step-job-ref.js';
import type { WaitRef } from '../model/wait-ref.js';
import { history, type SagaStore } from './saga-store.js';
import { scheduledAttemptFilter } from './scheduled-attempt-filter.js';

/** A saga found waiting, with what the check against a changed document needs. */
export type WaitingSaga = WaitRef & { waiting: WaitState };

const WAITING_PROJECTION = { _id: 1, saga: 1, version: 1, generation: 1, waiting: 1, steps: 1 } as const;

export class WaitStore {
  constructor(private readonly store: SagaStore) {}

  async ensureIndexes(): Promise<void> {
    // Sparse: only waiting sagas hold `waiting`, so the index stays as small as the number of open waits.
    await this.store.collection.createIndexes([
      { key: { 'waiting.keys': 1 }, name: 'waiting_keys', sparse: true },
      { key: { 'waiting.ns': 1 }, name: 'waiting_ns', sparse: true },
      { key: { 'waiting.since': 1 }, name: 'waiting_since', sparse: true },
    ]);
    // Signals are looked up by saga and name when a signal wait begins, and removed a day after the saga's deadline.
    await this.store.db.collection(SIGNALS_COLLECTION).createIndexes([
      { key: { sagaId: 1, name: 1 }, name: 'sagaId_name' },
      { key: { expiresAt: 1 }, name: 'expiresAt_ttl', expireAfterSeconds: 0 },
    ]);
  }

  /** The entry attempt `ref` stores its wait: the step becomes `waiting`. False when the attempt is stale. */
  enter(ref: StepJobRef, waiting: WaitState, attemptStartedAt: Date, now = new Date()): Promise<boolean> {
    const path = `steps.${ref.step}`;
    return this.store.conditionalUpdate(scheduledAttemptFilter(ref), {
      $set: {
        [`${path}.status`]: 'waiting',
        [`${path}.attempts`]: ref.attempt,
        [`${path}.attemptStartedAt`]: attemptStartedAt,
        waiting,
        updatedAt: now,
      },
      $min: { [`${path}.startedAt`]: attemptStartedAt },
      $unset: { [`${path}.error`]: '', [`${path}.nextAttemptAt`]: '' },
      $inc: { revision: 1 },
      $push: history({ type: 'wait-started', step: ref.stepName, message: `waiting on ${waiting.ns}` }, now),
    });
  }

  /**
   * Ends the wait with `output` (the matched document, or null after a timeout's `continue`): the step completes
   * and the next one is `scheduled` (its job is queued after this write), or the saga completes. False when the
   * saga no longer waits there (already resumed, timed out, cancelled).
   */
  resume(
    wait: WaitRef,
    output: unknown,
    /** The step (or parallel group) after the wait; null when the wait is the last step. */
    next: StepSpan | null,
    reason: 'matched' | 'timed-out',
    now = new Date(),
  ): Promise<boolean> {
    const path = `steps.${wait.step}`;
    const isLast = next === null;
    const set: Record<string, unknown> = {
      [`${path}.status`]: 'completed',
      [`${path}.output`]: output,
      [`${path}.endedAt`]: now,
      stepIndex: wait.step + 1,
      updatedAt: now,
      ...this.store.moveOnFields(wait, next, now),
    };
    return this.store.conditionalUpdate(waitingFilter(wait), {
      $set: set,
      $unset: { waiting: '' },
      $inc: { revision: 1 },
      $push: history(
        {
          type: isLast ? 'saga-completed' : 'wait-ended',
          step: wait.stepName,
          message: reason === 'matched' ? 'a matching document arrived' : 'timed out; continuing',
        },
        now,
      ),
    });
  }

  /** The running sagas waiting for any of `keys` (model/wait-keys.ts), through the `waiting_keys` index. */
  findWaiting(keys: readonly string[]): Promise<WaitingSaga[]> {
    return this.waitingWhere({ 'waiting.keys': { $in: [...keys] } });
  }

  /** Every running saga waiting on namespace `ns`, read as it goes: a reconcile after the watcher lost its place. */
  async *waitingOn(ns: string): AsyncIterable<WaitingSaga> {
    const cursor = this.store.collection.find(
      { 'waiting.ns': ns, status: 'running' },
      { projection: WAITING_PROJECTION },
    );
    for await (const doc of cursor) {
      const waiting = asWaiting(doc);
      if (waiting) yield waiting;
    }
  }

  /**
   * Waiting sagas with what their timers need (deadline, timeout), entered since `since` (or all of them, when
   * absent), oldest first.
   */
  timersOf(
    since?: Date,
  ): AsyncIterable<
    Pick<SagaDocument, '_id' | 'saga' | 'version' | 'generation' | 'deadline' | 'waiting' | 'steps' | 'trace'>
  > {
    return this.store.collection.find(
      { 'waiting.since': since ? { $gte: since } : { $exists: true }, status: 'running' },
      {
        projection: {
          _id: 1,
          saga: 1,
          version: 1,
          generation: 1,
          deadline: 1,
          waiting: 1,
          'steps.name': 1,
          trace: 1,
        },
      },
    );
  }

  private async waitingWhere(filter: Filter<SagaDocument>): Promise<WaitingSaga[]> {
    const docs = await this.store.collection
      .find({ ...filter, status: 'running' }, { projection: WAITING_PROJECTION })
      .toArray();
    return docs.flatMap((doc) => asWaiting(doc) ?? []);
  }
}

/** The saga as a WaitingSaga; null when it waits for nothing (its wait ended between the query and now). */
function asWaiting(doc: SagaDocument): WaitingSaga | null {
  const waiting = doc.waiting;
  if (!waiting) return null;
  return {
    sagaId: doc._id,
    saga: doc.saga,
    ...(doc.version === undefined ? {} : { version: doc.version }),
    generation: doc.generation,
    step: waiting.step,
    stepName: doc.steps[waiting.step]?.name ?? '',
    waiting,
  };
}

/** Matches while the saga waits at `wait`'s step in its generation. */
export function waitingFilter(wait: Pick<WaitRef, 'sagaId' | 'generation' | 'step'>): Filter<SagaDocument> {
  return {
    _id: wait.sagaId,
    status: 'running',
    generation: wait.generation,
    stepIndex: wait.step,
    [`steps.${wait.step}.status`]: 'waiting',
  };
}

/** The filter a wait stored (canonical Extended JSON), as a query. */
export function storedWaitFilter(waiting: Pick<WaitState, 'filter'>): Document {
  return EJSON.parse(waiting.filter, { relaxed: false }) as Document;
}
