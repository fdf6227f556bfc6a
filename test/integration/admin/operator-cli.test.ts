// The operator commands (status, saga, dlq, cancel) against a real admin server, run in-process.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliCommand, CliContext } from '../../../src/cli/cli-command.js';
import { cancelCommand } from '../../../src/cli/commands/cancel-command.js';
import { dlqCommand } from '../../../src/cli/commands/dlq-command.js';
import { sagaCommand } from '../../../src/cli/commands/saga-command.js';
import { statusCommand } from '../../../src/cli/commands/status-command.js';
import { UsageError } from '../../../src/cli/usage-error.js';
import { TEST_TOKEN, startAdminFixture, type AdminFixture } from './admin-fixture.js';

let fixture: AdminFixture;

beforeAll(async () => {
  fixture = await startAdminFixture({ token: TEST_TOKEN });
});
afterAll(async () => {
  await fixture?.close();
});

async function run(
  command: CliCommand,
  args: string[],
  env: Record<string, string> = { ADMIN_URL: fixture.url, ADMIN_TOKEN: TEST_TOKEN },
): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        append(chunk.toString('utf8'));
        callback();
      },
    });
  const context: CliContext = {
    stdout: sink((text) => (stdout += text)),
    stderr: sink(() => undefined),
    env,
  };
  const code = await command.run(args, context);
  return { code, stdout };
}

describe('operator CLI', () => {
  it('status prints counts per saga and status, queues and watchers', async () => {
    const saga = await fixture.startOrder('ok');
    await fixture.waitForStatus(saga._id, 'completed');
    const { code, stdout } = await run(statusCommand, []);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^SAGA\s+RUNNING\s+COMPENSATING\s+COMPLETED/m);
    expect(stdout).toMatch(/^orders\s+\d+\s+\d+\s+[1-9]/m);
    expect(stdout).toMatch(/^saga-orders\s+\d+/m);
    expect(stdout).toMatch(/^orders\s+active\s+\S+/m);
    expect(stdout).toContain('dead letters:');
    const json = await run(statusCommand, ['--json']);
    expect(JSON.parse(json.stdout)).toHaveProperty('totals');
  });

  it('saga <id> prints the steps and their timeline', async () => {
    const saga = await fixture.startOrder('ok');
    await fixture.waitForStatus(saga._id, 'completed');
    const { code, stdout } = await run(sagaCommand, [saga._id]);
    expect(code).toBe(0);
    expect(stdout).toContain(`saga ${saga._id}  orders v1  COMPLETED`);
    expect(stdout).toMatch(/^reserve\s+attempt 1\s+completed\s+\d/m);
    expect(stdout).toMatch(/^charge\s+attempt 1\s+completed\s+\d.*\|.*█.*\|$/m);
    await expect(run(sagaCommand, [])).rejects.toBeInstanceOf(UsageError);
    await expect(run(sagaCommand, ['nope'])).rejects.toThrow(/BAD_REQUEST/);
  });

  it('dlq list, retry and discard', async () => {
    fixture.behaviour.compensationBroken = true;
    const first = await fixture.startOrder('fail');
    const second = await fixture.startOrder('fail');
    await fixture.waitForStatus(first._id, 'failed');
    await fixture.waitForStatus(second._id, 'failed');
    let listing = '';
    await expect
      .poll(async () => (listing = (await run(dlqCommand, ['list'])).stdout), {
        message: 'both dead letters listed',
      })
      .toSatisfy((text: string) => text.includes(first._id) && text.includes(second._id));
    expect(listing).toMatch(/^ID\s+SAGA\s+KIND/m);
    expect(listing).toContain('compensation-failed');

    fixture.behaviour.compensationBroken = false;
    const retried = await run(dlqCommand, ['retry', `${first._id}.dl.g0`]);
    expect(retried.stdout).toContain(`saga ${first._id} redriven`);
    await fixture.waitForStatus(first._id, 'compensated');
    const discarded = await run(dlqCommand, ['discard', `${second._id}.dl.g0`]);
    expect(discarded.stdout).toContain('discarded');
    expect((await run(dlqCommand, ['list'])).stdout).not.toContain(second._id);
    await expect(run(dlqCommand, ['explode'])).rejects.toBeInstanceOf(UsageError);
  });

  it('cancel needs the right token and cancels a running saga', async () => {
    const saga = await fixture.startOrder('hold');
    await expect(run(cancelCommand, [saga._id], { ADMIN_URL: fixture.url })).rejects.toThrow(/UNAUTHORIZED/);
    await expect(
      run(cancelCommand, [saga._id, '--url', fixture.url, '--token', 'wrong-token-0123456789']),
    ).rejects.toThrow(/UNAUTHORIZED/);
    const { code, stdout } = await run(cancelCommand, [saga._id]);
    expect(code).toBe(0);
    expect(stdout).toContain('compensating');
    await fixture.waitForStatus(saga._id, 'compensated');
  });

  it('explains an unreachable admin API', async () => {
    await expect(run(statusCommand, ['--url', 'http://127.0.0.1:1'])).rejects.toThrow(
      /cannot reach the admin API at http:\/\/127\.0\.0\.1:1/,
    );
  });
});
