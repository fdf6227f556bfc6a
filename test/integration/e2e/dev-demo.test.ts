// `sagastream dev --demo` as `npm start` runs it: its own embedded MongoDB and redis-server, every role, the
// admin API, and demo orders whose sagas reach every end state; plus the CLI's failure modes and `demo`.
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { mongoUrl, uniqueName } from '../helpers.js';
import { killLeftovers, runCli, startCli } from './cli-process.js';

afterEach(() => killLeftovers());

/** The last progress line's counts, e.g. { completed: 12, rejected: 2, … }. */
function countsIn(line: string | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [, name, count] of (line ?? '').matchAll(/(\w+) (\d+)(?= \||$)/g)) {
    if (name !== undefined) counts[name] = Number(count);
  }
  return counts;
}

describe('sagastream dev --demo', () => {
  it(
    'starts the stack, prints one ready line, shows progress through every end state, and exits 0',
    { timeout: 120_000 },
    async () => {
      const dev = startCli(['dev', '--demo', '--admin-port', '0', '--orders-per-second', '10'], {
        MONGODB_URL: undefined,
        REDIS_URL: undefined,
        LOG_LEVEL: undefined,
      });
      const ready = await dev.waitForLine(/^sagastream dev stack ready: /);
      expect(ready).toMatch(
        /MongoDB mongodb:\/\/\S+ \(embedded\), Redis redis:\/\/\S+ \(redis-server\), admin http:\/\/\S+$/,
      );
      const admin = /admin (http:\/\/\S+)$/.exec(ready)?.[1] ?? '';
      expect((await fetch(`${admin}/healthz`)).status).toBe(200);

      // Not a TTY here, so progress comes as plain lines; wait until every end state has shown up.
      await expect
        .poll(() => countsIn(dev.lines.filter((line) => line.startsWith('orders ')).at(-1)), {
          timeout: 100_000,
          interval: 250,
          message: 'every end state in the progress line',
        })
        .toSatisfy((counts: Record<string, number>) =>
          ['completed', 'compensated', 'failed', 'rejected'].every((status) => (counts[status] ?? 0) > 0),
        );
      const client = new MongoClient(/MongoDB (mongodb:\/\/\S+)/.exec(ready)?.[1] ?? '');
      const retried = await client
        .db('sagastream')
        .collection('sagas')
        .countDocuments({ status: 'completed', 'steps.attempts': { $gt: 1 } });
      await client.close();
      expect(retried).toBeGreaterThan(0);
      expect(await dev.stop('SIGINT')).toBe(0);
    },
  );
});

describe('sagastream failure modes', { timeout: 60_000 }, () => {
  it('explains an unreachable Redis in one line and exits 1', async () => {
    const result = await runCli(['worker'], { MONGODB_URL: mongoUrl(), REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^Cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\)\. Check REDIS_URL/,
      ),
    ]);
  });

  it('explains an unreachable MongoDB in one line and exits 1', async () => {
    const result = await runCli(['watcher'], {
      MONGODB_URL: 'mongodb://127.0.0.1:1/?replicaSet=rs0',
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^Cannot reach MongoDB at mongodb:\/\/127\.0\.0\.1:1\/\?replicaSet=rs0 \(.*\)\. Check MONGODB_URL/,
      ),
    ]);
  });

  it('exits 2 for bad options and unknown sagas, 1 for a sagas module without sagas', async () => {
    expect((await runCli(['worker', '--concurrency', '0'])).code).toBe(2);
    expect((await runCli(['dev', '--admin-port', 'x'])).code).toBe(2);
    const missing = await runCli(['watcher', '--sagas-module', './no-such-module.ts'], {
      MONGODB_URL: mongoUrl(),
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no-such-module.ts does not exist');
    const empty = await runCli(['watcher', '--sagas-module', 'test/integration/e2e/cli-process.ts'], {
      MONGODB_URL: mongoUrl(),
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('exports no sagas');
  });

  it.each(['start', 'worker', 'watcher', 'admin', 'dev', 'demo'])(
    '"%s --help" prints its usage',
    async (command) => {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: sagastream ${command}`);
    },
  );
});

describe('sagastream demo', () => {
  it('inserts --count demo orders into MONGODB_URL and exits 0', { timeout: 60_000 }, async () => {
    const database = uniqueName('e2e-demo');
    const result = await runCli(['demo', '--orders-per-second', '50', '--count', '25'], {
      MONGODB_URL: mongoUrl(),
      MONGODB_DB: database,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`inserting 50 orders/s into ${database}.orders (25 in all)`);
    const client = new MongoClient(mongoUrl());
    expect(await client.db(database).collection('orders').countDocuments({ status: 'pending' })).toBe(25);
    await client.close();
  });
});
