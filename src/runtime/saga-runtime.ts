// Wires a sagastream process together from its connections and the roles it plays: trigger watcher (with the
// recovery sweeper), step worker, or both. The CLI and the tests start processes through this.
import { MongoClient, type Db } from 'mongodb';
import { SagastreamError } from '../errors/index.js';
import { createLogger } from '../logging/logger.js';
import type { SagaLogger } from '../logging/saga-logger.js';
import { redisOptionsFromUrl } from '../queue/redis-connection.js';
import { SagaQueues } from '../queue/saga-queues.js';
import { SagaStore } from '../store/saga-store.js';
import { LeaseStore } from '../store/lease.js';
import { TriggerService, defaultHolderId } from '../trigger/trigger-service.js';
import { RecoverySweeper } from '../engine/recovery-sweeper.js';
import { noSagaMetrics, type SagaMetrics } from '../engine/saga-metrics.js';
import { SagaOperations } from '../engine/saga-operations.js';
import { SagaWorker } from '../engine/saga-worker.js';
import { SweeperService } from '../engine/sweeper-service.js';
import {
  sagaRuntimeOptionsSchema,
  type ResolvedSagaRuntimeOptions,
  type SagaRuntimeOptions,
} from './saga-runtime-options.js';

export type { SagaRuntimeOptions, ServicesSetupContext, RuntimeRole } from './saga-runtime-options.js';

/** How long the sweeper's Redis health check waits for a PING. */
const SWEEPER_PING_TIMEOUT_MS = 3_000;

/** The options with defaults filled in; a bad option fails here, before anything connects, naming every problem. */
function parseRuntimeOptions(input: SagaRuntimeOptions): ResolvedSagaRuntimeOptions {
  const parsed = sagaRuntimeOptionsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.map(String).join('.') || '(options)'}: ${issue.message}`,
  );
  throw new SagastreamError(
    'CONFIG_INVALID',
    `SagaRuntime.start options are invalid: ${problems.join('; ')}`,
  );
}

export class SagaRuntime {
  // The parts below serve the admin API, the CLI and sagastream's own tests; they are not part of the API.
  private constructor(
    /** @internal */ readonly client: MongoClient,
    /** The process's database (the `database` option). */
    readonly db: Db,
    /** @internal */ readonly store: SagaStore,
    /** @internal */ readonly queues: SagaQueues,
    /** @internal */ readonly operations: SagaOperations,
    /** @internal */ readonly trigger: TriggerService | null,
    /** @internal */ readonly worker: SagaWorker | null,
    /** @internal */ readonly metrics: SagaMetrics,
    private readonly sweeper: SweeperService | null,
    private readonly logger: SagaLogger,
  ) {}

  /**
   * Connects, builds the services, then starts the roles named in `options.roles`.
   * @throws SagastreamError `CONFIG_INVALID`, naming every problem, for options it cannot use (before connecting).
   */
  static async start(input: SagaRuntimeOptions): Promise<SagaRuntime> {
    const options = parseRuntimeOptions(input);
    const logger = options.logger ?? createLogger({ level: 'info', name: 'sagastream', pretty: false });
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
    const holderId = options.watcher.holderId || defaultHolderId();
    let trigger: TriggerService | null = null;
    let sweeper: SweeperService | null = null;
    if (options.roles.has('watcher')) {
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
          batchSize: options.sweeper.batchSize,
          stuckAfter: options.sweeper.stuckAfter,
        },
      );
      sweeper = new SweeperService(recovery, new LeaseStore(db), logger.child({ component: 'sweeper' }), {
        holderId,
        intervalMs: options.sweeper.interval,
        leaseTtlMs: options.sweeper.leaseTtl,
        queueHealth: () => queues.ping(SWEEPER_PING_TIMEOUT_MS),
      });
      sweeper.start();
    }
    let worker: SagaWorker | null = null;
    if (options.roles.has('worker')) {
      worker = new SagaWorker(
        options.registry,
        store,
        queues,
        operations,
        logger.child({ component: 'worker' }),
        {
          connection: redisOptionsFromUrl(options.redisUrl, 'worker'),
          concurrency: options.worker.concurrency,
          ...(options.worker.sagas ? { sagas: options.worker.sagas } : {}),
          shutdownGraceMs: options.worker.shutdownGrace,
          timers: true,
          metrics,
          services,
          ...(options.worker.lockDuration === undefined
            ? {}
            : { lockDurationMs: options.worker.lockDuration }),
          ...(options.worker.stalledInterval === undefined
            ? {}
            : { stalledIntervalMs: options.worker.stalledInterval }),
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
