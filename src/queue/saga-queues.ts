// The BullMQ queues of a deployment: one step queue per saga, a timer queue for deadlines, and the dead-letter
// queue. Producers fail fast: every operation here is bounded in time; workers (elsewhere) wait for Redis.
import { randomUUID } from 'node:crypto';
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { settleWithin } from '../connections/deadline.js';
import { within } from '../errors/index.js';
import type { ScheduledStep, StepJobRef } from '../model/step-job-ref.js';
import {
  STOP_MARK_HOLD_MS,
  attemptGateKey,
  carrierOf,
  type AttemptMark,
  type StopReason,
} from './attempt-gate.js';
import type {
  DeadLetterJobData,
  DeadlineJobData,
  StepJobData,
  TimerJobData,
  WaitTimeoutJobData,
} from './job-data.js';
import {
  DEAD_LETTER_QUEUE,
  TIMER_QUEUE,
  deadLetterJobId,
  deadlineJobId,
  stepJobId,
  stepQueueName,
  queueKeyPrefix,
  waitTimeoutJobId,
} from './queue-names.js';

/** Nothing processes the dead-letter queue, so every entry stays in one of these states. */
export const DEAD_LETTER_STATES = ['waiting', 'delayed', 'prioritized'] as const;

export interface SagaQueuesOptions {
  /** One `producer` connection (an ioredis instance) that every queue here shares, or options for each. */
  connection: ConnectionOptions;
  /** The deployment's key prefix; each queue's keys go under `<prefix>:{<queue name>}` (queueKeyPrefix). */
  prefix: string;
  /**
   * Longest wait for one operation (a few commands); it then fails with `CONNECTION_TIMEOUT`, even when the
   * connection is still being set up. 10 s when absent.
   */
  operationTimeoutMs?: number;
}

const DEFAULT_OPERATION_TIMEOUT_MS = 10_000;
/** How long `close` waits for a queue before leaving it. */
const CLOSE_TIMEOUT_MS = 1_000;

/** Infrastructure failures (MongoDB briefly unreachable) are retried by BullMQ; step failures are not. */
const STEP_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600, count: 10_000 },
};

export type { ScheduledStep };

/** What every timer job (a deadline, a wait's timeout) is added with. */
const TIMER_JOB_OPTIONS = {
  removeOnComplete: true,
  removeOnFail: { count: 1000 },
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
} as const satisfies JobsOptions;

export class SagaQueues {
  readonly prefix: string;
  private readonly stepQueues = new Map<string, Queue<StepJobData>>();
  readonly timers: Queue<TimerJobData>;
  readonly deadLetters: Queue<DeadLetterJobData>;

  private readonly operationTimeoutMs: number;

  constructor(private readonly options: SagaQueuesOptions) {
    this.prefix = options.prefix;
    this.operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
    this.timers = this.newQueue<TimerJobData>(TIMER_QUEUE);
    this.deadLetters = this.newQueue<DeadLetterJobData>(DEAD_LETTER_QUEUE);
  }

  /** Connection failures are the connection's state (logged once where it is watched), not raw dumps. */
  private newQueue<T>(name: string): Queue<T> {
    const queue = new Queue<T>(name, { connection: this.options.connection, prefix: this.keyPrefix(name) });
    queue.on('error', () => undefined);
    return queue;
  }

  /** The BullMQ prefix of queue `queueName` (queueKeyPrefix): what a Worker of that queue is given. */
  keyPrefix(queueName: string): string {
    return queueKeyPrefix(this.prefix, queueName);
  }

  private bounded<T>(operation: Promise<T>, what: string): Promise<T> {
    return within(operation, this.operationTimeoutMs, `Redis ${what}`);
  }

  /** The step queue of a saga version (see stepQueueName); version 1 when not given. */
  stepQueue(sagaName: string, version = 1): Queue<StepJobData> {
    const name = stepQueueName(sagaName, version);
    let queue = this.stepQueues.get(name);
    if (!queue) {
      queue = this.newQueue<StepJobData>(name);
      this.stepQueues.set(name, queue);
    }
    return queue;
  }

