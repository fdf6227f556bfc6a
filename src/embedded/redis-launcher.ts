// Spawns Debian's `redis-server` for development and tests, on a free loopback port, and stops it again.
// BullMQ needs a real Redis (Lua scripts, blocking commands), so unlike MongoDB it is not emulated.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';

export const REDIS_SERVER_NOT_FOUND_MESSAGE =
  'redis-server was not found on PATH. Install it with: apt-get install -y redis-server (Debian/Ubuntu) or set REDIS_URL to a running Redis 7.';

export class RedisServerNotFoundError extends Error {
  readonly code = 'REDIS_SERVER_NOT_FOUND';

  constructor() {
    super(REDIS_SERVER_NOT_FOUND_MESSAGE);
    this.name = 'RedisServerNotFoundError';
  }
}

export interface RedisServerOptions {
  /** 0 or absent picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Keep data here with AOF on; absent means nothing is written to disk. */
  readonly dir?: string;
  readonly logger?: Logger;
  readonly startTimeoutMs?: number;
  /** The executable to run, looked up on PATH unless it contains a slash. */
  readonly command?: string;
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

/** Sends an inline PING and resolves true on `+PONG`; any failure means "not ready yet". */
function pingOnce(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
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

async function waitUntilReady(
  attempt: LaunchAttempt,
  host: string,
  port: number,
  deadline: number,
): Promise<boolean> {
  while (Date.now() < deadline) {
    if (attempt.exited || attempt.failure) return false;
    if (await pingOnce(host, port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/**
 * Starts `redis-server` on loopback and resolves once it answers PING.
 * @throws RedisServerNotFoundError when the executable is not installed.
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
    // Its own process group: a terminal's Ctrl-C reaches only us, and we stop redis-server after the roles
    // that use it have shut down (otherwise workers lose Redis mid-shutdown).
    const child = spawn(executable, redisArguments(host, port, options.dir), {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const attempt = new LaunchAttempt(child);
    const ready = await waitUntilReady(attempt, host, port, Date.now() + startTimeoutMs);
    if (ready) {
      logger?.debug({ port, pid: child.pid }, 'redis-server ready');
      return runningServer(attempt, host, port, logger);
    }
    if (attempt.failure) throw new Error(`could not run ${executable}: ${attempt.failure.message}`);
    child.kill('SIGKILL');
    await attempt.waitForExit(STOP_TIMEOUT_MS);
    if (attemptNumber < attempts && attempt.addressInUse()) continue;
    const why = attempt.exited
      ? `exited with code ${String(attempt.exitCode)}`
      : `no PING reply in ${startTimeoutMs} ms`;
    throw new Error(
      `redis-server on ${host}:${port} failed to start (${why}):\n${attempt.output.join('\n')}`,
    );
  }
}

function runningServer(attempt: LaunchAttempt, host: string, port: number, logger?: Logger): RedisServer {
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
  };
}
