// Sagas in flight (running or compensating) per saga name and version, in one aggregation over the status index.
// Shared by the start-up check for versions no longer loaded, /readyz, /api/stats, /metrics and `versions`.
import type { Collection } from 'mongodb';
import type { SagaRegistry } from '../definition/index.js';
import type { SagaDocument } from '../model/saga-document.js';

export interface VersionCount {
  saga: string;
  version: number;
  running: number;
  compensating: number;
}

export async function inFlightByVersion(collection: Collection<SagaDocument>): Promise<VersionCount[]> {
  const grouped = await collection
    .aggregate<{ _id: { saga: string; version: number; status: string }; count: number }>([
      { $match: { status: { $in: ['running', 'compensating'] } } },
      {
        // A saga stored before versions existed has none: it is version 1.
        $group: {
          _id: { saga: '$saga', version: { $ifNull: ['$version', 1] }, status: '$status' },
          count: { $sum: 1 },
        },
      },
    ])
    .toArray();
  const byKey = new Map<string, VersionCount>();
  for (const { _id, count } of grouped) {
    const key = `${_id.saga}@${_id.version}`;
    const entry = byKey.get(key) ?? { saga: _id.saga, version: _id.version, running: 0, compensating: 0 };
    if (_id.status === 'running') entry.running += count;
    else entry.compensating += count;
    byKey.set(key, entry);
  }
  return [...byKey.values()].sort((a, b) =>
    a.saga === b.saga ? a.version - b.version : a.saga < b.saga ? -1 : 1,
  );
}

export function inFlight(count: VersionCount): number {
  return count.running + count.compensating;
}

/**
 * Versions of this process's sagas that have sagas in flight but are not loaded here: this process cannot run,
 * compensate or redrive them (its workers never take their jobs), so they wait for a process that loads them.
 */
export function versionsNotLoaded(counts: readonly VersionCount[], registry: SagaRegistry): VersionCount[] {
  return counts.filter(
    (count) =>
      registry.has(count.saga) &&
      inFlight(count) > 0 &&
      !registry.versionsOf(count.saga).includes(count.version),
  );
}
