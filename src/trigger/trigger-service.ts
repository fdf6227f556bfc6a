// Runs one TriggerWatcher per saga trigger (one per partition of a partitioned one) and per waited collection:
// the watcher role of a sagastream process.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from 'mongodb';
import { waitNamespace } from '../model/wait-keys.js';
import type { SagaLogger } from '../logging/saga-logger.js';
import { hasTrigger, type SagaDefinition, type SagaRegistry } from '../definition/index.js';
import type { SagaMetrics } from '../engine/saga-metrics.js';
import { SagaStarter } from '../engine/saga-starter.js';
import type { SagaTracing } from '../tracing/saga-tracing.js';
import { SagastreamError } from '../errors/sagastream-error.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import { SagaStore } from '../store/saga-store.js';
import { CheckpointStore } from './checkpoint-store.js';
import { LeaseStore } from '../store/lease.js';
import type { TriggerWatcherOptionsInput } from './trigger-watcher-options.js';
import { TriggerWatcher, type TriggerWatcherStatus } from './trigger-watcher.js';
import type { ChangeTarget } from './change-target.js';
import { PartitionShare } from './partition-share.js';
import { sagaTriggerTargets } from './saga-trigger-target.js';
import { waitTarget } from './wait-target.js';
import type { WaitStore } from '../store/wait-store.js';
import type { WaitSteps } from '../engine/wait-resumer.js';

export interface TriggerServiceOptions {
  /** The configured database (sagas, leases, checkpoints; triggers unless they name another database). */
  db: Db;
  queues: SagaQueues;
  /** The sagas to watch: a registry or a list of definitions with unique names. */
  sagas: SagaRegistry | Iterable<SagaDefinition>;
  logger: SagaLogger;
  /** Watcher settings shared by every trigger; `holderId` defaults to `<host>:<pid>:<random>`. */
  watcher?: Partial<TriggerWatcherOptionsInput>;
  /** Per-saga overrides, e.g. `{ 'order-fulfilment': { backfill: true } }`. */
  perSaga?: Readonly<Record<string, Partial<TriggerWatcherOptionsInput>>>;
  /** Where sagas started and rejected, and each watcher's state and lag, are counted. */
  metrics?: SagaMetrics;
  /** Each new saga's trace: its root and `trigger` spans (src/tracing). */
  tracing?: SagaTracing;
  /**
   * The process's saga store (and with it its one write batcher); a store of its own on `db` when absent, for a
   * service used on its own.
   */
  store?: SagaStore;
  /** Where waits are found and ended: one wait watcher runs per collection that a saga's wait steps wait on. */
  waits?: WaitSteps;
}

export interface TriggerServiceStatus {
  holderId: string;
  watchers: TriggerWatcherStatus[];
}

