// Spawns Debian's `redis-server` for development and tests, on a free loopback port, and stops it again.
// BullMQ needs a real Redis (Lua scripts, blocking commands), so unlike MongoDB it is not emulated.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { probeRedis } from './redis-probe.js';

/** The calls the launcher logs with: pino's shape, so a pino logger fits. */
export interface RedisLauncherLogger {
  debug(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export const REDIS_SERVER_NOT_FOUND_MESSAGE =
  'redis-server was not found on PATH. Install it with: apt-get install -y redis-server (Debian/Ubuntu) or set REDIS_URL to a running Redis 7.';

export class RedisServerNotFoundError extends Error {
  readonly code = 'REDIS_SERVER_NOT_FOUND';

  constructor() {
    super(REDIS_SERVER_NOT_FOUND_MESSAGE);
    this.name = 'RedisServerNotFoundError';
  }
}

/** The port is taken: by another Redis (a stale `dev` child, the system's) or by any other program. */
export class RedisPortInUseError extends Error {
  readonly code = 'REDIS_PORT_IN_USE';

  constructor(
    readonly host: string,
    readonly port: number,
    holder: string,
  ) {
    super(`redis-server cannot listen on ${host}:${port}: the port is already in use (${holder})`);
    this.name = 'RedisPortInUseError';
  }
}

export interface RedisServerOptions {
  /** 0 or absent picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Keep data here with AOF on; absent means nothing is written to disk. */
  readonly dir?: string;
  readonly logger?: RedisLauncherLogger;
  readonly startTimeoutMs?: number;
  /** The executable to run, looked up on PATH unless it contains a slash. */
  readonly command?: string;
  /** More `--name value` arguments, after the launcher's own (a Redis Cluster node's settings). */
  readonly extraArguments?: readonly string[];
}

export interface RedisServer {
  /** `redis://HOST:PORT` */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The redis-server process id (for resource readings). */
  readonly pid: number | undefined;
  /** Shuts Redis down gracefully (SIGTERM flushes the AOF), killing it if it does not exit in time. */
  stop(): Promise<void>;
  /**
   * Signals redis-server without waiting, for a parent that is about to exit: SIGTERM, or SIGKILL when it was
   * already asked to stop. It runs in its own process group, so nothing else would end it.
   */
  kill(): void;
}

const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_LINES = 20;

/** Asks the OS for a currently free TCP port on `host`. Another process may still take it before we do. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`no free port found on ${host}`))));
    });
  });
}

async function resolveExecutable(command: string): Promise<string | undefined> {
  const candidates = command.includes('/')
    ? [command]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next PATH entry
    }
  }
  return undefined;
}

/** Whether nothing listens on host:port now (a bind that fails with anything but EADDRINUSE says free). */
function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code !== 'EADDRINUSE'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function redisArguments(host: string, port: number, dir: string | undefined): string[] {
  const args = ['--port', String(port), '--bind', host, '--save', '', '--maxmemory-policy', 'noeviction'];
  args.push('--daemonize', 'no');
  // Persistence only when asked for: tests want nothing on disk, `dev --dbpath` wants data to survive.
  args.push(...(dir === undefined ? ['--appendonly', 'no'] : ['--dir', dir, '--appendonly', 'yes']));
  return args;
}

class LaunchAttempt {
  readonly output: string[] = [];
  exitCode: number | null | undefined;
  /** Set when the process could not be spawned or signalled. */
  failure: Error | undefined;

  constructor(readonly child: ChildProcess) {
    const record = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        this.output.push(line);
        if (this.output.length > OUTPUT_TAIL_LINES) this.output.shift();
      }
    };
    child.stdout?.on('data', record);
    child.stderr?.on('data', record);
    child.once('exit', (code) => (this.exitCode = code));
    // A permanent listener: an 'error' event without one would crash the parent process.
    child.on('error', (error) => (this.failure ??= error));
  }

  get exited(): boolean {
    return this.exitCode !== undefined;
  }

  addressInUse(): boolean {
    return this.output.some((line) => /address already in use/i.test(line));
  }

  waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

type Readiness =
  | { readonly outcome: 'ready' | 'not-ready' }
  /** Another process answered on the port: the child will not get it. */
  | { readonly outcome: 'taken'; readonly holder: string };

/**
 * Waits until the child answers `INFO server` with its own pid. A reply from any other process means the port
 * was not ours after all (taken between the free-port check and the bind).
 */
async function waitUntilReady(
  attempt: LaunchAttempt,
  host: string,
  port: number,
  deadline: number,
): Promise<Readiness> {
  while (Date.now() < deadline) {
    if (attempt.exited || attempt.failure) return { outcome: 'not-ready' };
    const probe = await probeRedis(host, port);
    if (probe.kind === 'redis') {
      return probe.pid === attempt.child.pid
        ? { outcome: 'ready' }
        : { outcome: 'taken', holder: `another Redis answers there, pid ${probe.pid}` };
    }
    if (probe.kind === 'foreign') return { outcome: 'taken', holder: 'another program answers there' };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { outcome: 'not-ready' };
}

/** Ends the child and whatever it started (its own process group), and waits for the child to exit. */
async function discard(attempt: LaunchAttempt): Promise<void> {
  const pid = attempt.child.pid;
  if (pid === undefined || attempt.exited) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    attempt.child.kill('SIGKILL');
  }
  await attempt.waitForExit(STOP_TIMEOUT_MS);
}

/**
 * Starts `redis-server` on loopback and resolves once it answers, as itself, on its port.
 * @throws RedisServerNotFoundError when the executable is not installed.
 * @throws RedisPortInUseError when the requested port is held by another process.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const host = options.host ?? '127.0.0.1';
  const executable = await resolveExecutable(options.command ?? 'redis-server');
  if (executable === undefined) throw new RedisServerNotFoundError();
  if (options.dir !== undefined) await mkdir(options.dir, { recursive: true });
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const logger = options.logger;

  // A port found free can be taken before redis binds it; with a chosen-for-us port, just pick another.
  const attempts = options.port ? 1 : 3;
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    const port = options.port || (await findFreePort(host));
    const retry = attemptNumber < attempts;
    // A Redis already on the port would answer our readiness probe while our child fails to bind.
    if (!(await portIsFree(host, port))) {
      if (retry) continue;
      throw new RedisPortInUseError(host, port, 'another process listens there');
    }
    // Its own process group: a terminal's Ctrl-C reaches only us, and we stop redis-server after the roles
    // that use it have shut down (otherwise workers lose Redis mid-shutdown).
    const args = [...redisArguments(host, port, options.dir), ...(options.extraArguments ?? [])];
    const child = spawn(executable, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const attempt = new LaunchAttempt(child);
    const readiness = await waitUntilReady(attempt, host, port, Date.now() + startTimeoutMs);
    if (readiness.outcome === 'ready') {
      logger?.debug({ port, pid: child.pid }, 'redis-server ready');
      return runningServer(attempt, host, port, logger);
    }
    if (attempt.failure) throw new Error(`could not run ${executable}: ${attempt.failure.message}`);
    await discard(attempt);
    const holder =
      readiness.outcome === 'taken'
        ? readiness.holder
        : attempt.addressInUse()
          ? 'another process listens there'
          : undefined;
    if (holder !== undefined && retry) continue;
    if (holder !== undefined) throw new RedisPortInUseError(host, port, holder);
    const why = attempt.exited
      ? `exited with code ${String(attempt.exitCode)}`
      : `no reply in ${startTimeoutMs} ms`;
    throw new Error(
      `redis-server on ${host}:${port} failed to start (${why}):\n${attempt.output.join('\n')}`,
    );
  }
}

function runningServer(
  attempt: LaunchAttempt,
  host: string,
  port: number,
  logger?: RedisLauncherLogger,
): RedisServer {
  attempt.child.once('exit', (code, signal) => logger?.debug({ port, code, signal }, 'redis-server exited'));
  let stopping: Promise<void> | undefined;
  return {
    url: `redis://${host}:${port}`,
    port,
    host,
    pid: attempt.child.pid,
    stop() {
      stopping ??= (async () => {
        if (attempt.exited) return;
        attempt.child.kill('SIGTERM');
        if (await attempt.waitForExit(STOP_TIMEOUT_MS)) return;
        logger?.warn({ port }, 'redis-server ignored SIGTERM; killing it');
        attempt.child.kill('SIGKILL');
        await attempt.waitForExit(STOP_TIMEOUT_MS);
      })();
      return stopping;
    },
    kill() {
      if (attempt.exited) return;
      attempt.child.kill(stopping === undefined ? 'SIGTERM' : 'SIGKILL');
    },
  };
}
