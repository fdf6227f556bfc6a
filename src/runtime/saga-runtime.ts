// Wires a sagastream process together from its connections and the roles it plays: trigger watcher (with the
// recovery sweeper), step worker, or both. The CLI and the tests start processes through this.
import { MongoClient, type Db } from 'mongodb';
import { ConnectionStates, isConnectionMetrics } from '../connections/connection-states.js';
import { settleWithin } from '../connections/deadline.js';
import { mongoClientOptions } from '../connections/mongo-options.js';
import { watchMongoClient, type MongoHealthWatch } from '../connections/mongo-health.js';
import { RedisConnections } from '../connections/redis-connections.js';
import { DEFAULT_REDIS_TIMEOUTS } from '../connections/redis-options.js';
import { RetentionPolicy } from '../definition/index.js';
import { SagastreamError } from '../errors/index.js';
import { createLogger } from '../logging/logger.js';
import type { SagaLogger } from '../logging/saga-logger.js';
import { SagaQueues } from '../queue/saga-queues.js';
import { SagaStore } from '../store/saga-store.js';
import { WaitStore } from '../store/wait-store.js';
import { DefinitionStore } from '../store/definition-store.js';
import { inFlight, inFlightByVersion, versionsNotLoaded } from '../store/version-counts.js';
import { LeaseStore } from '../store/lease.js';
import { TriggerService, defaultHolderId } from '../trigger/trigger-service.js';
import { RecoverySweeper } from '../engine/recovery-sweeper.js';
import { noSagaMetrics, type SagaMetrics } from '../engine/saga-metrics.js';
import { SagaOperations } from '../engine/saga-operations.js';
import { SagaWorker } from '../engine/saga-worker.js';
import { SweeperService } from '../engine/sweeper-service.js';
import { WaitResumer } from '../engine/wait-resumer.js';
import { loadSagaTracing } from '../tracing/load-saga-tracing.js';
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

/**
 * A deploy that dropped a version while sagas of it are still in flight: they wait for a process that loads it.
 * Logged, never fatal (another process of the fleet may load it); /readyz reports it too.
 */
async function warnOfVersionsNotLoaded(
  store: SagaStore,
  registry: ResolvedSagaRuntimeOptions['registry'],
  logger: SagaLogger,
): Promise<void> {
  for (const count of versionsNotLoaded(await inFlightByVersion(store.collection), registry)) {
    logger.warn(
      {
        saga: count.saga,
        version: count.version,
        inFlight: inFlight(count),
        loaded: registry.versionsOf(count.saga),
      },
      `${inFlight(count)} saga(s) of ${count.saga} v${count.version} are in flight, but this process does not ` +
        `load v${count.version}: they wait for a process that does (keep v${count.version} in the sagas ` +
        'module until `sagastream versions` marks it retirable)',
    );
  }
}

/** How long each closing step after the workers (queues, connections) may take while stopping. */
const CLOSE_STEP_MS = 1_000;

