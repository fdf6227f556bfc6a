// Saga instances in MongoDB. Every transition is one conditional update on the expected state, so a
// duplicate or stale job (BullMQ delivers at least once) can never apply a transition twice.
import { type Collection, type Db, type Filter, type UpdateFilter } from 'mongodb';
import {
  HISTORY_LIMIT,
  type HistoryEvent,
  type SagaDocument,
  type SagaStatus,
  type StoredError,
} from '../model/saga-document.js';
import { RetentionPolicy } from '../definition/index.js';
import { indexesOf, scheduleFields, type StepSpan } from '../model/step-group.js';
import { applyLocally, roundTrip } from './local-update.js';
import type { StepJobRef } from '../model/step-job-ref.js';
import { scheduledAttemptFilter } from './scheduled-attempt-filter.js';
import { WriteBatcher } from './write-batcher.js';
import { duplicateIndexes } from './duplicate-indexes.js';
import { LegacySagaIds } from './legacy-saga-ids.js';
import { sagaIdFor } from '../model/saga-id.js';

export interface SagaListQuery {
  saga?: string;
  status?: SagaStatus;
  limit: number;
  /** Cursor: the last item of the previous page (`listCursor`); pages run by `createdAt`, then `_id`, descending. */
  after?: SagaListCursor;
}

/** Where a page of `list` starts: after the saga of this creation time and id. */
export interface SagaListCursor {
  createdAt: Date;
  id: string;
}

/** The plain index for lookups by key; earlier versions made it unique (`saga_key_unique`, see ensureIndexes). */
const KEY_INDEX = { key: { saga: 1, key: 1 }, name: 'saga_key' } as const;

type SagaUpdate = UpdateFilter<SagaDocument>;

export function history(event: Omit<HistoryEvent, 'at'>, at: Date): SagaUpdate['$push'] {
  return { history: { $each: [{ at, ...event }], $slice: -HISTORY_LIMIT } } as SagaUpdate['$push'];
}

export class SagaStore {
  readonly collection: Collection<SagaDocument>;
  /** The step transitions of concurrent jobs, sent together (see write-batcher.ts). */
  private readonly writes: WriteBatcher<SagaDocument>;
  /** Whether sagas with the random ids of earlier versions are stored (see legacy-saga-ids.ts). */
  private readonly legacyIds: LegacySagaIds;

  constructor(
    /** The configured database: a wait step's collection is in it unless the step names another. */
    readonly db: Db,
    /** How long each saga is kept once finished: what its terminal update writes as `expiresAt`. */
    readonly retention: RetentionPolicy = new RetentionPolicy(),
    collectionName = 'sagas',
    /** The clock of the legacy-id check's re-check. */
    now: () => number = Date.now,
  ) {
    this.collection = db.collection<SagaDocument>(collectionName);
    this.writes = new WriteBatcher(db.client, this.collection);
    this.legacyIds = new LegacySagaIds(this.collection, now);
  }

  /** True while sagas stored by earlier versions, under random ids, remain: then a key may have its saga elsewhere. */
  holdsLegacyIds(): Promise<boolean> {
    return this.legacyIds.holds();
  }

  /** `{ expiresAt }` for a saga of `saga` that ends at `endedAt`, to ride in its terminal update; `{}` when kept. */
  expiryFields(
    saga: { readonly saga: string; readonly version?: number | null | undefined },
    endedAt: Date,
  ): { expiresAt?: Date } {
    const expiresAt = this.retention.expiresAt(saga, endedAt);
    return expiresAt ? { expiresAt } : {};
  }

  /** One conditional update, batched with other callers'; true when it changed the saga. */
  async conditionalUpdate(filter: Filter<SagaDocument>, update: SagaUpdate): Promise<boolean> {
    return (await this.writes.updateOne(filter, update)).modified === 1;
  }

