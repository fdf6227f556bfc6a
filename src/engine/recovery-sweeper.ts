// Puts back what Redis lost: non-terminal sagas whose job is missing (FLUSHALL, a Redis restart without AOF, a
// crash between a state change and its enqueue) or failed for good in BullMQ get it re-queued; deadline timers
// and dead letters are restored.
// MongoDB holds the truth, and every job id is deterministic, so a sweep is idempotent.
import type { SagaLogger } from '../logging/saga-logger.js';
import { versionOf, type SagaRegistry } from '../definition/index.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import type { SagaStore } from '../store/saga-store.js';
import type { WaitSteps } from './wait-resumer.js';
import { SweeperMarks } from '../store/sweeper-marks.js';
import { deadLetterFor, deadLetterKindOf } from './dead-letters.js';
import { expectedJobs } from '../model/expected-job.js';
import { jobBase } from '../model/scheduled-attempt.js';
import type { ScheduledStep } from '../model/step-job-ref.js';
import { noSagaMetrics, type SagaMetrics } from './saga-metrics.js';
import { noSagaTracing, type SagaTracing } from '../tracing/saga-tracing.js';
import { moveOnIfDone, type GroupAdvanceDependencies } from './group-advance.js';
import type { SagaOperations } from './saga-operations.js';
import type { SagaDocument } from '../model/saga-document.js';
import type { StepJobRef } from '../model/step-job-ref.js';
import { stopReasonOf } from '../queue/attempt-gate.js';

/** A stop is given this long to land its transition before the sweeper takes its gate mark as cut off. */
const CUT_OFF_STOP_AFTER_MS = 60_000;

export interface SweepResult {
  checked: number;
  requeued: number;
  overdue: number;
  deadLettersRestored: number;
  /** Sagas reported as `stuck` dead letters in this sweep. */
  stuck: number;
  /** Cancels and deadlines cut off between holding a step's job id and their transition, finished here. */
  stopsFinished: number;
  /** Sagas checked of a version this process does not load (only their jobs and timers are restored). */
  otherVersions: number;
  /** Waiting sagas whose timers (deadline, wait timeout) were checked. */
  waitTimersChecked: number;
  /** Waits entered since the last sweep whose document was looked for again (their worker may have died first). */
  waitsRechecked: number;
  /** Of those, the waits a document that matched already ended here: wake-ups that would have been lost. */
  waitsMatched: number;
}

/** A waiting saga's timers. */
interface SagaTimers {
  deadline: Parameters<SagaQueues['scheduleDeadlines']>[0][number];
  timeout?: Parameters<SagaQueues['scheduleWaitTimeouts']>[0][number];
}

export interface RecoverySweeperOptions {
  /** Active sagas examined per sweep, the oldest activity first; dead-letter candidates are read in batches of it. */
  batchSize: number;
  /** After this many retries of a job BullMQ failed for good, the saga is reported as a `stuck` dead letter. */
  stuckAfter: number;
  /**
   * A saga that moved within this long has a worker on it: the job of the attempt its last write scheduled is about
   * to be added, or the attempt is about to start inside the job of the step before (StepProcessor's carrier), its
   * gate not set yet. Re-adding its job then would run that attempt twice at once. 15 s when absent (a worker's
   * Redis commands time out after 5 s, which bounds that window).
   */
  idleBeforeRestoreMs?: number;
  /**
   * Where waiting sagas are found, to restore their timers and repeat their entering read; without it, neither is
   * done.
   */
  waits?: WaitSteps;
}

/** Waits entered this recently have their timers checked on every sweep (a crash between the wait's write and its timer). */
const RECENT_WAIT_MS = 10 * 60_000;

/**
 * A wait's `since` is its worker's clock before the wait's write: waits that far back from the previous sweep's
 * start are read again, for the write's flight and for clocks that differ between machines.
 */
const RECHECK_MARGIN_MS = 60_000;

const DEFAULT_IDLE_BEFORE_RESTORE_MS = 15_000;

export class RecoverySweeper {
  private running: Promise<SweepResult> | null = null;
  /** The Redis epoch (SagaQueues.redisEpoch) in which this sweeper checked every dead letter; null before. */
  private deadLettersCheckedIn: string | null = null;
  /** The same for the timers of every waiting saga. */
  private waitTimersCheckedIn: string | null = null;

  constructor(
    private readonly registry: SagaRegistry,
    private readonly store: SagaStore,
    private readonly queues: SagaQueues,
    private readonly operations: SagaOperations,
    private readonly logger: SagaLogger,
    private readonly options: RecoverySweeperOptions = { batchSize: 1_000, stuckAfter: 3 },
    metrics: SagaMetrics = noSagaMetrics,
    tracing: SagaTracing = noSagaTracing,
  ) {
    this.advance = { store, queues, metrics, tracing };
    this.marks = new SweeperMarks(store.db);
  }

