// The operator commands (status, saga, dlq, cancel) against a real admin server, run in-process.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliCommand, CliContext } from '../../../src/cli/cli-command.js';
import { cancelCommand } from '../../../src/cli/commands/cancel-command.js';
import { dlqCommand } from '../../../src/cli/commands/dlq-command.js';
import { runCommand } from '../../../src/cli/commands/run-command.js';
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
  it('run starts a saga, waits for its end, and exits 0 only when it completed', async () => {
    const input = (mode: string, id: string) => JSON.stringify({ _id: id, status: 'new', mode });
    const completed = await run(runCommand, [
      'orders',
      '--input',
      input('ok', 'run-1'),
      '--key',
      'run-1',
      '--wait',
    ]);
    expect(completed.code).toBe(0);
    expect(completed.stdout).toMatch(
      /^saga (sg\S+) \(orders, key run-1\) is running\nsaga \1 ended completed\n$/,
    );
    const failed = await run(runCommand, ['orders', '--input', input('fail', 'run-2'), '--wait']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/ended compensated: /);
    // The same key again: the first saga, not a second one.
    const again = await run(runCommand, [
      'orders',
      '--input',
      input('fail', 'run-1'),
      '--key',
      'run-1',
      '--json',
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ key: 'run-1', status: 'completed' });

    await expect(run(runCommand, ['orders', '--input', input('sideways', 'run-3')])).rejects.toThrow(
      /^INPUT_VALIDATION_FAILED: The input does not match the input schema of saga "orders": mode: /,
    );
    await expect(run(runCommand, ['orders', '--input', '{not json'])).rejects.toThrow(UsageError);
    await expect(run(runCommand, ['orders'])).rejects.toThrow(/--input is required/);
  });

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

  it('saga <id> prints the input, the steps and their timeline', async () => {
    const saga = await fixture.startOrder('ok');
    await fixture.waitForStatus(saga._id, 'completed');
    const { code, stdout } = await run(sagaCommand, [saga._id]);
    expect(code).toBe(0);
    expect(stdout).toContain(`saga ${saga._id}  orders v1  COMPLETED`);
    expect(stdout).toContain(`\ninput {"_id":"${saga.key}","status":"new","mode":"ok"}\n`);
    expect(stdout).toMatch(/^reserve\s+attempt 1\s+completed\s+\d/m);
    expect(stdout).toMatch(/^charge\s+attempt 1\s+completed\s+\d.*\|.*█.*\|$/m);
    expect(stdout).not.toContain('~');
    await expect(run(sagaCommand, [])).rejects.toBeInstanceOf(UsageError);
    await expect(run(sagaCommand, ['nope'])).rejects.toThrow(/BAD_REQUEST/);
  });

  it('saga <id> marks approximate attempt times and a cancelled attempt', async () => {
    fixture.behaviour.compensationBroken = false;
    const failing = await fixture.startOrder('error');
    await fixture.waitForStatus(failing._id, 'compensated');
    const { stdout } = await run(sagaCommand, [failing._id]);
    expect(stdout).toMatch(/^charge\s+attempt 1\s+failed\s+\d/m);
    // Only the first and the latest attempt's start are stored: the middle one's time includes the backoff.
    expect(stdout).toMatch(/^charge\s+attempt 2\s+failed\s+~\d/m);
    expect(stdout).toMatch(/^charge\s+attempt 3\s+failed\s+\d/m);
    expect(stdout).toContain('~ approximate:');

    const held = await fixture.startOrder('hold');
    await fixture.waitForStep(held._id, 'charge', 'running');
    await run(cancelCommand, [held._id]);
    await fixture.waitForStatus(held._id, 'compensated');
    await expect
      .poll(async () => (await run(sagaCommand, [held._id])).stdout, {
        message: 'the cancelled attempt to end',
      })
      .not.toMatch(/^charge\s+running/m);
    const cancelled = (await run(sagaCommand, [held._id])).stdout;
    expect(cancelled).toMatch(/^charge\s+cancelled\s+1/m);
    expect(cancelled).toMatch(/^charge\s+attempt 1\s+cancelled\s+\d.*⊘/m);
  });

  it('dlq list pages through more than 100 dead letters and says how to get the rest', async () => {
    // Orders without a valid `mode` are rejected on arrival: one dead letter each.
    const keys = Array.from({ length: 105 }, (_, index) => `cli-bad-${index}`);
    await fixture.db
      .collection<{ _id: string; status: string }>('orders')
      .insertMany(keys.map((key) => ({ _id: key, status: 'new' })));
    const rejected = async () =>
      fixture.db
        .collection('sagas')
        .find({ key: { $in: keys }, status: 'rejected' })
        .toArray();
    await expect
      .poll(async () => (await rejected()).length, { message: 'the rejected sagas' })
      .toBe(keys.length);
    const expected = (await rejected()).map((saga) => `${String(saga._id)}.dl.g0`);
    await expect
      .poll(
        async () => {
          const text = (await run(dlqCommand, ['list', '--all', '--json'])).stdout;
          return expected.filter((id) => !text.includes(id));
        },
        { message: 'every dead letter listed' },
      )
      .toEqual([]);

    const idsIn = (text: string) => [...text.matchAll(/^(sg\S+)\s/gm)].map((match) => match[1]!);
    const seen: string[] = [];
    let args = ['list'];
    for (let pages = 0; ; pages++) {
      const { stdout } = await run(dlqCommand, args);
      const ids = idsIn(stdout);
      seen.push(...ids);
      const more =
        /^more dead letters: sagastream (dlq list --after (\S+)) \(or --all for every one\)$/m.exec(stdout);
      if (pages === 0) {
        expect(ids).toHaveLength(100);
        expect(more?.[2]).toBe(ids[99]);
      }
      if (!more) break;
      args = more[1]!.split(' ').slice(1);
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of expected) expect(seen).toContain(id);

    const all = JSON.parse((await run(dlqCommand, ['list', '--all', '--json'])).stdout) as {
      items: { id: string }[];
      next: string | null;
    };
    expect(all.items.map((item) => item.id)).toEqual(seen);
    expect(all.next).toBeNull();
    const small = JSON.parse((await run(dlqCommand, ['list', '--limit', '3', '--json'])).stdout) as {
      items: { id: string }[];
      next: string | null;
    };
    expect(small.items.map((item) => item.id)).toEqual(seen.slice(0, 3));
    expect(small.next).toBe(seen[2]);
    const limited = await run(dlqCommand, ['list', '--limit', '3', '--after', seen[2]!]);
    expect(idsIn(limited.stdout)).toEqual(seen.slice(3, 6));
    expect(limited.stdout).toContain(`sagastream dlq list --limit 3 --after ${seen[5]!} (or --all`);

    await expect(run(dlqCommand, ['list', '--limit', '5000'])).rejects.toThrow(/at most 1000/);
    await expect(run(dlqCommand, ['list', '--all', '--after', seen[0]!])).rejects.toBeInstanceOf(UsageError);
    await expect(run(dlqCommand, ['retry', seen[0]!, '--limit', '3'])).rejects.toBeInstanceOf(UsageError);
    for (const id of expected) await run(dlqCommand, ['discard', id]);
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

describe('operator CLI and a stuck saga', () => {
  let stuckFixture: AdminFixture;

  beforeAll(async () => {
    stuckFixture = await startAdminFixture({
      token: TEST_TOKEN,
      worker: false,
      sweeper: { interval: 300, leaseTtl: 2_000, stuckAfter: 2 },
    });
  });
  afterAll(async () => {
    await stuckFixture?.close();
  });

  it('dlq retry releases a stuck saga', async () => {
    const env = { ADMIN_URL: stuckFixture.url, ADMIN_TOKEN: TEST_TOKEN };
    const breaker = stuckFixture.startBreakingWorker();
    const saga = await stuckFixture.startOrder('ok');
    const stuckId = `${saga._id}.stuck.g0`;
    await expect
      .poll(async () => (await run(dlqCommand, ['list'], env)).stdout, {
        message: 'the stuck dead letter listed',
      })
      .toMatch(new RegExp(`^${stuckId.replace(/\./g, '\\.')}\\s+orders\\s+stuck`, 'm'));
    await breaker.close();
    const retried = await run(dlqCommand, ['retry', stuckId], env);
    expect(retried.stdout).toBe(`stuck saga ${saga._id} released, its job queued again: now running\n`);
    await stuckFixture.startWorker();
    await stuckFixture.waitForStatus(saga._id, 'completed');
  });
});
