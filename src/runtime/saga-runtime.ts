// Wires a sagastream process together from its connections and the roles it plays: trigger watcher (with the
// recovery sweeper), step worker, or both. The CLI and the tests start processes through this.
import { MongoClient, type Db } from 'mongodb';
import type { Logger } from 'pino';
import type { SagaRegistry } from '../definition/index.js';
import { redisOptionsFromUrl } from '../queue/redis-connection.js';
import { SagaQueues } from '../queue/saga-queues.js';
import { SagaStore } from '../store/saga-store.js';
import { LeaseStore } from '../store/lease.js';
import { TriggerService, defaultHolderId } from '../trigger/trigger-service.js';
import type { TriggerWatcherOptionsInput } from '../trigger/trigger-watcher-options.js';
import { RecoverySweeper } from '../engine/recovery-sweeper.js';
import { noSagaMetrics, type SagaMetrics } from '../engine/saga-metrics.js';
import { SagaOperations } from '../engine/saga-operations.js';
import { SagaWorker } from '../engine/saga-worker.js';
import { SweeperService } from '../engine/sweeper-service.js';

/** What a `setup` function receives: the process's database (its `database` option) and a logger. */
export interface ServicesSetupContext {
  readonly db: Db;
  readonly logger: Logger;
}

export interface SagaRuntimeOptions {
  mongodbUrl: string;
  database: string;
  redisUrl: string;
  queuePrefix: string;
  registry: SagaRegistry;
  logger: Logger;
  /** Trigger watchers and the recovery sweeper (each behind its own lease). */
  watcher?: false | Partial<TriggerWatcherOptionsInput>;
  /** Step workers and deadline timers. */
  worker?:
    | false
    | {
        concurrency?: number;
        sagas?: string[];
        shutdownGraceMs?: number;
        /** BullMQ job lock and stalled-job check; a crashed worker's step re-runs after about their sum. */
        lockDurationMs?: number;
        stalledIntervalMs?: number;
      };
  sweeper?: { intervalMs?: number; leaseTtlMs?: number; batchSize?: number; stuckAfter?: number };
  /**
   * Where this process counts what it does: sagas started and ended, step durations and retries, watcher lag.
   * `new PrometheusSagaMetrics()` (served by `startMetricsServer`) or your own sink; nothing is counted without.
   */
  metrics?: SagaMetrics;
  /** The services every step and compensation gets as `ctx.services` (clients, repositories). */
  services?: unknown;
  /**
   * Builds the services once connected (a sagas module's `setup`); what it returns is `ctx.services` unless
   * `services` is given. It runs before any watcher starts a saga or any worker takes a job; if it throws,
   * nothing starts and `start` rejects with its error.
   */
  setup?: (context: ServicesSetupContext) => unknown;
}

export class SagaRuntime {
  private constructor(
    readonly client: MongoClient,
    readonly db: Db,
    readonly store: SagaStore,
    readonly queues: SagaQueues,
    readonly operations: SagaOperations,
    readonly trigger: TriggerService | null,
    readonly worker: SagaWorker | null,
    readonly metrics: SagaMetrics,
    private readonly sweeper: SweeperService | null,
    private readonly logger: Logger,
  ) {}

  static async start(options: SagaRuntimeOptions): Promise<SagaRuntime> {
    const logger = options.logger;
    const metrics = options.metrics ?? noSagaMetrics;
    const client = new MongoClient(options.mongodbUrl);
    await client.connect();
    const db = client.db(options.database);
    let services: unknown;
    try {
      const built = await options.setup?.({ db, logger: logger.child({ component: 'sagas' }) });
      services = options.services ?? built;
    } catch (error) {
      await client.close();
      throw error;
    }
    const store = new SagaStore(db);
    await store.ensureIndexes();
    const queues = new SagaQueues({
      connection: redisOptionsFromUrl(options.redisUrl, 'producer'),
      prefix: options.queuePrefix,
    });
    const operations = new SagaOperations(
      db,
      options.registry,
      store,
      queues,
      logger.child({ component: 'operations' }),
      metrics,
    );
    const holderId = (options.watcher && options.watcher.holderId) || defaultHolderId();
    let trigger: TriggerService | null = null;
    let sweeper: SweeperService | null = null;
    if (options.watcher !== false && options.watcher !== undefined) {
      trigger = new TriggerService({
        store,
        db,
        queues,
        sagas: options.registry,
        logger,
        watcher: { ...options.watcher, holderId },
        metrics,
      });
      await trigger.start();
      const recovery = new RecoverySweeper(
        options.registry,
        store,
        queues,
        operations,
        logger.child({ component: 'sweeper' }),
        {
          batchSize: options.sweeper?.batchSize ?? 1_000,
          stuckAfter: options.sweeper?.stuckAfter ?? 3,
        },
      );
      sweeper = new SweeperService(recovery, new LeaseStore(db), logger.child({ component: 'sweeper' }), {
        holderId,
        intervalMs: options.sweeper?.intervalMs ?? 15_000,
        leaseTtlMs: options.sweeper?.leaseTtlMs ?? 15_000,
      });
      sweeper.start();
    }
    let worker: SagaWorker | null = null;
    if (options.worker !== false && options.worker !== undefined) {
      worker = new SagaWorker(
        options.registry,
        store,
        queues,
        operations,
        logger.child({ component: 'worker' }),
        {
          connection: redisOptionsFromUrl(options.redisUrl, 'worker'),
          concurrency: options.worker.concurrency ?? 10,
          ...(options.worker.sagas ? { sagas: options.worker.sagas } : {}),
          shutdownGraceMs: options.worker.shutdownGraceMs ?? 30_000,
          timers: true,
          metrics,
          services,
          ...(options.worker.lockDurationMs === undefined
            ? {}
            : { lockDurationMs: options.worker.lockDurationMs }),
          ...(options.worker.stalledIntervalMs === undefined
            ? {}
            : { stalledIntervalMs: options.worker.stalledIntervalMs }),
        },
      );
      worker.start();
    }
    return new SagaRuntime(client, db, store, queues, operations, trigger, worker, metrics, sweeper, logger);
  }

  /** Graceful stop: watchers checkpoint and release, workers finish active steps within their grace, then close. */
  async stop(): Promise<void> {
    await this.trigger?.stop();
    await this.sweeper?.stop();
    await this.worker?.close();
    await this.queues.close();
    await this.client.close();
    this.logger.info('sagastream stopped');
  }
}