  async ensureIndexes(): Promise<void> {
    // One saga per trigger document is the unique `_id`, derived from (saga, key): a replayed change event or a
    // second watcher makes the same `_id` and is ignored. {saga, key} only serves lookups by key. A database of an
    // earlier version holds it as the unique `saga_key_unique`: kept (MongoDB refuses a second index on the same
    // keys), it serves the same lookups and still guards processes of earlier versions in a rolling upgrade; an
    // operator drops it before sharding the collection, and the next start creates the plain one (README).
    const existing: { key?: unknown }[] = await this.collection.listIndexes().toArray().catch(noIndexesYet);
    const hasKeyIndex = existing.some((index) => JSON.stringify(index.key) === JSON.stringify(KEY_INDEX.key));
    await this.collection.createIndexes([
      ...(hasKeyIndex ? [] : [KEY_INDEX]),
      { key: { status: 1, updatedAt: -1 }, name: 'status_updatedAt' },
      { key: { saga: 1, status: 1, createdAt: -1 }, name: 'saga_status_createdAt' },
      // The admin list's order (newest first, `_id` between sagas created in the same millisecond): `_id` is no
      // longer time-ordered.
      { key: { createdAt: -1, _id: -1 }, name: 'createdAt_id' },
      // Retention: MongoDB's TTL monitor removes a saga once its `expiresAt` has passed. Sparse, so running sagas
      // (which have no expiry) are not in it and their updates never touch it.
      { key: { expiresAt: 1 }, name: 'expiresAt_ttl', expireAfterSeconds: 0, sparse: true },
    ]);
  }

  /**
   * Inserts new sagas; documents whose `_id` (derived from {saga, key}) already exists are reported as duplicates,
   * not errors, and so are those the unique `saga_key_unique` of an earlier version refuses.
   * Unordered, so one duplicate does not hold back the rest of a batch.
   */
  async insertMany(docs: SagaDocument[]): Promise<{ inserted: SagaDocument[]; duplicates: SagaDocument[] }> {
    if (docs.length === 0) return { inserted: [], duplicates: [] };
    try {
      await this.collection.insertMany(docs, { ordered: false });
      return { inserted: docs, duplicates: [] };
    } catch (error) {
      const writeErrors = duplicateIndexes(error);
      if (!writeErrors) throw error;
      const failed = new Set(writeErrors);
      return {
        inserted: docs.filter((_, index) => !failed.has(index)),
        duplicates: docs.filter((_, index) => failed.has(index)),
      };
    }
  }

  /**
   * The id, key and trigger of the sagas of `saga` stored under any of `keys` (an index lookup on {saga, key}): only
   * for databases that hold legacy ids (`holdsLegacyIds`), where a key's saga may have another `_id` than its own.
   */
  findTriggersByKey(
    saga: string,
    keys: readonly string[],
  ): Promise<Pick<SagaDocument, '_id' | 'key' | 'trigger'>[]> {
    return this.collection
      .find({ saga, key: { $in: [...keys] } }, { projection: { _id: 1, key: 1, trigger: 1 } })
      .toArray();
  }

  /**
   * The sagas of `ids` that were stored but never began: generation 0, first step not yet tried. A watcher that
   * stored them may have been cut off before queueing their first jobs.
   */
  findNotBegun(ids: readonly string[]): Promise<SagaDocument[]> {
    return this.collection
      .find(
        {
          _id: { $in: [...ids] },
          status: 'running',
          generation: 0,
          stepIndex: 0,
          'steps.0.status': 'pending',
          'steps.0.attempts': 0,
        },
        { projection: { history: 0 } },
      )
      .toArray();
  }

  /**
   * The saga of `saga` under `key`: by its derived `_id`, then, while legacy ids remain (or when `byKeyAnyway`: an
   * insert met the unique index of an earlier version, whose process may have stored it since), by key.
   */
  async findByKey(saga: string, key: string, byKeyAnyway = false): Promise<SagaDocument | null> {
    const derived = await this.collection.findOne({ _id: sagaIdFor(saga, key) });
    if (derived || !(byKeyAnyway || (await this.holdsLegacyIds()))) return derived;
    return this.collection.findOne({ saga, key });
  }

  get(id: string): Promise<SagaDocument | null> {
    return this.collection.findOne({ _id: id });
  }

  /** The cursor that starts a page of `list` after the saga `id`; null when that saga no longer exists. */
  async listCursor(id: string): Promise<SagaListCursor | null> {
    const saga = await this.collection.findOne({ _id: id }, { projection: { createdAt: 1 } });
    return saga ? { createdAt: saga.createdAt, id } : null;
  }

  /** Newest first: by `createdAt`, then `_id` for sagas created in the same millisecond. */
  async list(query: SagaListQuery): Promise<SagaDocument[]> {
    const filter: Filter<SagaDocument> = {};
    if (query.saga) filter.saga = query.saga;
    if (query.status) filter.status = query.status;
    const { after } = query;
    if (after) {
      filter.$or = [
        { createdAt: { $lt: after.createdAt } },
        { createdAt: after.createdAt, _id: { $lt: after.id } },
      ];
    }
    return this.collection
      .find(filter, { projection: { history: 0 } })
      .sort({ createdAt: -1, _id: -1 })
      .limit(query.limit)
      .toArray();
  }

