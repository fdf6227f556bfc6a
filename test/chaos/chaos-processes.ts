// The real processes of a chaos run: the embedded MongoDB server, redis-server, watchers and workers. Every
// child is tracked so that an error, Ctrl-C or the end of the run kills all of them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/sagastream.js', import.meta.url));
const live = new Set<ChildProcess>();

/** SIGKILLs every child still running (synchronous, so it also works from an `exit` handler). */
export function killAllChildren(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  live.clear();
}

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** The stdout line that says the process is ready. */
  readonly ready: RegExp;
}

/** One role that can be killed and started again; each start logs to `<logDir>/<name>.<n>.log`. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private starts = 0;
  private log: WriteStream | undefined;
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: ProcessSpec,
    private readonly logDir: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    this.starts += 1;
    this.log = createWriteStream(join(this.logDir, `${this.spec.name}.${this.starts}.log`));
    const child = spawn(this.spec.command, [...this.spec.args], {
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    const log = this.log;
    child.stderr?.pipe(log, { end: false });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        live.delete(child);
        log.end(`\n[chaos] exited code=${String(code)} signal=${String(signal)}\n`);
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => fail(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
      const onData = (chunk: Buffer): void => {
        log.write(chunk);
        output += chunk.toString();
        if (this.spec.ready.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      const onExit = (code: number | null): void => fail(new Error(`exited with ${String(code)} first`));
      function fail(error: Error): void {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        reject(new Error(`${child.spawnfile} (${error.message}); see ${log.path.toString()}`));
      }
      child.stdout?.on('data', onData);
      // After `resolve`, a later exit makes `reject` a no-op.
      child.once('exit', onExit);
    });
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals, graceMs = 40_000): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function sagastreamProcess(
  name: string,
  args: readonly string[],
  env: Record<string, string>,
): ProcessSpec {
  return { name, command: process.execPath, args: [bin, ...args], env, ready: /\S+\n/ };
}

export function redisProcess(port: number, dir: string): ProcessSpec {
  return {
    name: 'redis',
    command: 'redis-server',
    // Append-only on disk, so a stop and restart keeps the queues (FLUSHALL is the data-loss fault).
    args: [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--daemonize', 'no'],
      ...['--maxmemory-policy', 'noeviction', '--dir', dir, '--appendonly', 'yes'],
    ],
    env: {},
    ready: /Ready to accept connections/,
  };
}
