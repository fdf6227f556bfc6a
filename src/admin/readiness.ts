// GET /readyz: MongoDB and Redis answer, every connection of this process is up, and no watcher of this
// process has stopped. Every part is bounded in time, so /readyz answers even while a link is half-open.
import type { ConnectionProblem } from '../connections/connection-states.js';
import { within } from '../errors/index.js';
import type { SagaRegistry } from '../definition/index.js';
import type { AdminBackend } from './admin-backend.js';
import { redactUrlsInText } from '../logging/logger.js';
import { watcherName, watcherReports, type WatcherReport } from './system-status.js';
import { versionReports, waitingForVersion, type WaitingForVersion } from './version-reports.js';

const PING_TIMEOUT_MS = 2_000;

export interface ReadinessReport {
  ready: boolean;
  mongodb: { ok: boolean; error?: string };
  redis: { ok: boolean; error?: string };
  /** This process's connections that are not up (lost, or not connected yet). */
  connections: ConnectionProblem[];
  watchers: WatcherReport[];
  /**
   * Saga versions that need attention, never a reason for not ready (another process of the fleet may load them):
   * `waiting` in-flight sagas whose version no running worker loads; `notLoaded` versions of this process's sagas
   * with sagas in flight that this process does not load (a deploy dropped them too early).
   */
  versions: {
    waiting: WaitingForVersion[];
    notLoaded: { saga: string; version: number; inFlight: number }[];
  };
  /** One line per failing part; empty when ready. */
  failing: string[];
}

async function probe(what: string, run: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await within(run(), PING_TIMEOUT_MS, what);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: redactUrlsInText(error instanceof Error ? error.message : String(error)) };
  }
}

export async function checkReadiness(
  backend: AdminBackend,
  registry: SagaRegistry,
): Promise<ReadinessReport> {
  const [mongodb, redis] = await Promise.all([
    // timeoutMS makes the driver give up on the command itself, not only this wait for it.
    probe('MongoDB', () => backend.db.command({ ping: 1 }, { timeoutMS: PING_TIMEOUT_MS })),
    // A read of the dead-letter queue is a real round trip; BullMQ's client interface has no PING.
    probe('Redis', () => backend.queues.deadLetters.getJobCountByTypes('waiting')),
  ]);
  let watchers: WatcherReport[] = [];
  const failing: string[] = [];
  if (!mongodb.ok) failing.push(`mongodb: ${mongodb.error ?? 'unreachable'}`);
  if (!redis.ok) failing.push(`redis: ${redis.error ?? 'unreachable'}`);
  const connections = backend.connections?.problems() ?? [];
  for (const { target, role, reason } of connections) failing.push(`${target} ${role}: ${reason}`);
  if (mongodb.ok) {
    try {
      watchers = await within(watcherReports(backend, registry), PING_TIMEOUT_MS, 'the watchers report');
      for (const watcher of watchers) {
        if (watcher.state === 'stopped') failing.push(`watcher ${watcherName(watcher)}: stopped`);
      }
    } catch (error) {
      failing.push(`watchers: ${redactUrlsInText(error instanceof Error ? error.message : String(error))}`);
    }
  }
  const versions: ReadinessReport['versions'] = { waiting: [], notLoaded: [] };
  if (mongodb.ok && redis.ok) {
    try {
      const reports = await within(versionReports(backend, registry), PING_TIMEOUT_MS, 'the versions report');
      versions.waiting = waitingForVersion(reports);
      versions.notLoaded = reports
        .filter((report) => registry.has(report.saga) && !report.loadedHere && report.inFlight > 0)
        .map(({ saga, version, inFlight }) => ({ saga, version, inFlight }));
    } catch {
      // Informational only: a slow read leaves the lists empty rather than making the process not ready.
    }
  }
  return { ready: failing.length === 0, mongodb, redis, connections, watchers, versions, failing };
}