  /** The saga as a step needs it (input, outputs, deadline): the history stays on the server. */
  getForStep(id: string): Promise<SagaDocument | null> {
    return this.collection.findOne({ _id: id }, { projection: { history: 0 } });
  }

  /**
   * The `$set` that moves a running saga of `saga` to `next` (its steps `scheduled` as attempt 1, their jobs queued
   * after the write), or, with none, completes it: what a step's result, a wait's end and a group's move share.
   */
  moveOnFields(
    saga: { readonly saga: string; readonly version?: number | null | undefined },
    next: StepSpan | null,
    now: Date,
  ): Record<string, unknown> {
    if (next === null) return { status: 'completed', endedAt: now, ...this.expiryFields(saga, now) };
    return { stepIndex: next.first, ...scheduleFields(next) };
  }

  /** The fields of a forward attempt that completed, and the ones it clears. */
  private completedStepFields(ref: StepJobRef, output: unknown, attemptStartedAt: Date, now: Date) {
    const path = `steps.${ref.step}`;
    return {
      set: {
        [`${path}.status`]: 'completed',
        [`${path}.attempts`]: ref.attempt,
        [`${path}.attemptStartedAt`]: attemptStartedAt,
        [`${path}.output`]: output,
        [`${path}.endedAt`]: now,
        updatedAt: now,
      } as Record<string, unknown>,
      unset: { [`${path}.error`]: '', [`${path}.nextAttemptAt`]: '' } as Record<string, ''>,
      // $min keeps the first attempt's start (and sets it when missing).
      min: { [`${path}.startedAt`]: attemptStartedAt },
    };
  }

  /**
   * Records a step's output and moves on: to `next` (the next step, or every member of the parallel group after it),
   * `scheduled` as attempt 1 (their jobs are queued after this write), or, with none, `completed`. This is the
   * step's only write. With `saga` (the document the step ran with), a successful write also brings it to the saga's
   * new state, ready for the next step's check.
   */
  async completeStep(
    ref: StepJobRef,
    output: unknown,
    next: StepSpan | null,
    attemptStartedAt: Date,
    saga?: SagaDocument,
    now = new Date(),
  ): Promise<boolean> {
    const path = `steps.${ref.step}`;
    const fields = this.completedStepFields(ref, output, attemptStartedAt, now);
    const set = { ...fields.set, stepIndex: ref.step + 1, ...this.moveOnFields(ref, next, now) };
    const unset = fields.unset;
    const completed = await this.conditionalUpdate(scheduledAttemptFilter(ref), {
      $set: set,
      $min: fields.min,
      $unset: unset,
      $inc: { revision: 1 },
      $push: history(
        {
          type: next === null ? 'saga-completed' : 'step-completed',
          step: ref.stepName,
          attempt: ref.attempt,
        },
        now,
      ),
    });
    if (completed && saga) {
      // What a read would return: the output as BSON brings it back, not the object the step returned.
      const firstStart = saga.steps[ref.step]?.startedAt;
      applyLocally(
        saga,
        {
          ...set,
          [`${path}.startedAt`]: firstStart && firstStart < attemptStartedAt ? firstStart : attemptStartedAt,
          [`${path}.output`]: roundTrip(output),
        },
        Object.keys(unset),
      );
      saga.revision += 1;
    }
    return completed;
  }

  /**
   * Records the output of a parallel group's member, `group` its group's steps; the saga stays at the group. The
   * document after the write tells whether every member has completed now (then `advancePastGroup`); null when the
   * attempt was no longer the scheduled one.
   */
  completeMember(
    ref: StepJobRef,
    group: StepSpan,
    output: unknown,
    attemptStartedAt: Date,
    now = new Date(),
  ): Promise<SagaDocument | null> {
    const fields = this.completedStepFields(ref, output, attemptStartedAt, now);
    return this.collection.findOneAndUpdate(
      scheduledAttemptFilter(ref, group.first),
      {
        $set: fields.set,
        $min: fields.min,
        $unset: fields.unset,
        $inc: { revision: 1 },
        $push: history({ type: 'step-completed', step: ref.stepName, attempt: ref.attempt }, now),
      },
      { returnDocument: 'after', projection: { history: 0 } },
    );
  }