  /** What moving a saga past a finished group needs. */
  private readonly advance: GroupAdvanceDependencies;

  /** Where the last sweep (this process's or another's) left off, kept on the sweeper's lease. */
  private readonly marks: SweeperMarks;

  /** Waits for a sweep in progress. */
  async stop(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** One sweep; concurrent calls share the sweep in progress. */
  sweep(): Promise<SweepResult> {
    this.running ??= this.sweepOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * A running saga that has not moved for a while and whose scheduled attempt's gate says `stopped`: a cancel or
   * deadline set it and was cut off before its transition, so that attempt can never run. Finishing the stop is the
   * only way on. Sagas that moved recently are left alone: their stop may still be under way.
   */
  private async finishCutOffStop(saga: SagaDocument, ref: StepJobRef): Promise<boolean> {
    if (
      saga.status !== 'running' ||
      ref.phase !== 'forward' ||
      saga.updatedAt.getTime() > Date.now() - CUT_OFF_STOP_AFTER_MS
    )
      return false;
    const reason = stopReasonOf(await this.queues.attemptMark(ref));
    if (!reason) return false;
    return (await this.operations.finishStop(saga._id, saga.generation, reason)) !== null;
  }

  /** `finishCutOffStop` for the first of `jobs` (of a group: any member) whose gate a cut-off stop set. */
  private async finishCutOffStops(saga: SagaDocument, jobs: readonly ScheduledStep[]): Promise<boolean> {
    for (const job of jobs) if (await this.finishCutOffStop(saga, job.ref)) return true;
    return false;
  }

  /**
   * Waiting sagas hold no job, only timers (their deadline, their wait's timeout), which the main pass does not see:
   * those of recent waits on every sweep (a process may have died between the wait's write and its timer), those of
   * every wait once per Redis epoch (after Redis lost its data). Adding a timer that exists is a no-op.
   *
   * The waits entered since the last sweep (by any process: its mark is kept in MongoDB; every open wait the first
   * time) get their entering read again (WaitResumer.matchExisting): the worker that stored one may have died before
   * it looked for a document written while no wait watcher could see the wait, which nothing else would wake it for.
   */
  private async sweepWaits(epoch: string, result: SweepResult): Promise<void> {
    const waits = this.options.waits;
    if (!waits) return;
    const startedAt = Date.now();
    const everyWait = epoch !== this.waitTimersCheckedIn;
    const timersSince = everyWait ? null : startedAt - RECENT_WAIT_MS;
    // Null when no sweeper ever finished this: every open wait is read again once.
    const recheckedFrom = (await this.marks.waitsRecheckedFrom())?.getTime() ?? null;
    const recheckSince = recheckedFrom === null ? null : recheckedFrom - RECHECK_MARGIN_MS;
    const since = timersSince === null || recheckSince === null ? null : Math.min(timersSince, recheckSince);
    let timers: SagaTimers[] = [];
    let rechecks: Promise<boolean>[] = [];
    const flush = async (): Promise<void> => {
      await this.queues.scheduleDeadlines(timers.map((saga) => saga.deadline));
      await this.queues.scheduleWaitTimeouts(timers.flatMap(({ timeout }) => (timeout ? [timeout] : [])));
      result.waitsMatched += (await Promise.all(rechecks)).filter(Boolean).length;
      timers = [];
      rechecks = [];
    };
    for await (const saga of waits.store.timersOf(since === null ? undefined : new Date(since))) {
      if (!saga.waiting || !this.registry.has(saga.saga)) continue;
      const { step, timeoutAt } = saga.waiting;
      const base = jobBase(saga);
      const wait = { ...base, step, stepName: saga.steps[step]?.name ?? '' };
      const enteredAt = saga.waiting.since.getTime();
      if (timersSince === null || enteredAt >= timersSince) {
        result.waitTimersChecked += 1;
        timers.push({
          deadline: { ...base, deadline: saga.deadline },
          ...(timeoutAt ? { timeout: { wait, at: timeoutAt } } : {}),
        });
      }
      if (
        (recheckSince === null || enteredAt >= recheckSince) &&
        this.registry.find(saga.saga, versionOf(saga))
      ) {
        result.waitsRechecked += 1;
        rechecks.push(waits.resumer.matchExisting(wait, saga.waiting));
      }
      if (timers.length + rechecks.length >= this.options.batchSize) await flush();
    }
    await flush();
    if (everyWait) this.waitTimersCheckedIn = epoch;
    await this.marks.saveWaitsRecheckedFrom(new Date(startedAt));
  }

  private async sweepOnce(): Promise<SweepResult> {
    const result: SweepResult = {
      checked: 0,
      requeued: 0,
      overdue: 0,
      deadLettersRestored: 0,
      stuck: 0,
      stopsFinished: 0,
      otherVersions: 0,
      waitTimersChecked: 0,
      waitsRechecked: 0,
      waitsMatched: 0,
    };
    const known = new Set(this.registry.list().map((definition) => definition.name));
    const active = await this.store.findActive(this.options.batchSize);
    const deadlines = [];
    for (const saga of active) {
      if (!known.has(saga.saga)) continue;
      result.checked += 1;
      // Undefined for a version this process does not load: its job is still restored from the document (to that
      // version's queue, for the workers that load it); what needs the definition is left to them (the deadline
      // timer compensates an overdue saga there).
      const definition = this.registry.find(saga.saga, versionOf(saga));
      if (!definition) result.otherVersions += 1;
      if (definition && saga.status === 'running' && saga.deadline.getTime() <= Date.now()) {
        if (await this.operations.deadlinePassed(saga._id, saga.generation)) result.overdue += 1;
        continue;
      }
      if (saga.stuck?.deadLetteredAt) continue;
      const idleSince = Date.now() - (this.options.idleBeforeRestoreMs ?? DEFAULT_IDLE_BEFORE_RESTORE_MS);
      const idle = saga.updatedAt.getTime() <= idleSince;
      // A parallel group (or compensation wave) all done that nothing moved past: its last member's process died
      // between its result write and the move (group-advance.ts).
      const moved = idle && definition ? await moveOnIfDone(this.advance, definition, saga) : null;
      if (moved !== null) {
        if (moved) result.requeued += 1;
        continue;
      }
      const jobs = expectedJobs(saga, definition);
      // Before restoring: the job of a stopped attempt may be gone (its stop removed it), and re-adding it is useless.
      if (definition && (await this.finishCutOffStops(saga, jobs))) {
        result.stopsFinished += 1;
        continue;
      }
      for (const job of idle ? jobs : []) {
        const restored = await this.queues.restoreStep(job, { unlessCarried: true });
        if (restored !== 'present') result.requeued += 1;
        if (
          restored === 'retried' &&
          (await this.store.countStuckRestore(saga._id)) >= this.options.stuckAfter
        ) {
          // BullMQ gave up on this job again and again (not user code: that is retried and compensated):
          // an operator has to look, so it goes to the dead-letter queue and the sweeper leaves it alone.
          await this.queues.addDeadLetters([
            {
              ...deadLetterFor(saga, 'stuck'),
              error: {
                message: `the saga's ${job.ref.phase} job for step ${job.ref.stepName} keeps failing in the worker`,
                code: 'STUCK',
              },
            },
          ]);
          await this.store.markStuck(saga._id);
          result.stuck += 1;
          break;
        }
      }
      if (saga.status === 'running') {
        deadlines.push({ ...jobBase(saga), deadline: saga.deadline });
      }
    }
    // Adding an existing timer id is a no-op, so this only restores lost ones.
    await this.queues.scheduleDeadlines(deadlines);
    // Every dead letter once per Redis epoch (this sweeper's first sweep, then after Redis lost its data); on other
    // sweeps only those never recorded as queued. A sweep's cost then does not grow with the failed sagas stored.
    const epoch = await this.queues.redisEpoch();
    const everyDeadLetter = epoch !== this.deadLettersCheckedIn;
    const candidates = this.store.deadLetterCandidates({
      unqueued: !everyDeadLetter,
      batchSize: this.options.batchSize,
    });
    for await (const saga of candidates) {
      if (await this.queues.hasDeadLetter(saga._id, saga.generation)) {
        if (saga.deadLetter?.queuedGeneration !== saga.generation)
          await this.store.markDeadLettered(saga._id, saga.generation);
        continue;
      }
      await this.queues.addDeadLetters([deadLetterFor(saga, deadLetterKindOf(saga))]);
      await this.store.markDeadLettered(saga._id, saga.generation);
      result.deadLettersRestored += 1;
    }
    if (everyDeadLetter) this.deadLettersCheckedIn = epoch;
    await this.sweepWaits(epoch, result);
    if (
      result.requeued +
        result.overdue +
        result.deadLettersRestored +
        result.stopsFinished +
        result.waitsMatched >
      0
    ) {
      this.logger.warn(result, 'recovery sweep restored missing work');
    }
    return result;
  }
}
