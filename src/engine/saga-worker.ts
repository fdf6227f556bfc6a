// The worker role: BullMQ workers for the step queues of the selected sagas and for deadline timers, plus a
// change stream on the saga collection that aborts in-flight attempts of sagas that stopped running.
import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { ChangeStream, ChangeStreamUpdateDocument } from 'mongodb';
import type { SagaLogger } from '../logging/saga-logger.js';
import type { SagaRegistry } from '../definition/index.js';
import type { DeadlineJobData, StepJobData } from '../queue/job-data.js';
import { TIMER_QUEUE, stepQueueName } from '../queue/queue-names.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import type { SagaDocument } from '../model/saga-document.js';
import type { SagaStore } from '../store/saga-store.js';
import { AbortRegistry } from './abort-registry.js';
import type { SagaMetrics } from './saga-metrics.js';
import type { SagaOperations } from './saga-operations.js';
import { StepProcessor } from './step-processor.js';

export interface SagaWorkerOptions {
  connection: ConnectionOptions;
  /** Step jobs run at once per saga queue in this process. */
  concurrency: number;
  /** Saga names this worker serves; all when absent. */
  sagas?: string[];
  /** How long shutdown waits for active steps before closing anyway. */
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
}

export class SagaWorker {
  private readonly workers: Worker[] = [];
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
      services: options.services,
    });
  }

  get activeAttempts(): number {
    return this.aborts.inFlight;
  }

  start(): void {
    const common = {
      connection: this.options.connection,
      prefix: this.queues.prefix,
      ...(this.options.lockDurationMs === undefined ? {} : { lockDuration: this.options.lockDurationMs }),
      ...(this.options.stalledIntervalMs === undefined
        ? {}
        : { stalledInterval: this.options.stalledIntervalMs }),
    };
    for (const definition of this.registry.select(this.options.sagas).list()) {
      const worker = new Worker<StepJobData>(
        stepQueueName(definition.name),
        (job: Job<StepJobData>) => this.processor.process(job.data),
        { ...common, concurrency: this.options.concurrency },
      );
      this.watch(worker, definition.name);
    }
    if (this.options.timers) {
      const timers = new Worker<DeadlineJobData>(
        TIMER_QUEUE,
        async (job: Job<DeadlineJobData>) => {
          await this.operations.deadlinePassed(job.data.sagaId, job.data.generation);
        },
        { ...common, concurrency: 4 },
      );
      this.watch(timers, TIMER_QUEUE);
    }
    this.watchSagaStates();
  }

  private watch(worker: Worker, name: string): void {
    worker.on('error', (error) => this.logger.error({ err: error, queue: name }, 'queue worker error'));
    worker.on('failed', (job, error) =>
      this.logger.warn({ err: error, queue: name, jobId: job?.id }, 'job failed; BullMQ retries it'),
    );
    this.workers.push(worker);
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

  /** Stops taking jobs, lets active ones finish within the grace period, then closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.stream?.close().catch(() => undefined);
      const graceful = Promise.all(this.workers.map((worker) => worker.close()));
      const timedOut = await Promise.race([
        graceful.then(() => false),
        new Promise<boolean>((resolve) =>
          setTimeout(() => resolve(true), this.options.shutdownGraceMs).unref(),
        ),
      ]);
      if (timedOut) {
        this.logger.warn(
          { active: this.aborts.inFlight },
          'shutdown grace period over; closing with steps still active',
        );
        await Promise.race([
          Promise.all(this.workers.map((worker) => worker.close(true))),
          new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
        ]);
      }
    })();
    return this.closing;
  }
}