  /**
   * Moves a saga whose parallel group `group` has completed to `next` (or completes it). Conditional on the saga
   * still being at the group with every member completed, so of members that finish together (each of which may
   * see all completed) exactly one moves it: true for that one.
   */
  advancePastGroup(
    saga: Pick<SagaDocument, '_id' | 'saga' | 'version' | 'generation'>,
    group: StepSpan,
    next: StepSpan | null,
    now = new Date(),
  ): Promise<boolean> {
    const members: Record<string, string> = {};
    for (const index of indexesOf(group)) members[`steps.${index}.status`] = 'completed';
    return this.conditionalUpdate(
      { _id: saga._id, status: 'running', generation: saga.generation, stepIndex: group.first, ...members },
      {
        $set: { stepIndex: group.end, updatedAt: now, ...this.moveOnFields(saga, next, now) },
        $inc: { revision: 1 },
        ...(next === null ? { $push: history({ type: 'saga-completed' }, now) } : {}),
      },
    );
  }

  /** A failed attempt with attempts left: the step waits for `nextAttemptAt`, and the next attempt's job with it. */
  async scheduleStepRetry(
    ref: StepJobRef,
    error: StoredError,
    timedOut: boolean,
    nextAttemptAt: Date,
    attemptStartedAt: Date,
    now = new Date(),
    /** The saga's `stepIndex` while the attempt is scheduled (scheduledAttemptFilter). */
    at = ref.step,
  ): Promise<boolean> {
    const path = `steps.${ref.step}`;
    const set: Record<string, unknown> = {
      [`${path}.status`]: 'retrying',
      [`${path}.attempts`]: ref.attempt,
      [`${path}.attemptStartedAt`]: attemptStartedAt,
      [`${path}.error`]: error,
      [`${path}.nextAttemptAt`]: nextAttemptAt,
      updatedAt: now,
    };
    if (timedOut) set[`${path}.mayHaveEffect`] = true;
    return this.conditionalUpdate(scheduledAttemptFilter(ref, at), {
      $set: set,
      $min: { [`${path}.startedAt`]: attemptStartedAt },
      $inc: { revision: 1 },
      $push: history(
        {
          type: timedOut ? 'attempt-timed-out' : 'attempt-failed',
          step: ref.stepName,
          attempt: ref.attempt,
          message: error.message,
        },
        now,
      ),
    });
  }

  /**
   * The result of an attempt that ended after the saga left `running` (deadline, cancel): kept on the step so
   * compensation sees what happened. It matches only when the cancel found the attempt's job taken (or lost) and
   * marked the step `running`; a job it removed never ran.
   */
  async recordLateResult(
    ref: StepJobRef,
    result: { output: unknown } | { error: StoredError; timedOut: boolean },
    now = new Date(),
  ): Promise<boolean> {
    const path = `steps.${ref.step}`;
    const set: Record<string, unknown> =
      'output' in result
        ? { [`${path}.status`]: 'completed', [`${path}.output`]: result.output, [`${path}.late`]: true }
        : {
            [`${path}.status`]: result.timedOut ? 'timed-out' : 'failed',
            [`${path}.error`]: result.error,
            [`${path}.late`]: true,
            ...(result.timedOut ? { [`${path}.mayHaveEffect`]: true } : {}),
          };
    set[`${path}.endedAt`] = now;
    set.updatedAt = now;
    return this.conditionalUpdate(
      {
        _id: ref.sagaId,
        generation: ref.generation,
        [`steps.${ref.step}.status`]: 'running',
        [`steps.${ref.step}.attempts`]: ref.attempt,
      },
      { $set: set, $inc: { revision: 1 } },
    );
  }

  /** Starts (or restarts) an attempt of a compensation; null when the job is stale. */
  claimCompensation(ref: StepJobRef, now = new Date()): Promise<SagaDocument | null> {
    const path = `steps.${ref.step}.compensation`;
    return this.collection.findOneAndUpdate(
      {
        _id: ref.sagaId,
        status: 'compensating',
        generation: ref.generation,
        'compensation.position': ref.position,
        $or: [
          { [`${path}.status`]: { $in: ['pending', 'retrying'] }, [`${path}.attempts`]: ref.attempt - 1 },
          { [`${path}.status`]: 'running', [`${path}.attempts`]: ref.attempt },
        ],
      },
      {
        $set: { [`${path}.status`]: 'running', [`${path}.attempts`]: ref.attempt, updatedAt: now },
        $min: { [`${path}.startedAt`]: now },
        $inc: { revision: 1 },
      },
      { returnDocument: 'after', projection: { history: 0 } },
    );
  }

