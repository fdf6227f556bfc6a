// Where a test environment's MongoDB and Redis come from: MONGODB_URL / REDIS_URL when set (left running at
// stop), else an embedded server and a redis-server child of its own, both gone after stop() — also when the
// environment fails to start.
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/index.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { createTestEnvironment, type TestEnvironment } from '../../../src/testing/index.js';
import { connectRedis, mongoUrl, redisUrl } from '../helpers.js';

interface Greeter {
  greet(name: string): Promise<string>;
}

const greeting = defineSaga({
  name: 'greeting',
  trigger: { collection: 'visitors', filter: { greeted: false } },
  input: z.object({ name: z.string() }),
  services: {} as Greeter,
  timeout: '1m',
})
  .step({
    name: 'greet',
    timeout: '30s',
    run: async (ctx) => ({ text: await ctx.services.greet(ctx.input.name) }),
  })
  .build();

const greeter: Greeter = { greet: (name) => Promise.resolve(`hello ${name}`) };

/** The redis-server processes this test process started and has not reaped. */
function redisServerChildren(): number[] {
  const lines = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return lines
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, command]) => command === 'redis-server')
    .map(([pid]) => Number(pid));
}

/** Whether anything accepts a TCP connection at the URL's host and port. */
function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url.replace(/^mongodb:/, 'http:').replace(/^redis:/, 'http:'));
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let env: TestEnvironment | undefined;

afterEach(async () => {
  await env?.stop();
  env = undefined;
  vi.unstubAllEnvs();
});

describe('createTestEnvironment servers', { timeout: 60_000 }, () => {
  it('uses MONGODB_URL and REDIS_URL when they are set, and leaves those servers running at stop', async () => {
    vi.stubEnv('MONGODB_URL', mongoUrl());
    vi.stubEnv('REDIS_URL', redisUrl());
    const childrenBefore = redisServerChildren();
    env = await createTestEnvironment({ sagas: [greeting], services: greeter });
    expect(env.mongodbUrl).toBe(mongoUrl());
    expect(env.redisUrl).toBe(redisUrl());
    expect(redisServerChildren()).toEqual(childrenBefore);
    const end = await env.client.start('greeting', { name: 'Ada' }).then((saga) => saga.result());
    expect(end).toMatchObject({ status: 'completed', outputs: { greet: { text: 'hello Ada' } } });

    await env.stop();
    const redis = await connectRedis();
    try {
      expect(await redis.ping()).toBe('PONG');
    } finally {
      await redis.quit();
    }
  });

  it('gives every environment its own database and queue prefix', async () => {
    const options = { sagas: [greeting], services: greeter, mongodbUrl: mongoUrl(), redisUrl: redisUrl() };
    const [first, second] = await Promise.all([
      createTestEnvironment(options),
      createTestEnvironment(options),
    ]);
    try {
      expect(first.database).not.toBe(second.database);
      expect(first.queuePrefix).not.toBe(second.queuePrefix);
      await first.db.collection('visitors').insertOne({ greeted: false, name: 'Grace' });
      await expect.poll(() => first.db.collection('sagas').countDocuments({ status: 'completed' })).toBe(1);
      expect(await second.db.collection('sagas').countDocuments()).toBe(0);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('starts an embedded MongoDB and a redis-server child without them, and stop() ends both', async () => {
    vi.stubEnv('MONGODB_URL', '');
    vi.stubEnv('REDIS_URL', '');
    const childrenBefore = redisServerChildren();
    env = await createTestEnvironment({ sagas: [greeting], services: greeter });
    expect(env.mongodbUrl).not.toBe(mongoUrl());
    expect(env.redisUrl).not.toBe(redisUrl());
    expect(redisServerChildren()).toHaveLength(childrenBefore.length + 1);

    await env.db.collection('visitors').insertOne({ greeted: false, name: 'Grace' });
    await expect
      .poll(() =>
        env!.db
          .collection<SagaDocument>('sagas')
          .findOne({ saga: 'greeting' })
          .then((saga) => saga?.status),
      )
      .toBe('completed');

    const { mongodbUrl, redisUrl: ownRedisUrl } = env;
    await env.stop();
    expect(redisServerChildren()).toEqual(childrenBefore);
    expect(await listening(ownRedisUrl)).toBe(false);
    expect(await listening(mongodbUrl)).toBe(false);
  });

  it('stops the servers it started when it fails to start', async () => {
    vi.stubEnv('MONGODB_URL', '');
    vi.stubEnv('REDIS_URL', '');
    const childrenBefore = redisServerChildren();
    await expect(
      createTestEnvironment({
        sagas: [greeting],
        setup: () => {
          throw new Error('the greeter is not reachable');
        },
      }),
    ).rejects.toThrow('the greeter is not reachable');
    expect(redisServerChildren()).toEqual(childrenBefore);
  });
});