/** The Redis connections of a process, with the health options of SagaRuntime.start. */
function redisConnections(options: ResolvedSagaRuntimeOptions, states: ConnectionStates): RedisConnections {
  const { pingInterval, pingTimeout, handshakeTimeout, commandTimeout } = options.redisHealth;
  return new RedisConnections({
    url: options.redisUrl,
    states,
    health: {
      pingIntervalMs: pingInterval,
      pingTimeoutMs: pingTimeout,
      handshakeTimeoutMs: handshakeTimeout,
    },
    timeouts: { ...DEFAULT_REDIS_TIMEOUTS, commandTimeoutMs: commandTimeout },
  });
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
    /** @internal The state of every MongoDB and Redis connection of this process (readiness reads it). */
    readonly connections: ConnectionStates,
    private readonly sweeper: SweeperService | null,
    private readonly logger: SagaLogger,
    private readonly redis: RedisConnections,
    private readonly mongoWatch: MongoHealthWatch,
    private readonly stopGraceMs: number,
  ) {}

  /**
   * Connects, builds the services, then starts the roles named in `options.roles`.
   * @throws SagastreamError `CONFIG_INVALID`, naming every problem, for options it cannot use (before connecting).
   */
  static async start(input: SagaRuntimeOptions): Promise<SagaRuntime> {
    const options = parseRuntimeOptions(input);
    const logger = options.logger ?? createLogger({ level: 'info', name: 'sagastream', pretty: false });
    const metrics = options.metrics ?? noSagaMetrics;
    const tracing = await loadSagaTracing(options.tracing, logger.child({ component: 'tracing' }));
    const connections = new ConnectionStates({
      logger: logger.child({ component: 'connections' }),
      ...(isConnectionMetrics(metrics) ? { metrics } : {}),
    });
    const client = new MongoClient(options.mongodbUrl, mongoClientOptions());
    const mongoWatch = watchMongoClient(client, connections);
    await client.connect();
    const db = client.db(options.database);
    let services: unknown;
    try {
      const built = await options.setup?.({ db, logger: logger.child({ component: 'sagas' }) });
      services = options.services ?? built;
    } catch (error) {
      mongoWatch.stop();
      await client.close();
      throw error;
    }
    const store = new SagaStore(
      db,
      new RetentionPolicy(options.retention, (saga, version) => options.registry.find(saga, version)),
    );
    const waitStore = new WaitStore(store);
    try {
      await store.ensureIndexes();
      await waitStore.ensureIndexes();
      const definitions = new DefinitionStore(db);
      await definitions.ensureIndexes();
      await definitions.check(options.registry.all(), { enforce: options.checkDefinitions });
      await warnOfVersionsNotLoaded(store, options.registry, logger);
    } catch (error) {
      mongoWatch.stop();
      await client.close();
      throw error;
    }
    const redis = redisConnections(options, connections);
    const queues = new SagaQueues({
      connection: redis.create('producer'),
      prefix: options.queuePrefix,
      // A few commands, each bounded by the command timeout, plus the connection's setup.
      operationTimeoutMs: 2 * options.redisHealth.commandTimeout,
    });
    const operations = new SagaOperations(
      db,
      options.registry,
      store,
      queues,
      logger.child({ component: 'operations' }),
      metrics,
      tracing,
    );
    const waits = {
      store: waitStore,
      resumer: new WaitResumer({
        registry: options.registry,
        store,
        waits: waitStore,
        queues,
        logger: logger.child({ component: 'waits' }),
        metrics,
        tracing,
      }),
    };
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
        tracing,
        waits,
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
          idleBeforeRestoreMs: options.sweeper.idleBeforeRestore,
          waits,
        },
        metrics,
        tracing,
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
          connections: redis,
          concurrency: options.worker.concurrency,
          ...(options.worker.sagas ? { sagas: options.worker.sagas } : {}),
          shutdownGraceMs: options.worker.shutdownGrace,
          stepsPerJob: options.worker.stepsPerJob,
          timers: true,
          waits,
          metrics,
          tracing,
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
    return new SagaRuntime(
      client,
      db,
      store,
      queues,
      operations,
      trigger,
      worker,
      metrics,
      connections,
      sweeper,
      logger,
      redis,
      mongoWatch,
      options.worker.shutdownGrace,
    );
  }

  /**
   * Graceful stop: watchers checkpoint and release, workers finish active steps within their grace, then the
   * connections close. Bounded even while MongoDB or Redis do not answer: about the worker's shutdown grace plus
   * 2 s; whatever is still running then is abandoned (a step in flight is re-run once BullMQ sees it stalled).
   */
  async stop(): Promise<void> {
    const watcher = async (): Promise<void> => {
      await this.trigger?.stop();
      await this.sweeper?.stop();
    };
    const stopped = await Promise.all([
      settleWithin(watcher(), this.stopGraceMs),
      this.worker?.close() ?? Promise.resolve(),
    ]);
    if (stopped[0] === 'timed-out') this.logger.warn('the trigger watcher did not stop in time; leaving it');
    await this.queues.close();
    this.mongoWatch.stop();
    await Promise.all([this.redis.close(), settleWithin(this.client.close(), CLOSE_STEP_MS)]);
    this.logger.info('sagastream stopped');
  }
}
