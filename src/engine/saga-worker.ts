// The worker role: BullMQ workers for the step queues of the selected sagas and for deadline timers, plus a
// change stream on the saga collection that aborts in-flight attempts of sagas that stopped running.
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { ChangeStream, ChangeStreamUpdateDocument } from 'mongodb';
import { settleWithin } from '../connections/deadline.js';
import type { SagaLogger } from '../logging/saga-logger.js';
import type { SagaRegistry } from '../definition/index.js';
import type { StepJobData, TimerJobData } from '../queue/job-data.js';
import { TIMER_QUEUE, stepQueueName } from '../queue/queue-names.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import type { SagaDocument } from '../model/saga-document.js';
import type { SagaStore } from '../store/saga-store.js';
import type { SagaTracing } from '../tracing/saga-tracing.js';
import type { WaitSteps } from './wait-resumer.js';
import { AbortRegistry } from './abort-registry.js';
import type { SagaMetrics } from './saga-metrics.js';
import type { SagaOperations } from './saga-operations.js';
import { StepProcessor } from './step-processor.js';

/** Where a BullMQ worker's connections come from (RedisConnections): watched, and closed by their maker. */
export interface WorkerConnections {
  /** A new `worker` connection; BullMQ duplicates its blocking connection from it. */
  create(role: 'worker'): Redis | Cluster;
  /** Closes a connection from `create` and its duplicates, within about half a second. */
  release(connection: Redis | Cluster): Promise<void>;
}

/**
 * How long a deadline timer of a saga version this process does not load waits before another worker may take it:
 * it is not acted on here (that needs the version's definition), and not failed.
 */
const OTHER_VERSION_TIMER_DELAY_MS = 5_000;
/** After the grace period, how long the workers get to close once their connections are dropped. */
const FORCED_CLOSE_MS = 500;
/** How long closing the saga-state change stream may take. */
const STREAM_CLOSE_MS = 1_000;

interface WorkerSlot {
  readonly name: string;
  readonly worker: Worker;
  readonly connection: Redis | Cluster;
}

export interface SagaWorkerOptions {
  connections: WorkerConnections;
  /** Step jobs run at once per saga queue in this process. */
  concurrency: number;
  /** Saga names this worker serves; all when absent. */
  sagas?: string[];
  /**
   * How long shutdown waits for active steps before closing anyway (dropping the Redis connections, so a dead
   * link cannot hold it); steps still running then are re-run by BullMQ's stalled-job check elsewhere.
   */
  shutdownGraceMs: number;
  /** Run the deadline timer queue here too (one timer worker per deployment is enough; more are harmless). */
  timers: boolean;
  /**
   * BullMQ's job lock: a job of a process that died is re-run once the lock expired and a stalled check saw it
   * (about lockDuration + stalledInterval). BullMQ's defaults (30 s each) when absent.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Where step durations, retries and saga outcomes are counted. */
  metrics?: SagaMetrics;
  /** Given to every step and compensation as `ctx.services`. */
  services?: unknown;
  /** Each attempt's span and the root span of the sagas ended here (src/tracing). */
  tracing?: SagaTracing;
  /**
   * Forward steps of a saga one job runs in a row before it queues the next one (StepProcessor's `Carrier`): the
   * next step runs in the same slot, without a BullMQ job of its own. 1 queues every step. 1 when absent.
   */
  stepsPerJob?: number;
  /** Where wait steps are stored and ended (and their timers handled); needed by sagas with wait steps. */
  waits?: WaitSteps;
}

/** Errors of an unreachable or closing connection, which the connection's own state already reports. */
function isConnectionError(error: Error): boolean {
  return /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Socket closed|Command timed out|Stream isn't writeable/i.test(
    error.message,
  );
}

