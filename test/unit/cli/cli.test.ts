// Runs the real `bin/sagastream.js` as a child process, as a user would.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REDIS_SERVER_NOT_FOUND_MESSAGE } from '../../../src/embedded/redis-launcher.js';

const bin = fileURLToPath(new URL('../../../bin/sagastream.js', import.meta.url));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, LOG_LEVEL: 'info', ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

// Each test starts Node with tsx; under a parallel test run that can take several seconds.
describe('sagastream CLI', { timeout: 30_000 }, () => {
  it('lists the commands with --help and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: sagastream <command>');
    expect(result.stdout).toMatch(/^\s+dev\s+/m);
    expect(result.stdout).toMatch(/^\s+mongo\s+/m);
    expect(result.stderr).toBe('');
  });

  it('prints usage on stderr and exits 2 for an unknown command', async () => {
    const result = await runCli(['nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "nope"');
    expect(result.stderr).toContain('Usage: sagastream <command>');
    expect(result.stdout).toBe('');
  });

  it('exits 2 without a command', async () => {
    const result = await runCli([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('missing command');
  });

  it.each(['mongo', 'dev'])('shows help for "%s --help"', async (command) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: sagastream ${command}`);
  });

  it('exits 2 with the command usage for a bad option', async () => {
    const unknown = await runCli(['mongo', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
    expect(unknown.stderr).toContain('Usage: sagastream mongo');

    // The operator commands allow positionals; their message is the same, with its quotes closed.
    const operator = await runCli(['status', '--bogus']);
    expect(operator.code).toBe(2);
    expect(operator.stderr).toMatch(
      /^sagastream status: Unknown option '--bogus'\n\nUsage: sagastream status/,
    );

    const badPort = await runCli(['mongo', '--port', 'eighty']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port must be a port number');
  });

  it('takes --metrics-port on the worker and watcher, and exits 2 for bad metrics options', async () => {
    const help = await runCli(['worker', '--help']);
    expect(help.stdout).toContain('--metrics-port P');
    const badPort = await runCli(['worker', '--metrics-port', 'eighty']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--metrics-port must be a port number');
    const hostAlone = await runCli(['watcher', '--metrics-host', '0.0.0.0']);
    expect(hostAlone.code).toBe(2);
    expect(hostAlone.stderr).toContain('--metrics-host needs --metrics-port');
  });

  it('exits 1 naming a bad environment variable', async () => {
    const result = await runCli(['dev'], { LOG_LEVEL: 'loud' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('LOG_LEVEL is invalid');
  });

  it('explains a missing redis-server in one line without a stack trace', async () => {
    const result = await runCli(['dev'], {
      SAGAS: fileURLToPath(new URL('../../../sagas/index.ts', import.meta.url)),
      PATH: fileURLToPath(new URL('.', import.meta.url)), // a directory without redis-server
      MONGODB_URL: 'mongodb://127.0.0.1:1/?replicaSet=rs0', // skip the embedded server: only Redis matters here
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(REDIS_SERVER_NOT_FOUND_MESSAGE);
    expect(result.stdout).toBe('');
  });
});
