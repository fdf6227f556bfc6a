// Reads a role process from outside: RSS and open file descriptors from /proc, and its Prometheus metrics from
// the `--metrics-port` listener (completed step attempts, event-loop delay p99).
import { readdir, readFile, readlink } from 'node:fs/promises';
import { samples } from '../prometheus-samples.js';

/** Resident set size in MB (VmRSS of /proc/<pid>/status); undefined when the process is gone. */
export async function residentMegabytes(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kilobytes = status === undefined ? undefined : /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kilobytes === undefined ? undefined : Math.round(Number(kilobytes) / 102.4) / 10;
}

/** Entries of /proc/<pid>/fd; undefined when the process is gone. */
export async function openFileDescriptors(pid: number): Promise<number | undefined> {
  const entries = await readdir(`/proc/${pid}/fd`).catch(() => undefined);
  return entries?.length;
}

/** Socket inode → remote port (0 for a listening socket) from the process's /proc/<pid>/net/tcp and tcp6. */
async function tcpPeersByInode(pid: number): Promise<Map<string, number>> {
  const peers = new Map<string, number>();
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const remote = fields[2];
      const inode = fields[9];
      if (remote === undefined || inode === undefined) continue;
      peers.set(inode, Number.parseInt(remote.split(':')[1] ?? '0', 16));
    }
  }
  return peers;
}

/**
 * Open descriptors of `pid` by kind: `tcp:<name or remote port>` for a connected TCP socket (`portNames` names
 * the ports of the run's servers and proxies), `tcp:listening`, `socket` for other sockets, `pipe`,
 * `anon_inode` and `file`. A descriptor left behind per reconnect shows up as one kind that keeps growing.
 */
export async function descriptorKinds(
  pid: number,
  portNames: ReadonlyMap<number, string> = new Map(),
): Promise<Record<string, number> | undefined> {
  const entries = await readdir(`/proc/${pid}/fd`).catch(() => undefined);
  if (entries === undefined) return undefined;
  const peers = await tcpPeersByInode(pid);
  const kinds: Record<string, number> = {};
  for (const entry of entries) {
    const target = await readlink(`/proc/${pid}/fd/${entry}`).catch(() => undefined);
    if (target === undefined) continue;
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const port = inode === undefined ? undefined : peers.get(inode);
    const kind =
      inode === undefined
        ? target.startsWith('pipe:')
          ? 'pipe'
          : target.startsWith('anon_inode:')
            ? 'anon_inode'
            : 'file'
        : port === undefined
          ? 'socket'
          : port === 0
            ? 'tcp:listening'
            : `tcp:${portNames.get(port) ?? port}`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

/** The text of GET /metrics on 127.0.0.1:<port>; undefined when it does not answer within `timeoutMs`. */
export async function scrapeMetrics(port: number, timeoutMs = 2_000): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

/** Forward and compensation attempts this process completed (the step duration histogram's counts). */
export function completedStepAttempts(metricsText: string): number {
  return samples(metricsText)
    .filter(
      (sample) =>
        sample.name === 'sagastream_step_duration_seconds_count' &&
        (sample.labels.outcome === 'completed' || sample.labels.outcome === 'compensated'),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

/**
 * prom-client's event-loop delay p99 in milliseconds. Its histogram is reset at every scrape, so the value
 * covers the time since the previous scrape.
 */
export function eventLoopP99Ms(metricsText: string): number | undefined {
  const p99 = samples(metricsText).find((sample) => sample.name === 'nodejs_eventloop_lag_p99_seconds');
  return p99 === undefined ? undefined : Math.round(p99.value * 10_000) / 10;
}

/** The live JS heap after the last GC, in MB (prom-client's `nodejs_heap_size_used_bytes`). */
export function heapUsedMb(metricsText: string): number | undefined {
  const used = samples(metricsText).find((sample) => sample.name === 'nodejs_heap_size_used_bytes');
  return used === undefined ? undefined : Math.round(used.value / 104_857.6) / 10;
}

/** Whether any trigger of this process holds its lease; null when the process has no trigger watcher. */
export function watcherActive(metricsText: string): boolean | null {
  const active = samples(metricsText).filter((sample) => sample.name === 'sagastream_watcher_active');
  return active.length === 0 ? null : active.some((sample) => sample.value === 1);
}

export interface ProcessSample {
  /** The process sampled: a restarted role has a new one, and its figures start over. */
  pid: number | null;
  /** Median RSS over the sampling period (one reading a second): a GC sawtooth does not decide it. */
  rssMb: number | null;
  /** Highest RSS reading of the period. */
  rssMaxMb: number | null;
  fds: number | null;
  /** The descriptors by kind (see descriptorKinds). */
  fdKinds: Record<string, number> | null;
  /** Whether the process led its trigger (sagastream_watcher_active); null for a process that watches nothing. */
  watcherActive: boolean | null;
  /** Event-loop delay p99 over the sampling period; null for a process without a metrics listener. */
  eventLoopP99Ms: number | null;
  /** Live JS heap at the end of the period; null without a metrics listener. */
  heapUsedMb: number | null;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Samples `pid` over `periodMs`: RSS once a second (median and highest), open descriptors at the end, and from
 * its metrics listener the event-loop delay p99 of the period (one scrape resets prom-client's histogram, the
 * next one reads it) and the live heap.
 */
export async function sampleProcess(
  pid: number | undefined,
  metricsPort: number | undefined,
  periodMs: number,
  portNames?: ReadonlyMap<number, string>,
): Promise<ProcessSample> {
  if (metricsPort !== undefined) await scrapeMetrics(metricsPort);
  const readings: number[] = [];
  const periodEnd = Date.now() + periodMs;
  while (pid !== undefined) {
    const rss = await residentMegabytes(pid);
    if (rss !== undefined) readings.push(rss);
    const wait = Math.min(1_000, periodEnd - Date.now());
    if (wait <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, periodMs));
  const text = metricsPort === undefined ? undefined : await scrapeMetrics(metricsPort);
  return {
    pid: pid ?? null,
    rssMb: median(readings),
    rssMaxMb: readings.length === 0 ? null : Math.max(...readings),
    fds: pid === undefined ? null : ((await openFileDescriptors(pid)) ?? null),
    fdKinds: pid === undefined ? null : ((await descriptorKinds(pid, portNames)) ?? null),
    watcherActive: text === undefined ? null : watcherActive(text),
    eventLoopP99Ms: text === undefined ? null : (eventLoopP99Ms(text) ?? null),
    heapUsedMb: text === undefined ? null : (heapUsedMb(text) ?? null),
  };
}