  private compensationAttemptFilter(ref: StepJobRef): Filter<SagaDocument> {
    const path = `steps.${ref.step}.compensation`;
    return {
      _id: ref.sagaId,
      status: 'compensating',
      generation: ref.generation,
      'compensation.position': ref.position,
      [`${path}.status`]: 'running',
      [`${path}.attempts`]: ref.attempt,
    };
  }

  /** A compensation succeeded: on to the next planned one, or `compensated` after the last. */
  async completeCompensation(ref: StepJobRef, isLast: boolean, now = new Date()): Promise<boolean> {
    const path = `steps.${ref.step}.compensation`;
    const set: Record<string, unknown> = {
      [`${path}.status`]: 'completed',
      [`${path}.endedAt`]: now,
      'compensation.position': (ref.position ?? 0) + 1,
      updatedAt: now,
    };
    if (isLast) Object.assign(set, { status: 'compensated', endedAt: now }, this.expiryFields(ref, now));
    return this.conditionalUpdate(this.compensationAttemptFilter(ref), {
      $set: set,
      $unset: { [`${path}.error`]: '', [`${path}.nextAttemptAt`]: '' },
      $inc: { revision: 1 },
      $push: history(
        { type: isLast ? 'saga-compensated' : 'step-compensated', step: ref.stepName, attempt: ref.attempt },
        now,
      ),
    });
  }

  /**
   * A compensation of a wave (the members of one parallel group, compensated at the same time) succeeded. The
   * document after the write tells whether the whole wave has (then `advancePastWave`); null for a stale attempt.
   */
  completeWaveMember(ref: StepJobRef, now = new Date()): Promise<SagaDocument | null> {
    const path = `steps.${ref.step}.compensation`;
    return this.collection.findOneAndUpdate(
      this.compensationAttemptFilter(ref),
      {
        $set: { [`${path}.status`]: 'completed', [`${path}.endedAt`]: now, updatedAt: now },
        $unset: { [`${path}.error`]: '', [`${path}.nextAttemptAt`]: '' },
        $inc: { revision: 1 },
        $push: history({ type: 'step-compensated', step: ref.stepName, attempt: ref.attempt }, now),
      },
      { returnDocument: 'after', projection: { history: 0 } },
    );
  }

  /**
   * Moves compensation past wave `wave` (plan positions) once every compensation in it completed, to the next
   * planned one or, after the last, to `compensated`. Exactly one of members that finish together moves it.
   */
  advancePastWave(saga: SagaDocument, wave: StepSpan, now = new Date()): Promise<boolean> {
    const plan = saga.compensation?.plan ?? [];
    const members: Record<string, string> = {};
    for (const position of indexesOf(wave))
      members[`steps.${plan[position]!}.compensation.status`] = 'completed';
    const isLast = wave.end >= plan.length;
    const set: Record<string, unknown> = { 'compensation.position': wave.end, updatedAt: now };
    if (isLast) Object.assign(set, { status: 'compensated', endedAt: now }, this.expiryFields(saga, now));
    return this.conditionalUpdate(
      {
        _id: saga._id,
        status: 'compensating',
        generation: saga.generation,
        'compensation.position': wave.first,
        ...members,
      },
      {
        $set: set,
        $inc: { revision: 1 },
        ...(isLast ? { $push: history({ type: 'saga-compensated' }, now) } : {}),
      },
    );
  }

  async scheduleCompensationRetry(
    ref: StepJobRef,
    error: StoredError,
    nextAttemptAt: Date,
    now = new Date(),
  ): Promise<boolean> {
    const path = `steps.${ref.step}.compensation`;
    return this.conditionalUpdate(this.compensationAttemptFilter(ref), {
      $set: {
        [`${path}.status`]: 'retrying',
        [`${path}.error`]: error,
        [`${path}.nextAttemptAt`]: nextAttemptAt,
        updatedAt: now,
      },
      $inc: { revision: 1 },
      $push: history(
        {
          type: 'compensation-attempt-failed',
          step: ref.stepName,
          attempt: ref.attempt,
          message: error.message,
        },
        now,
      ),
    });
  }