export class SagaWorker {
  private readonly slots: WorkerSlot[] = [];
  private readonly aborts = new AbortRegistry();
  /** @internal The step processor (tests set its fail points). */
  readonly processor: StepProcessor;
  private stream: ChangeStream<SagaDocument, ChangeStreamUpdateDocument<SagaDocument>> | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly registry: SagaRegistry,
    private readonly store: SagaStore,
    private readonly queues: SagaQueues,
    private readonly operations: SagaOperations,
    private readonly logger: SagaLogger,
    private readonly options: SagaWorkerOptions,
  ) {
    this.processor = new StepProcessor({
      registry,
      store,
      queues,
      aborts: this.aborts,
      logger,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.tracing ? { tracing: options.tracing } : {}),
      services: options.services,
      stepsPerJob: options.stepsPerJob ?? 1,
      mayContinue: () => this.closing === null,
      ...(options.waits ? { waits: options.waits } : {}),
    });
  }

  get activeAttempts(): number {
    return this.aborts.inFlight;
  }

  start(): void {
    const common = {
      ...(this.options.lockDurationMs === undefined ? {} : { lockDuration: this.options.lockDurationMs }),
      ...(this.options.stalledIntervalMs === undefined
        ? {}
        : { stalledInterval: this.options.stalledIntervalMs }),
    };
    // One BullMQ worker per loaded version: a job is queued on its saga's version's queue (stepQueueName), so a
    // worker never takes a job of a version it does not load; that job waits for a worker that does.
    for (const definition of this.registry.select(this.options.sagas).all()) {
      const connection = this.options.connections.create('worker');
      const queueName = stepQueueName(definition.name, definition.version);
      const worker = new Worker<StepJobData>(
        queueName,
        (job: Job<StepJobData>) => this.processor.process(job.data, job.id),
        {
          ...common,
          prefix: this.queues.keyPrefix(queueName),
          connection,
          concurrency: this.options.concurrency,
        },
      );
      this.watch({ name: queueName, worker, connection });
    }
    if (this.options.timers) {
      const connection = this.options.connections.create('worker');
      const timers = new Worker<TimerJobData>(
        TIMER_QUEUE,
        async (job: Job<TimerJobData>, token?: string) => {
          const { saga, version = 1 } = job.data;
          if (this.registry.has(saga) && !this.registry.find(saga, version)) {
            // Compensating needs this version's definition: leave the timer for a worker that loads it.
            await job.moveToDelayed(Date.now() + OTHER_VERSION_TIMER_DELAY_MS, token);
            throw new DelayedError();
          }
          if (job.data.kind === 'wait-timeout') {
            if (!this.options.waits)
              throw new Error('a wait timeout reached a worker that runs no wait steps');
            await this.options.waits.resumer.timedOut(job.data);
          } else await this.operations.deadlinePassed(job.data.sagaId, job.data.generation);
        },
        { ...common, prefix: this.queues.keyPrefix(TIMER_QUEUE), connection, concurrency: 4 },
      );
      this.watch({ name: TIMER_QUEUE, worker: timers, connection });
    }
    this.watchSagaStates();
  }

  private watch(slot: WorkerSlot): void {
    const { worker, name } = slot;
    worker.on('error', (error) => {
      // A lost connection is logged once, where it is watched (RedisConnections); these are its echoes.
      if (isConnectionError(error)) this.logger.debug({ err: error, queue: name }, 'queue worker error');
      else this.logger.error({ err: error, queue: name }, 'queue worker error');
    });
    worker.on('failed', (job, error) =>
      this.logger.warn({ err: error, queue: name, jobId: job?.id }, 'job failed; BullMQ retries it'),
    );
    this.slots.push(slot);
  }

  /** Cancel and deadline are decided elsewhere; this is how an attempt running here learns about them. */
  private watchSagaStates(): void {
    const pipeline = [
      {
        $match: {
          operationType: 'update',
          'updateDescription.updatedFields.status': { $in: ['compensating', 'compensated', 'failed'] },
        },
      },
    ];
    const open = (): void => {
      if (this.closing) return;
      const stream = this.store.collection.watch<SagaDocument, ChangeStreamUpdateDocument<SagaDocument>>(
        pipeline,
      );
      this.stream = stream;
      stream.on('change', (event) => {
        const sagaId = String(event.documentKey._id);
        if (this.aborts.abort(sagaId, 'the saga stopped running') > 0) {
          this.logger.info({ sagaId }, 'aborted in-flight attempt of a saga that stopped running');
        }
      });
      stream.on('error', (error) => {
        this.logger.warn({ err: error }, 'saga state stream failed; reopening');
        void stream.close().catch(() => undefined);
        setTimeout(open, 1_000).unref();
      });
    };
    open();
  }

  /**
   * Stops taking jobs, lets active ones finish within the grace period, then closes. Bounded even when Redis or
   * MongoDB do not answer: after the grace the connections are dropped, which fails whatever BullMQ still waits
   * for. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const streamClosed = settleWithin(this.stream?.close() ?? Promise.resolve(), STREAM_CLOSE_MS);
      // BullMQ's close(true) after close() only returns the first close's promise, so the force is ours.
      const graceful = Promise.all(this.slots.map((slot) => slot.worker.close()));
      const outcome = await settleWithin(graceful, this.options.shutdownGraceMs);
      await streamClosed;
      if (outcome === 'timed-out') {
        this.logger.warn(
          { active: this.aborts.inFlight },
          'shutdown grace period over; closing with steps still active (BullMQ re-runs them once stalled)',
        );
      }
      await Promise.all(this.slots.map((slot) => this.options.connections.release(slot.connection)));
      if (outcome === 'timed-out') await settleWithin(graceful, FORCED_CLOSE_MS);
    })();
    return this.closing;
  }
}
