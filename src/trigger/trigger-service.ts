// Runs one TriggerWatcher per saga definition: the watcher role of a sagastream process.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from 'mongodb';
import type { SagaLogger } from '../logging/saga-logger.js';
import { hasTrigger, type SagaDefinition, type SagaRegistry } from '../definition/index.js';
import type { SagaMetrics } from '../engine/saga-metrics.js';
import { SagaStarter } from '../engine/saga-starter.js';
import { SagastreamError } from '../errors/sagastream-error.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import { SagaStore } from '../store/saga-store.js';
import { CheckpointStore } from './checkpoint-store.js';
import { LeaseStore } from '../store/lease.js';
import type { TriggerWatcherOptionsInput } from './trigger-watcher-options.js';
import { TriggerWatcher, type TriggerWatcherStatus } from './trigger-watcher.js';

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
  /**
   * The process's saga store (and with it its one write batcher); a store of its own on `db` when absent, for a
   * service used on its own.
   */
  store?: SagaStore;
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
  private started = false;

  /** @throws SagastreamError `INVALID_DEFINITION` for duplicate saga names or a filter a change stream cannot run. */
  constructor(private readonly options: TriggerServiceOptions) {
    this.holderId = options.watcher?.holderId ?? defaultHolderId();
    this.store = options.store ?? new SagaStore(options.db);
    this.leases = new LeaseStore(options.db);
    this.checkpoints = new CheckpointStore(options.db);
    const logger = options.logger.child({ component: 'trigger' });
    const starter = new SagaStarter(this.store, options.queues, logger, options.metrics);
    const seen = new Set<string>();
    // Sagas without a trigger are started from code only: nothing to watch.
    const definitions = ('list' in options.sagas ? options.sagas.list() : [...options.sagas]).filter(
      hasTrigger,
    );
    this.watchers = definitions.map((definition) => {
      if (seen.has(definition.name)) {
        throw new SagastreamError(
          'INVALID_DEFINITION',
          `Two sagas are named "${definition.name}"; give each saga a unique name (it keys its lease and checkpoint).`,
        );
      }
      seen.add(definition.name);
      return new TriggerWatcher(
        {
          definition,
          db: options.db,
          starter,
          leases: this.leases,
          checkpoints: this.checkpoints,
          logger,
          ...(options.metrics ? { metrics: options.metrics } : {}),
          queueHealth: (timeoutMs) => options.queues.ping(timeoutMs),
        },
        { ...options.watcher, ...options.perSaga?.[definition.name], holderId: this.holderId },
      );
    });
  }

  /** Ensures the indexes the exactly-once guarantee needs, then starts every watcher (standby until leased). */
  async start(): Promise<void> {
    if (this.started) return;
    // The unique {saga, key} index must exist before the first saga is created: it is what makes replays harmless.
    await this.store.ensureIndexes();
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
    const unheld = standby.filter((watcher) => [null, this.holderId].includes(holders[watcher.saga] ?? null));
    return [...waiting, ...unheld];
  }

  /** Current lease holder per saga (any process), for readiness checks. */
  async leaseHolders(): Promise<Record<string, string | null>> {
    const entries = await Promise.all(
      this.watchers.map(async (watcher) => [watcher.status().saga, await watcher.leaseHolder()] as const),
    );
    return Object.fromEntries(entries);
  }
}