  /** Queues step attempts, grouped per saga queue in bulk; an id that is already queued is left alone. */
  enqueueSteps(steps: ScheduledStep[]): Promise<void> {
    return this.bounded(this.addSteps(steps), 'enqueue of steps');
  }

  private async addSteps(steps: ScheduledStep[]): Promise<void> {
    // Grouped per saga version: each version has its own queue.
    const bySaga = new Map<Queue<StepJobData>, ScheduledStep[]>();
    for (const step of steps) {
      const queue = this.stepQueue(step.ref.saga, step.ref.version);
      const list = bySaga.get(queue) ?? [];
      list.push(step);
      bySaga.set(queue, list);
    }
    const jobOf = ({ ref, delayMs, continuation }: ScheduledStep) => {
      const delay = Math.max(0, Math.round(delayMs ?? 0));
      return {
        name: ref.phase,
        data: ref,
        opts: {
          ...STEP_JOB_OPTIONS,
          jobId: stepJobId(ref),
          delay,
          lifo: continuation === true && delay === 0,
        },
      };
    };
    await Promise.all(
      [...bySaga].map(async ([queue, list]) => {
        // One job (every step transition) is one script call; addBulk would wrap it in a MULTI pipeline.
        if (list.length === 1) {
          const { name, data, opts } = jobOf(list[0]!);
          await queue.add(name, data, opts);
        } else await queue.addBulk(list.map(jobOf));
      }),
    );
  }

  async scheduleDeadlines(deadlines: (Omit<DeadlineJobData, 'kind'> & { deadline: Date })[]): Promise<void> {
    if (deadlines.length === 0) return;
    const now = Date.now();
    const adding = this.timers.addBulk(
      deadlines.map(({ sagaId, saga, version, generation, deadline, trace }) => ({
        name: 'deadline',
        data: {
          kind: 'deadline' as const,
          sagaId,
          saga,
          version: version ?? 1,
          generation,
          ...(trace === undefined ? {} : { trace }),
        },
        opts: {
          jobId: deadlineJobId(sagaId, generation),
          delay: Math.max(0, deadline.getTime() - now),
          ...TIMER_JOB_OPTIONS,
        },
      })),
    );
    await this.bounded(adding, 'schedule of deadlines');
  }

  /** Adds the timers that end waits at their times (one that is queued already stays as it is). */
  async scheduleWaitTimeouts(
    timeouts: { wait: Omit<WaitTimeoutJobData, 'kind'>; at: Date }[],
  ): Promise<void> {
    if (timeouts.length === 0) return;
    const now = Date.now();
    const adding = this.timers.addBulk(
      timeouts.map(({ wait, at }) => ({
        name: 'wait-timeout',
        data: { kind: 'wait-timeout' as const, ...wait, version: wait.version ?? 1 },
        opts: {
          jobId: waitTimeoutJobId(wait.sagaId, wait.step, wait.generation),
          delay: Math.max(0, at.getTime() - now),
          ...TIMER_JOB_OPTIONS,
        },
      })),
    );
    await this.bounded(adding, 'schedule of wait timeouts');
  }

  /** Cleanup once a wait ended otherwise: a timer that fires anyway finds the saga no longer waiting. */
  async removeWaitTimeout(sagaId: string, step: number, generation: number): Promise<void> {
    await this.bounded(
      this.timers.remove(waitTimeoutJobId(sagaId, step, generation)),
      'removal of a wait timeout',
    ).catch(() => undefined);
  }

  async addDeadLetters(entries: DeadLetterJobData[]): Promise<void> {
    if (entries.length === 0) return;
    const adding = this.deadLetters.addBulk(
      entries.map((entry) => ({
        name: entry.kind,
        data: entry,
        opts: { jobId: deadLetterJobId(entry.sagaId, entry.generation, entry.kind) },
      })),
    );
    await this.bounded(adding, 'add of dead letters');
  }

