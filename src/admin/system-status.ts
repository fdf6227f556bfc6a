// What readiness, stats and metrics share: each trigger's watcher, or each partition's of a partitioned trigger
// (state here, lease holder anywhere, lag),
// saga counts by saga and status (one aggregation), queue depths and the dead-letter count.
import { hasTrigger, type SagaRegistry } from '../definition/index.js';
import type { AdminBackend } from './admin-backend.js';
import { DEAD_LETTER_STATES } from '../queue/saga-queues.js';
import { SAGA_STATUSES, type SagaStatus } from '../model/saga-document.js';
import { LeaseStore } from '../store/lease.js';
import { triggerLeaseId } from '../trigger/saga-trigger-target.js';
import { partitionLabel, triggerPartitions } from '../trigger/trigger-partition.js';
import { waitedNamespaces } from '../trigger/trigger-service.js';
import { waitLeaseId } from '../trigger/wait-target.js';
import type { VersionCount } from '../store/version-counts.js';
import {
  versionReports,
  waitingForVersion,
  type VersionReport,
  type WaitingForVersion,
} from './version-reports.js';

export interface WatcherReport {
  saga: string;
  /** `i/N` for partition i of a trigger with `partitions: N` (each has its own lease); absent otherwise. */
  partition?: string;
  /** The watcher of this process; `not-here` when this process does not run the trigger role. */
  state: 'active' | 'standby' | 'stopped' | 'not-here';
  /** The process holding the trigger's lease (any process); null when nobody holds it. */
  leaseHolder: string | null;
  /** Change-stream lag in seconds, when this process is the active watcher. */
  lagSeconds: number | null;
}

/** `<saga>` or, for a partition, `<saga>#<i>/<N>`: how status lines name a watcher. */
export function watcherName(watcher: Pick<WatcherReport, 'saga' | 'partition'>): string {
  return watcher.partition === undefined ? watcher.saga : `${watcher.saga}#${watcher.partition}`;
}

export type StatusCounts = Record<SagaStatus, number>;

export interface QueueDepth {
  queue: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface AdminStats {
  sagas: { saga: string; counts: StatusCounts }[];
  totals: StatusCounts;
  queues: QueueDepth[];
  deadLetters: number;
  /** Sagas completed during the last minute. */
  completionsPerMinute: number;
  watchers: WatcherReport[];
  /** Every known saga version with its sagas in flight (see version-reports.ts). */
  versions: VersionReport[];
  /** In-flight sagas whose version no running worker loads, per saga version. */
  waitingForVersion: WaitingForVersion[];
}

export function emptyCounts(): StatusCounts {
  return Object.fromEntries(SAGA_STATUSES.map((status) => [status, 0])) as StatusCounts;
}

export async function watcherReports(
  backend: AdminBackend,
  registry: SagaRegistry,
): Promise<WatcherReport[]> {
  const trigger = backend.trigger;
  if (trigger) {
    const holders = await trigger.leaseHolders();
    return trigger.status().watchers.map((watcher) => ({
      saga: watcher.saga,
      ...(watcher.partition === undefined ? {} : { partition: watcher.partition }),
      state: watcher.state,
      leaseHolder: holders[watcher.leaseId] ?? null,
      lagSeconds: watcher.state === 'active' ? watcher.lagSeconds : null,
    }));
  }
  const leases = new LeaseStore(backend.db);
  // The lease ids of what the watcher role follows: each saga's trigger (each of its partitions), and each
  // collection a wait step waits on.
  const followed: { saga: string; partition?: string; leaseId: string }[] = [
    ...registry
      .list()
      .filter(hasTrigger)
      .flatMap(({ name, trigger }) =>
        triggerPartitions(trigger.partitions).map((partition) => ({
          saga: name,
          ...(partition ? { partition: partitionLabel(partition) } : {}),
          leaseId: triggerLeaseId(name, partition),
        })),
      ),
    ...waitedNamespaces(registry.list(), backend.db.databaseName).map((ns) => ({
      saga: waitLeaseId(ns),
      leaseId: waitLeaseId(ns),
    })),
  ];
  return Promise.all(
    followed.map(async ({ leaseId, ...watcher }) => ({
      ...watcher,
      state: 'not-here' as const,
      leaseHolder: await leases.holderOf(leaseId),
      lagSeconds: null,
    })),
  );
}

export interface SagaCounts {
  sagas: { saga: string; counts: StatusCounts }[];
  totals: StatusCounts;
  /** Running and compensating sagas per saga version, from the same aggregation. */
  inFlight: VersionCount[];
}

export async function sagaCounts(backend: AdminBackend, registry: SagaRegistry): Promise<SagaCounts> {
  // One pass over the sagas for both views; a saga stored before versions existed is version 1.
  const grouped = await backend.store.collection
    .aggregate<{ _id: { saga: string; status: SagaStatus; version: number }; count: number }>([
      {
        $group: {
          _id: { saga: '$saga', status: '$status', version: { $ifNull: ['$version', 1] } },
          count: { $sum: 1 },
        },
      },
    ])
    .toArray();
  const bySaga = new Map<string, StatusCounts>(registry.names.map((name) => [name, emptyCounts()]));
  const totals = emptyCounts();
  const inFlight = new Map<string, VersionCount>();
  for (const { _id, count } of grouped) {
    if (_id.status === 'running' || _id.status === 'compensating') {
      const key = `${_id.saga}@${_id.version}`;
      const entry = inFlight.get(key) ?? {
        saga: _id.saga,
        version: _id.version,
        running: 0,
        compensating: 0,
      };
      entry[_id.status] += count;
      inFlight.set(key, entry);
    }
    const counts = bySaga.get(_id.saga) ?? emptyCounts();
    bySaga.set(_id.saga, counts);
    if (Object.hasOwn(counts, _id.status)) {
      counts[_id.status] += count;
      totals[_id.status] += count;
    }
  }
  return {
    sagas: [...bySaga].map(([saga, counts]) => ({ saga, counts })),
    totals,
    inFlight: [...inFlight.values()],
  };
}

export async function queueDepths(backend: AdminBackend, registry: SagaRegistry): Promise<QueueDepth[]> {
  const queues = [
    ...registry.all().map((definition) => backend.queues.stepQueue(definition.name, definition.version)),
    backend.queues.timers,
  ];
  return Promise.all(
    queues.map(async (queue) => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
      return {
        queue: queue.name,
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
      };
    }),
  );
}

export function deadLetterCount(backend: AdminBackend): Promise<number> {
  return backend.queues.deadLetters.getJobCountByTypes(...DEAD_LETTER_STATES);
}

/** Completion is a saga's last update, so `updatedAt` is its completion time (and `status_updatedAt` serves it). */
export function completionsInLastMinute(backend: AdminBackend, now = Date.now()): Promise<number> {
  return backend.store.collection.countDocuments({
    status: 'completed',
    updatedAt: { $gte: new Date(now - 60_000) },
  });
}

export async function collectStats(backend: AdminBackend, registry: SagaRegistry): Promise<AdminStats> {
  const [{ inFlight, ...counts }, queues, deadLetters, completionsPerMinute, watchers] = await Promise.all([
    sagaCounts(backend, registry),
    queueDepths(backend, registry),
    deadLetterCount(backend),
    completionsInLastMinute(backend),
    watcherReports(backend, registry),
  ]);
  const versions = await versionReports(backend, registry, inFlight);
  return {
    ...counts,
    queues,
    deadLetters,
    completionsPerMinute,
    watchers,
    versions,
    waitingForVersion: waitingForVersion(versions),
  };
}