/** A lease holder id unique to this process. */
export function defaultHolderId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export class TriggerService {
  readonly holderId: string;
  readonly store: SagaStore;
  readonly leases: LeaseStore;
  readonly checkpoints: CheckpointStore;
  private readonly watchers: TriggerWatcher[];
  private readonly waitStore: WaitStore | null;
  private started = false;

  /** @throws SagastreamError `INVALID_DEFINITION` for duplicate saga names or a filter a change stream cannot run. */
  constructor(private readonly options: TriggerServiceOptions) {
    this.holderId = options.watcher?.holderId ?? defaultHolderId();
    this.store = options.store ?? new SagaStore(options.db);
    this.leases = new LeaseStore(options.db);
    this.checkpoints = new CheckpointStore(options.db);
    const logger = options.logger.child({ component: 'trigger' });
    const starter = new SagaStarter(this.store, options.queues, logger, options.metrics, options.tracing);
    const seen = new Set<string>();
    const all = 'list' in options.sagas ? options.sagas.list() : [...options.sagas];
    // Sagas without a trigger are started from code only: nothing to watch.
    const definitions = all.filter(hasTrigger);
    const watcherOf = (
      target: ChangeTarget,
      perSaga?: Partial<TriggerWatcherOptionsInput>,
      share?: PartitionShare,
    ) =>
      new TriggerWatcher(
        {
          target,
          leases: this.leases,
          checkpoints: this.checkpoints,
          logger,
          ...(options.metrics ? { metrics: options.metrics } : {}),
          queueHealth: (timeoutMs) => options.queues.ping(timeoutMs),
          ...(share ? { share } : {}),
        },
        { ...options.watcher, ...perSaga, holderId: this.holderId },
      );
    const triggerWatchers = definitions.flatMap((definition) => {
      if (seen.has(definition.name)) {
        throw new SagastreamError(
          'INVALID_DEFINITION',
          `Two sagas are named "${definition.name}"; give each saga a unique name (it keys its lease and checkpoint).`,
        );
      }
      seen.add(definition.name);
      // One watcher per partition, each behind its own lease; the partitions' watchers balance the leases.
      const share = definition.trigger.partitions > 1 ? new PartitionShare() : undefined;
      return sagaTriggerTargets(definition, options.db, starter, this.checkpoints).map((target) =>
        watcherOf(target, options.perSaga?.[definition.name], share),
      );
    });
    const waited = waitedNamespaces(all, options.db.databaseName);
    if (waited.length > 0 && !options.waits) {
      throw new SagastreamError(
        'INVALID_STATE',
        `sagas wait on ${waited.join(', ')}: give the trigger service the wait store and resumer (waits)`,
      );
    }
    const waits = options.waits;
    const waitWatchers = waits
      ? waited.map((ns) => watcherOf(waitTarget(ns, options.db, waits.store, waits.resumer)))
      : [];
    this.watchers = [...triggerWatchers, ...waitWatchers];
    this.waitStore = waits?.store ?? null;
  }

  /** Ensures the indexes the exactly-once guarantee needs, then starts every watcher (standby until leased). */
  async start(): Promise<void> {
    if (this.started) return;
    // The indexes exist before the first saga is created (replays are harmless by the `_id` derived from the key).
    await this.store.ensureIndexes();
    await this.waitStore?.ensureIndexes();
    this.started = true;
    for (const watcher of this.watchers) watcher.start();
  }

  /** Stops watching, saves checkpoints and releases leases, within about `timeoutMs`. */
  async stop(timeoutMs = 5_000): Promise<void> {
    await Promise.all(this.watchers.map((watcher) => watcher.stop(timeoutMs)));
  }

  status(): TriggerServiceStatus {
    return { holderId: this.holderId, watchers: this.watchers.map((watcher) => watcher.status()) };
  }

  /**
   * The watchers whose trigger nobody follows yet: active here but its change stream has not answered, or standing
   * by while no other process holds the lease. Empty once a document inserted now is sure to start its saga.
   */
  async notYetWatching(): Promise<TriggerWatcherStatus[]> {
    const { watchers } = this.status();
    const waiting = watchers.filter((watcher) => watcher.state === 'active' && watcher.lagSeconds === null);
    const standby = watchers.filter((watcher) => watcher.state === 'standby');
    if (standby.length === 0) return waiting;
    const holders = await this.leaseHolders();
    const unheld = standby.filter((watcher) =>
      [null, this.holderId].includes(holders[watcher.leaseId] ?? null),
    );
    return [...waiting, ...unheld];
  }

  /** Current lease holder per lease id (any process; one per partition of a partitioned trigger). */
  async leaseHolders(): Promise<Record<string, string | null>> {
    const entries = await Promise.all(
      this.watchers.map(async (watcher) => [watcher.triggerId, await watcher.leaseHolder()] as const),
    );
    return Object.fromEntries(entries);
  }
}

/** The namespaces (`<db>.<collection>`) that the wait steps of `definitions` wait on, each once. */
export function waitedNamespaces(definitions: readonly SagaDefinition[], database: string): string[] {
  const namespaces = new Set<string>();
  for (const definition of definitions) {
    for (const step of definition.steps) {
      if (step.kind === 'wait')
        namespaces.add(waitNamespace(step.wait.database ?? database, step.wait.collection));
    }
  }
  return [...namespaces].sort();
}
