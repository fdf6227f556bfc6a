// Helpers of `npm run bench`: child processes (embedded MongoDB, sagastream roles, the raw BullMQ worker), a
// fixed-rate driver, percentiles and RSS readings.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** Extra node flags for every child (e.g. --cpu-prof), set from the bench's command line. */
export const childNodeFlags: string[] = [];

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Resident set size of a process in MB (Linux /proc). */
export function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; 10 ms resolution). */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * Offers `total` items at `ratePerSec`: every millisecond tick, the items that have come due since the last tick go
 * to one `operation(first, count)` call (an insertMany, an addBulk), without waiting for earlier calls (at most
 * `maxInFlight` outstanding), so a slow call does not lower the offered rate. One call per due item would make
 * the load generator, which shares the machine, the bottleneck at 1,000 items/s.
 */
export async function atRate(
  total: number,
  ratePerSec: number,
  operation: (first: number, count: number) => Promise<unknown>,
  maxInFlight = 64,
): Promise<void> {
  const interval = 1000 / ratePerSec;
  const begin = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  const failed: { error?: Error } = {};
  for (let next = 0; next < total;) {
    const due = Math.min(total, Math.floor((performance.now() - begin) / interval) + 1);
    if (due > next && inFlight.size < maxInFlight) {
      const call: Promise<unknown> = operation(next, due - next)
        .catch(
          (error: unknown) => (failed.error ??= error instanceof Error ? error : new Error(String(error))),
        )
        .finally(() => inFlight.delete(call));
      inFlight.add(call);
      next = due;
    }
    if (failed.error) throw failed.error;
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    else await sleep(1);
  }
  await Promise.all(inFlight);
}

/** `[first, first + count)` as an array. */
export function range(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}

/** Waits for the first stdout line matching `pattern`; rejects if the child exits first. */
async function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const match = pattern.exec(line);
    if (match) {
      lines.removeAllListeners('line');
      child.stdout!.resume();
      return match;
    }
  }
  throw new Error(`${what} exited before it was ready`);
}

export interface Child {
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

function childOf(process: ChildProcess): Child {
  return {
    process,
    async stop() {
      if (process.exitCode !== null || process.signalCode !== null) return;
      const exited = once(process, 'exit');
      process.kill('SIGTERM');
      const timer = setTimeout(() => process.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `sagastream mongo --port 0` in its own process; resolves with its URI. */
/** The MongoDB a run uses: the embedded server it started, or one given by URL (`pid` undefined). */
export interface BenchMongo {
  readonly uri: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** The Redis a run uses: the redis-server it started, or one given by URL (`pid` undefined). */
export interface BenchRedis {
  readonly url: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export async function startMongo(): Promise<BenchMongo> {
  const child = spawn(process.execPath, [...childNodeFlags, 'bin/sagastream.js', 'mongo', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const match = await waitForLine(child, /mongodb:\/\/\S+/, 'the embedded MongoDB server');
  const running = childOf(child);
  return { uri: match[0], pid: child.pid, stop: () => running.stop() };
}

/** `--mongodb-url`: a user's own MongoDB (a replica set); the run leaves it running and reads none of its CPU. */
export function givenMongo(uri: string): BenchMongo {
  return { uri, pid: undefined, stop: () => Promise.resolve() };
}

/** `--redis-url`: a user's own Redis. */
export function givenRedis(url: string): BenchRedis {
  return { url, pid: undefined, stop: () => Promise.resolve() };
}

export interface RoleEnvironment {
  mongodbUrl: string;
  redisUrl: string;
  database: string;
  queuePrefix: string;
}

/** `sagastream watcher|worker --sagas-module bench/bench-sagas.ts`; resolves once it printed its ready line. */
/** A role process of the CLI; `nodeFlags` go to that process only (the tracing phase's preload). */
export async function startRole(
  role: 'watcher' | 'worker',
  env: RoleEnvironment,
  args: string[] = [],
  nodeFlags: string[] = [],
) {
  const child = spawn(
    process.execPath,
    [
      ...childNodeFlags,
      ...nodeFlags,
      'bin/sagastream.js',
      role,
      '--sagas-module',
      'bench/bench-sagas.ts',
      ...args,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        MONGODB_URL: env.mongodbUrl,
        MONGODB_DB: env.database,
        REDIS_URL: env.redisUrl,
        SAGASTREAM_QUEUE_PREFIX: env.queuePrefix,
      },
    },
  );
  await waitForLine(child, /ready/, `sagastream ${role}`);
  return childOf(child);
}

/** The raw BullMQ chain worker (bench/raw-bullmq-worker.ts) with an IPC channel. */
export function startRawWorker(redisUrl: string, prefix: string, concurrency: number): Promise<Child> {
  return forkBaseline(
    'bench/raw-bullmq-worker.ts',
    [redisUrl, prefix, String(concurrency)],
    'the raw BullMQ worker',
  );
}

export function startRawChangeWatcher(
  mongodbUrl: string,
  database: string,
  collection: string,
): Promise<Child> {
  return forkBaseline(
    'bench/raw-change-watcher.ts',
    [mongodbUrl, database, collection],
    'the raw change watcher',
  );
}

/** Forks a baseline child that says `{type: 'ready'}` over IPC and exits on `{type: 'stop'}`. */
async function forkBaseline(script: string, args: string[], what: string): Promise<Child> {
  const child = fork(script, args, {
    execArgv: ['--import', 'tsx', ...childNodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', () => reject(new Error(`${what} exited before it was ready`)));
    child.on('message', (message: { type?: string }) => {
      if (message.type === 'ready') resolve();
    });
  });
  return {
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

/** CPU used by named processes between `start()` and `read(steps)`, as µs per step, e.g. `worker 812 · redis 95`. */
export function cpuMeter(processes: Record<string, number | undefined>) {
  // A server given by URL runs elsewhere: its CPU is not ours to read.
  const names = Object.keys(processes).filter((name) => processes[name] !== undefined);
  const start = names.map((name) => cpuMs(processes[name]));
  return (steps: number): string =>
    names
      .map((name, i) => `${name} ${round(((cpuMs(processes[name]) - start[i]!) * 1000) / steps)}`)
      .join(' · ');
}
