// A role command's ready line promises a graceful stop: a supervisor (or a test) may send SIGTERM the moment it
// reads it. Run in process on the harness's servers, so the order of "listening" and "ready" is checked exactly
// rather than by racing a real signal.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { mongoCommand } from '../../../src/cli/commands/mongo-command.js';
import { workerCommand } from '../../../src/cli/commands/worker-command.js';
import { EXAMPLE_SAGAS, roleEnvironment } from './cli-process.js';

/** SIGTERM listeners the command added (vitest's own are left alone); removed after each test. */
let ownListeners: (() => NodeJS.SignalsListener[]) | undefined;

afterEach(() => {
  for (const listener of ownListeners?.() ?? []) process.off('SIGTERM', listener);
  ownListeners = undefined;
});

/** A command's output streams, each line noted with whether a SIGTERM listener of the command existed then. */
function readyLineProbe() {
  const existing = new Set(process.listeners('SIGTERM'));
  const added = () => process.listeners('SIGTERM').filter((listener) => !existing.has(listener));
  ownListeners = added;
  const lines: { text: string; listening: boolean }[] = [];
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push({ text: chunk.toString(), listening: added().length > 0 });
      done();
    },
  });
  const stderr = new Writable({ write: (_chunk, _encoding, done) => done() });
  /** What the process would do on a real SIGTERM: call its listeners (only the command's, not vitest's). */
  const sigterm = () => {
    for (const listener of added()) listener('SIGTERM');
  };
  return { lines, stdout, stderr, sigterm };
}

describe('sagastream worker ready line', () => {
  it('is written once a SIGTERM listener is installed, and that signal then stops the worker with exit 0', async () => {
    const { lines, stdout, stderr, sigterm } = readyLineProbe();
    const env = { ...roleEnvironment('role-ready'), SAGAS: EXAMPLE_SAGAS, LOG_LEVEL: 'fatal' };

    const running = workerCommand.run([], { stdout, stderr, env });
    await expect.poll(() => lines.length, { timeout: 30_000 }).toBe(1);
    sigterm();
    expect(await running).toBe(0);
    expect(lines[0]?.text).toMatch(/^sagastream worker ready: /);
    expect(lines[0]?.listening).toBe(true);
  });

  it('holds for sagastream mongo too', async () => {
    const { lines, stdout, stderr, sigterm } = readyLineProbe();

    const running = mongoCommand.run(['--port', '0'], { stdout, stderr, env: { LOG_LEVEL: 'fatal' } });
    await expect.poll(() => lines.length, { timeout: 30_000 }).toBe(1);
    sigterm();
    expect(await running).toBe(0);
    expect(lines[0]?.text).toMatch(/^embedded MongoDB ready at /);
    expect(lines[0]?.listening).toBe(true);
  });
});