  /**
   * The last compensation attempt failed: the saga is `failed` and needs an operator (dead letter). No `expiresAt`:
   * a saga is kept while its dead letter is open (discardDeadLetter sets it).
   */
  async failCompensation(ref: StepJobRef, error: StoredError, now = new Date()): Promise<boolean> {
    const path = `steps.${ref.step}.compensation`;
    return this.conditionalUpdate(this.compensationAttemptFilter(ref), {
      $set: {
        [`${path}.status`]: 'failed',
        [`${path}.error`]: error,
        [`${path}.endedAt`]: now,
        status: 'failed',
        error,
        updatedAt: now,
        endedAt: now,
      },
      $inc: { revision: 1 },
      $push: history(
        { type: 'saga-failed', step: ref.stepName, attempt: ref.attempt, message: error.message },
        now,
      ),
    });
  }

  /**
   * Optimistic transition for the rarer moves that need the whole document (start of compensation, cancel,
   * redrive): applies `update` only if nobody changed the saga since `expected` was read.
   */
  async transition(expected: SagaDocument, update: SagaUpdate): Promise<SagaDocument | null> {
    const $inc = { ...(update.$inc ?? {}), revision: 1 } as SagaUpdate['$inc'];
    return this.collection.findOneAndUpdate(
      { _id: expected._id, revision: expected.revision },
      { ...update, $inc },
      { returnDocument: 'after' },
    );
  }

  /** Counts a restore of a job BullMQ failed for good; returns the new count. */
  async countStuckRestore(id: string): Promise<number> {
    const saga = await this.collection.findOneAndUpdate(
      { _id: id },
      { $inc: { 'stuck.restores': 1 } },
      { returnDocument: 'after', projection: { stuck: 1 } },
    );
    return saga?.stuck?.restores ?? 0;
  }

  async markStuck(id: string, now = new Date()): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $set: { 'stuck.deadLetteredAt': now } });
  }

  /** An operator released a stuck saga: the sweeper handles it again from zero. */
  async clearStuck(id: string): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $unset: { stuck: '' } });
  }

  /**
   * An operator discarded the dead letter of `letter.generation`: the sweeper must not re-create it, and a saga that
   * ended (failed, rejected) in that generation expires, counted from now. One retried since runs again: no expiry.
   */
  async discardDeadLetter(
    letter: { sagaId: string; saga: string; version?: number; generation: number },
    now = new Date(),
  ): Promise<void> {
    await this.collection.updateOne({ _id: letter.sagaId }, { $set: { 'deadLetter.discardedAt': now } });
    const expiry = this.expiryFields(letter, now);
    if (expiry.expiresAt === undefined) return;
    await this.collection.updateOne(
      { _id: letter.sagaId, generation: letter.generation, status: { $in: ['failed', 'rejected'] } },
      { $set: expiry },
    );
  }

  async markDeadLettered(id: string, generation: number): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $set: { 'deadLetter.queuedGeneration': generation } });
  }

  /** Non-terminal sagas, oldest activity first, for the recovery sweeper. */
  findActive(limit: number): Promise<SagaDocument[]> {
    return (
      this.collection
        // A saga in a wait step does not move until its wait ends; its timers are restored apart (WaitStore).
        .find(
          { status: { $in: ['running', 'compensating'] }, waiting: { $exists: false } },
          { projection: { history: 0 } },
        )
        .sort({ updatedAt: 1 })
        .limit(limit)
        .toArray()
    );
  }

  /**
   * Failed or rejected sagas whose dead letter was not discarded, for the sweeper to check against Redis after Redis
   * lost its data: `unqueued` narrows them to those whose dead letter was never recorded as queued for their current
   * generation (a process stopped between the transition and the queueing), which are checked on every sweep.
   */
  deadLetterCandidates(options: { unqueued: boolean; batchSize: number }): AsyncIterable<SagaDocument> {
    return this.collection.find(
      {
        status: { $in: ['failed', 'rejected'] },
        'deadLetter.discardedAt': { $exists: false },
        ...(options.unqueued ? { $expr: { $ne: ['$deadLetter.queuedGeneration', '$generation'] } } : {}),
      },
      { projection: { history: 0 }, batchSize: options.batchSize },
    );
  }

  async appendHistory(id: string, event: Omit<HistoryEvent, 'at'>, now = new Date()): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $push: history(event, now) });
  }
}

/** listIndexes on a collection not created yet answers NamespaceNotFound: it has no indexes. */
function noIndexesYet(error: unknown): { key: unknown }[] {
  if ((error as { code?: number }).code === 26) return [];
  throw error;
}
