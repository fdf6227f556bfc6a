// `sagastream dev` as a process: ports another program holds are refused in one line, a second Ctrl-C
// during a slow shutdown exits 130 without leaving its redis-server (its own process group) behind, and
// `--redis-cluster` runs the stack on a local Redis Cluster that stops with it.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../../src/connections/redis-url.js';
import { startRedisServer, type RedisServer } from '../../../src/embedded/redis-launcher.js';
import { EXAMPLE_SAGAS, killLeftovers, runCli, startCli } from './cli-process.js';

const ownServers = { stack: [] as RedisServer[], listeners: [] as Server[], pids: [] as number[] };

afterEach(async () => {
  killLeftovers();
  // A dev stack's redis-server that a failing test left behind.
  for (const pid of ownServers.pids.splice(0)) {
    if (await processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await Promise.all(ownServers.stack.splice(0).map((server) => server.stop()));
  await Promise.all(
    ownServers.listeners.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

/** The dev stack's own servers, not the test harness's. */
const devEnv = { MONGODB_URL: undefined, REDIS_URL: undefined, ADMIN_TOKEN: undefined, SAGAS: EXAMPLE_SAGAS };

/** Alive and not a zombie: an orphan that init has not reaped yet is already dead. */
async function processAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) Z /.test(stat);
}

async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

describe('sagastream dev ports', { timeout: 60_000 }, () => {
  it('refuses a --redis-port that another Redis holds, in one line, and leaves that Redis running', async () => {
    const other = await startRedisServer();
    ownServers.stack.push(other);
    const result = await runCli(['dev', '--redis-port', String(other.port), '--admin-port', '0'], devEnv);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      `redis-server cannot listen on 127.0.0.1:${other.port}: the port is already in use (another process ` +
        'listens there). Pick another port with --redis-port (0 picks a free one), or stop what holds it.',
    ]);
    expect(await redisAnswers(other.url)).toBe(true);
  });

  it('names --mongo-port when the MongoDB port is taken', async () => {
    const listener = createServer();
    ownServers.listeners.push(listener);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as { port: number };
    const result = await runCli(['dev', '--mongo-port', String(port), '--admin-port', '0'], devEnv);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `The embedded MongoDB cannot listen on 127.0.0.1:${port}: the port is already in use. Pick another ` +
        'port with --mongo-port (0 picks a free one), or stop what holds it.',
    ]);
  });
});

describe('sagastream dev shutdown', () => {
  it(
    'stops its redis-server and exits 130 on a second Ctrl-C while the first one is still shutting down',
    { timeout: 90_000 },
    async () => {
      const dev = startCli(['dev', '--admin-port', '0'], { ...devEnv, LOG_LEVEL: 'info' });
      const ready = await dev.waitForLine(/^sagastream dev stack ready: /);
      const redisUrl = /Redis (redis:\/\/\S+)/.exec(ready)?.[1] ?? '';
      const redis = new Redis(redisUrl);
      const info = await redis.info('server');
      redis.disconnect();
      const redisPid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
      ownServers.pids.push(redisPid);
      expect(await processAlive(redisPid)).toBe(true);

      // A step that hangs until its 30 s timeout keeps the worker's graceful stop busy.
      const client = new MongoClient(/MongoDB (mongodb:\/\/\S+)/.exec(ready)?.[1] ?? '');
      const db = client.db('sagastream');
      const { insertedId } = await db.collection('orders').insertOne({
        status: 'pending',
        customer: { id: 'c-1' },
        items: [{ sku: 'mug-blue', quantity: 1 }],
        total_amount: 12.5,
        simulate: { hangAt: 'process-payment' },
      });
      // Nothing is stored when a step begins: the admin API shows it running from its BullMQ job.
      const [, admin, token] = /admin (http:\/\/\S+), admin token (\S+)$/.exec(ready) ?? [];
      const sagas = db.collection<{ _id: string }>('sagas');
      let sagaId = '';
      await expect
        .poll(
          async () => (sagaId = (await sagas.findOne({ 'trigger.documentKey._id': insertedId }))?._id ?? ''),
          {
            timeout: 30_000,
            interval: 200,
          },
        )
        .not.toBe('');
      await expect
        .poll(
          async () => {
            const response = await fetch(`${admin ?? ''}/api/sagas/${sagaId}`, {
              headers: { authorization: `Bearer ${token ?? ''}` },
            });
            return ((await response.json()) as { steps: { status: string }[] }).steps[0]?.status;
          },
          { timeout: 30_000, interval: 200 },
        )
        .toBe('running');
      await client.close();

      dev.child.kill('SIGINT');
      await expect
        .poll(() => dev.stderr().includes('stopping the dev stack'), { timeout: 10_000 })
        .toBe(true);
      dev.child.kill('SIGINT');
      expect(await dev.exited).toBe(130);
      await expect.poll(() => processAlive(redisPid), { timeout: 10_000 }).toBe(false);
      expect(await redisAnswers(redisUrl)).toBe(false);
    },
  );
});

describe('sagastream dev --redis-cluster', () => {
  it(
    'runs a saga on a local Redis Cluster of 3 masters and 3 replicas, and stops every node on SIGTERM',
    { timeout: 90_000 },
    async () => {
      const dev = startCli(['dev', '--redis-cluster', '--admin-port', '0'], devEnv);
      const ready = await dev.waitForLine(/^sagastream dev stack ready: /);
      const redisUrl =
        /Redis (redis\+cluster:\/\/\S+) \(Redis Cluster, 3 masters and 3 replicas\)/.exec(ready)?.[1] ?? '';
      const target = parseRedisUrl(redisUrl);
      if (target.kind !== 'cluster') throw new Error(`not a cluster URL in: ${ready}`);
      expect(target.nodes).toHaveLength(6);
      const pids: number[] = [];
      for (const node of target.nodes) {
        const redis = new Redis(node.port, node.host);
        pids.push(Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1]));
        expect(await redis.cluster('INFO')).toMatch(/^cluster_state:ok/m);
        redis.disconnect();
      }
      ownServers.pids.push(...pids);

      const client = new MongoClient(/MongoDB (mongodb:\/\/\S+)/.exec(ready)?.[1] ?? '');
      const { insertedId } = await client
        .db('sagastream')
        .collection('orders')
        .insertOne({
          status: 'pending',
          customer: { id: 'c-1' },
          items: [{ sku: 'mug-blue', quantity: 1 }],
          total_amount: 12.5,
        });
      const sagas = client.db('sagastream').collection<{ status: string }>('sagas');
      await expect
        .poll(async () => (await sagas.findOne({ 'trigger.documentKey._id': insertedId }))?.status, {
          timeout: 45_000,
          interval: 200,
        })
        .toBe('completed');
      await client.close();
      // The step queue's keys went to the master of its own slot, through the Cluster client.
      const cluster = new Cluster([...target.nodes]);
      expect(await cluster.exists('sagastream:{saga-order-fulfillment}:saga-order-fulfillment:events')).toBe(
        1,
      );
      cluster.disconnect();

      dev.child.kill('SIGTERM');
      expect(await dev.exited).toBe(0);
      for (const pid of pids) await expect.poll(() => processAlive(pid), { timeout: 10_000 }).toBe(false);
    },
  );
});