  /**
   * Sets attempt `ref`'s gate to `mark` unless it holds one (one `SET NX GET`, atomic; Redis 7). Returns null when
   * this call set it, else the mark that was there (see attempt-gate.ts).
   */
  markAttempt(ref: StepJobRef, mark: AttemptMark, ttlMs: number): Promise<AttemptMark | null> {
    return this.bounded(this.setMark(ref, mark, ttlMs), 'set of an attempt gate');
  }

  private async setMark(ref: StepJobRef, mark: AttemptMark, ttlMs: number): Promise<AttemptMark | null> {
    const client = await this.stepQueue(ref.saga, ref.version).backend.client;
    const key = attemptGateKey(this.prefix, ref);
    const previous: unknown = await client.runCommand('set', [
      key,
      mark,
      'NX',
      'GET',
      'PX',
      String(Math.max(1, Math.round(ttlMs))),
    ]);
    return typeof previous === 'string' ? (previous as AttemptMark) : null;
  }

  /** Attempt `ref`'s gate mark; null when it holds none (never set, expired, or lost with Redis). */
  attemptMark(ref: StepJobRef): Promise<AttemptMark | null> {
    const reading = (async () => {
      const client = await this.stepQueue(ref.saga, ref.version).backend.client;
      return (await client.get(attemptGateKey(this.prefix, ref))) as AttemptMark | null;
    })();
    return this.bounded(reading, 'read of an attempt gate');
  }

  /**
   * The stop that set attempt `ref`'s gate records what it found on its mark (kept for the mark's remaining time),
   * so a later stop of the same attempt knows it without the job, which may be removed by then.
   */
  async recordStopVerdict(ref: StepJobRef, reason: StopReason, mayHaveActed: boolean): Promise<void> {
    const recording = (async () => {
      const client = await this.stepQueue(ref.saga, ref.version).backend.client;
      await client.runCommand('set', [
        attemptGateKey(this.prefix, ref),
        `stopped:${reason}:${mayHaveActed ? 'may-have-acted' : 'not-started'}`,
        'XX',
        'KEEPTTL',
      ]);
    })();
    await this.bounded(recording, 'record of a stop');
  }

  /**
   * Makes sure the job a saga waits for can still run: adds it when Redis lost it, retries it when BullMQ gave
   * up on it (infrastructure errors past the job's attempts, or stalled too often). True when it had to.
   * A forward attempt re-added here may have run before Redis lost its job: its gate is marked `lost` first (unless
   * it holds a mark), so a stop counts it as may-have-acted even once the new job waits untaken.
   * With `unlessCarried`, an attempt without a job that runs inside a carrier job (attempt-gate.ts) still waiting or
   * active counts as present: the carrier runs it, or queues it when BullMQ re-runs the carrier after its worker
   * died. Only the sweeper asks so; the carrier's own re-run restores without it.
   */
  restoreStep(
    step: ScheduledStep,
    options: { unlessCarried?: boolean } = {},
  ): Promise<'present' | 'added' | 'retried'> {
    return this.bounded(this.restore(step, options.unlessCarried === true), 'restore of a step job');
  }

  /** Whether attempt `ref` runs inside a carrier job that is active, or waits to be re-run. */
  /**
   * The carrier of forward attempt `ref` (the earlier step's job it runs in, attempt-gate.ts), when its gate names
   * one: since when the attempt runs, and the carrier job's state (undefined once the job is gone).
   */
  async carrierOfAttempt(
    ref: StepJobRef,
  ): Promise<{ jobId: string; startedAt: Date; state: string | undefined } | null> {
    const carrier = carrierOf(await this.attemptMark(ref));
    if (!carrier) return null;
    const job = await this.stepQueue(ref.saga, ref.version).getJob(carrier.jobId);
    return { ...carrier, state: await job?.getState() };
  }

  /** Whether attempt `ref` runs inside a carrier that is still active or waiting to be re-run. */
  private async carried(ref: StepJobRef): Promise<boolean> {
    const state = (await this.carrierOfAttempt(ref))?.state;
    return state !== undefined && state !== 'completed' && state !== 'failed' && state !== 'unknown';
  }

