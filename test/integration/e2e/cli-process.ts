// Starts the real `bin/sagastream.js` as a child process and drives it only from the outside: its stdout
// lines, its exit code, signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mongoUrl, redisUrl, uniqueName } from '../helpers.js';

const bin = fileURLToPath(new URL('../../../bin/sagastream.js', import.meta.url));

/** The example sagas module, for role commands (which refuse to start without one). */
export const EXAMPLE_SAGAS = fileURLToPath(new URL('../../../sagas/index.ts', import.meta.url));

/** The environment of role processes running the example saga on a database and queue prefix of their own. */
export function roleEnvironment(name: string): Record<string, string> & { MONGODB_DB: string } {
  return {
    MONGODB_URL: mongoUrl(),
    REDIS_URL: redisUrl(),
    MONGODB_DB: uniqueName(name),
    SAGASTREAM_QUEUE_PREFIX: uniqueName(name),
    ADMIN_PORT: '0',
    SAGAS: EXAMPLE_SAGAS,
  };
}

/** A valid order for the example order-fulfillment saga; `extra` adds `simulate` and the like. */
export function exampleOrder(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status: 'pending',
    customer: { id: 'c-1', email: 'ada@example.com' },
    items: [{ sku: 'tea-earl-grey', quantity: 1 }],
    total_amount: 12.5,
    ...extra,
  };
}

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every stdout line so far. */
  readonly lines: string[];
  stderr(): string;
  /** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (or the given signal) and the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

const started: ChildProcess[] = [];

/** Kills whatever a test left running (afterEach). */
export function killLeftovers(): void {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export function startCli(args: readonly string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  const lines: string[] = [];
  let partial = '';
  let errors = '';
  const watchers: (() => void)[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const notify of watchers) notify();
  });
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    pid: child.pid ?? 0,
    lines,
    stderr: () => errors,
    exited,
    waitForLine(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const line = lines.find((candidate) => pattern.test(candidate));
          if (line !== undefined) resolve(line);
          return line !== undefined;
        };
        if (check()) return;
        const timer = setTimeout(
          () => reject(new Error(`no stdout line matching ${String(pattern)}; stderr:\n${errors}`)),
          timeoutMs,
        );
        watchers.push(() => {
          if (check()) clearTimeout(timer);
        });
        void exited.then((code) => {
          clearTimeout(timer);
          if (!check())
            reject(new Error(`sagastream ${args.join(' ')} exited with ${String(code)}:\n${errors}`));
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a command to completion. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(args, env);
  const code = await cli.exited;
  return { code, stdout: cli.lines.join('\n'), stderr: cli.stderr() };
}
