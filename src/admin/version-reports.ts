// Each saga version the deployment knows (recorded in `saga_definitions`, loaded here, or with sagas in flight):
// its sagas in flight, the workers listening to its queue, and whether it can be retired. Stats, readiness,
// metrics and `sagastream versions` share it.
import type { SagaRegistry } from '../definition/index.js';
import { DefinitionStore } from '../store/definition-store.js';
import { inFlight, inFlightByVersion, type VersionCount } from '../store/version-counts.js';
import type { AdminBackend } from './admin-backend.js';

export interface VersionReport {
  saga: string;
  version: number;
  running: number;
  compensating: number;
  /** Running plus compensating. */
  inFlight: number;
  /** Whether the process serving this report loads the version. */
  loadedHere: boolean;
  /** BullMQ workers (any process) listening to this version's step queue now. */
  workers: number;
  /** Sagas in flight that no running worker can move (no worker loads this version): 0 while one does. */
  waitingForVersion: number;
  /** A higher version of the saga is known and none of this one is in flight: it can leave the sagas module. */
  retirable: boolean;
}

/** `waiting for version N` lines with their counts (stats and /readyz). */
export interface WaitingForVersion {
  saga: string;
  version: number;
  count: number;
  message: string;
}

function keyOf(saga: string, version: number): string {
  return `${saga}@${version}`;
}

/** `inFlightCounts`: the counts when the caller has them already (sagaCounts), else they are read here. */
export async function versionReports(
  backend: AdminBackend,
  registry: SagaRegistry,
  inFlightCounts?: readonly VersionCount[],
): Promise<VersionReport[]> {
  const [counts, recorded] = await Promise.all([
    inFlightCounts ?? inFlightByVersion(backend.store.collection),
    new DefinitionStore(backend.db).list(),
  ]);
  const known = new Map<string, VersionCount>();
  const add = (saga: string, version: number) => {
    if (!known.has(keyOf(saga, version))) {
      known.set(keyOf(saga, version), { saga, version, running: 0, compensating: 0 });
    }
  };
  for (const { saga, version } of recorded) add(saga, version);
  for (const definition of registry.all()) add(definition.name, definition.version);
  for (const count of counts) known.set(keyOf(count.saga, count.version), count);
  const highest = new Map<string, number>();
  for (const { saga, version } of known.values())
    highest.set(saga, Math.max(highest.get(saga) ?? 0, version));
  const entries = [...known.values()].sort((a, b) =>
    a.saga === b.saga ? a.version - b.version : a.saga < b.saga ? -1 : 1,
  );
  return Promise.all(
    entries.map(async (count) => {
      const total = inFlight(count);
      // Only asked for versions with work: CLIENT LIST per queue is not free.
      const workers =
        total > 0 ? await backend.queues.stepQueue(count.saga, count.version).getWorkersCount() : 0;
      return {
        saga: count.saga,
        version: count.version,
        running: count.running,
        compensating: count.compensating,
        inFlight: total,
        loadedHere: registry.find(count.saga, count.version) !== undefined,
        workers,
        waitingForVersion: total > 0 && workers === 0 ? total : 0,
        retirable: total === 0 && count.version < (highest.get(count.saga) ?? 0),
      };
    }),
  );
}

export function waitingForVersion(reports: readonly VersionReport[]): WaitingForVersion[] {
  return reports
    .filter((report) => report.waitingForVersion > 0)
    .map(({ saga, version, waitingForVersion: count }) => ({
      saga,
      version,
      count,
      message: `${count} saga(s) of ${saga} waiting for version ${version}: no running worker loads it`,
    }));
}