  private async restore(
    step: ScheduledStep,
    unlessCarried: boolean,
  ): Promise<'present' | 'added' | 'retried'> {
    const job = await this.stepQueue(step.ref.saga, step.ref.version).getJob(stepJobId(step.ref));
    if (!job) {
      if (unlessCarried && step.ref.phase === 'forward' && (await this.carried(step.ref))) return 'present';
      if (step.ref.phase === 'forward') await this.setMark(step.ref, 'lost', STOP_MARK_HOLD_MS);
      await this.addSteps([step]);
      return 'added';
    }
    if (await job.isFailed()) {
      await job.retry('failed');
      return 'retried';
    }
    return 'present';
  }

  /** True when a job with this id exists in any state. */
  async hasStepJob(ref: StepJobRef): Promise<boolean> {
    const job = await this.bounded(
      this.stepQueue(ref.saga, ref.version).getJob(stepJobId(ref)),
      'read of a step job',
    );
    return job !== undefined;
  }

  /** Every dead-letter job id, unordered: ids only, a few dozen bytes each, so even thousands are cheap. */
  deadLetterIds(): Promise<string[]> {
    return this.bounded(
      this.deadLetters.getRanges([...DEAD_LETTER_STATES], 0, -1),
      'read of the dead-letter ids',
    );
  }

  /**
   * An id for the data Redis holds now: one key set once (`SET NX`) beside the dead letters and one beside the
   * timers, kept as long as Redis keeps their data. A new id means Redis lost what the sweeper checks per epoch
   * (FLUSHALL, a restart without persistence, or, on a Redis Cluster, the master of either slot losing its data;
   * the two queues may sit on different masters, hence one key in each slot).
   */
  redisEpoch(): Promise<string> {
    const epochIn = async (queue: Queue): Promise<string> => {
      const client = await queue.backend.client;
      const fresh = randomUUID();
      const key = `${this.keyPrefix(queue.name)}:epoch`;
      const previous: unknown = await client.runCommand('set', [key, fresh, 'NX', 'GET']);
      return typeof previous === 'string' ? previous : fresh;
    };
    const reading = Promise.all([epochIn(this.deadLetters), epochIn(this.timers)]).then((ids) =>
      ids.join('/'),
    );
    return this.bounded(reading, 'read of the Redis epoch');
  }

  async hasDeadLetter(sagaId: string, generation: number): Promise<boolean> {
    const job = await this.bounded(
      this.deadLetters.getJob(deadLetterJobId(sagaId, generation)),
      'read of a dead letter',
    );
    return job !== undefined;
  }

  /** A finished saga's deadline timer is dropped so queue depths show only live work (best effort). */
  async removeDeadline(sagaId: string, generation: number): Promise<void> {
    await this.bounded(this.timers.remove(deadlineJobId(sagaId, generation)), 'removal of a deadline').catch(
      () => undefined,
    );
  }

  async hasDeadline(sagaId: string, generation: number): Promise<boolean> {
    const job = await this.bounded(
      this.timers.getJob(deadlineJobId(sagaId, generation)),
      'read of a deadline',
    );
    return job !== undefined;
  }

  /**
   * Answers when every Redis connection these queues opened answers a PING within `timeoutMs`: a half-open
   * socket (a NAT or firewall that lost the connection) accepts commands and never answers, so it only shows
   * as a missing reply.
   * @throws SagastreamError `CONNECTION_TIMEOUT`, or the connection's own error.
   */
  async ping(timeoutMs: number): Promise<void> {
    const pinging = (async () => {
      // Queues given one shared connection all return the same client: each connection is pinged once.
      const clients = new Set(await Promise.all(this.allQueues().map((queue) => queue.backend.client)));
      await Promise.all([...clients].map((client): Promise<unknown> => client.runCommand('ping', [])));
    })();
    await within(pinging, timeoutMs, 'Redis (PING)');
  }

  private allQueues(): Queue[] {
    return [this.timers, this.deadLetters, ...this.stepQueues.values()];
  }

  /** Closes the queues (not a shared connection: its owner closes it), waiting a second at most. */
  async close(): Promise<void> {
    await settleWithin(Promise.allSettled(this.allQueues().map((queue) => queue.close())), CLOSE_TIMEOUT_MS);
  }
}
