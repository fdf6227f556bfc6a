// Only in `npm run test:cluster`: sagastream on a Redis Cluster spreads its queues over the masters (each queue's
// keys under its own hash tag), and a plain redis:// URL that names a cluster node is refused with a clear error.
import { Cluster } from 'ioredis';
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStates } from '../../src/connections/connection-states.js';
import { RedisConnections } from '../../src/connections/redis-connections.js';
import { parseRedisUrl } from '../../src/connections/redis-url.js';
import { SagaQueues } from '../../src/queue/saga-queues.js';
import { checkRedis } from '../../src/runtime/check-connections.js';
import { DEAD_LETTER_QUEUE, TIMER_QUEUE, stepQueueName } from '../../src/queue/queue-names.js';
import {
  engineTest,
  order,
  POLL,
  sagaEndingIn,
  testLogger,
  type EngineTest,
} from '../integration/engine/engine-test-kit.js';
import { connectMongo, redisClient, redisUrl } from '../integration/helpers.js';

let client: MongoClient;
let cluster: Cluster;
let test: EngineTest | undefined;

beforeAll(async () => {
  client = await connectMongo();
  const made = redisClient();
  if (!(made instanceof Cluster)) throw new Error('test:cluster runs on a redis+cluster:// URL');
  cluster = made;
});

afterEach(async () => {
  await test?.stop();
  test = undefined;
});

afterAll(async () => {
  cluster.disconnect();
  await client.close();
});

/** The keys under `prefix` on each master, by master address. */
async function keysPerMaster(prefix: string): Promise<Map<string, string[]>> {
  const masters = cluster.nodes('master');
  const found = new Map<string, string[]>();
  for (const master of masters) {
    const keys = await master.keys(`${prefix}:*`);
    if (keys.length > 0) found.set(`${master.options.host}:${master.options.port}`, keys);
  }
  return found;
}

/** The `{…}` hash tag of a key. */
function tagOf(key: string): string | undefined {
  return /\{([^}]+)\}/.exec(key)?.[1];
}

describe('sagastream on a Redis Cluster', () => {
  it("spreads a deployment's queues over the masters: each queue's keys on the master of its own slot", async () => {
    test = engineTest(client, 'cluster-spread');
    await test.start();
    const orders = [order(), order(), order({ charge: { terminal: true } })];
    await test.orders.insertMany(orders);
    for (const done of orders.slice(0, 2)) await sagaEndingIn(test.db, done._id, ['completed']);
    await sagaEndingIn(test.db, orders[2]!._id, ['compensated', 'failed']);

    const stepQueue = stepQueueName(test.saga.name);
    let spread = new Map<string, string[]>();
    // The sweeper's epoch keys sit beside the timers and the dead letters; the step queue holds finished jobs.
    await expect
      .poll(async () => {
        spread = await keysPerMaster(test!.queuePrefix);
        return new Set([...spread.values()].flat().map(tagOf));
      }, POLL)
      .toEqual(new Set([stepQueue, TIMER_QUEUE, DEAD_LETTER_QUEUE]));
    // Every key of one queue is on one master (BullMQ's scripts need that), and not every queue on the same one.
    for (const queue of [stepQueue, TIMER_QUEUE, DEAD_LETTER_QUEUE]) {
      const holders = [...spread].filter(([, keys]) => keys.some((key) => tagOf(key) === queue));
      expect(holders, `masters holding ${queue}`).toHaveLength(1);
    }
    expect(spread.size).toBeGreaterThan(1);
  });

  it("a queue made while the producer's Cluster client is between `connect` and `ready` works", async () => {
    // BullMQ takes a Cluster client's `connect` status (slot map loaded, ready check pending) for ready, and a
    // producer has no offline queue: a queue made then (a saga's step queue, made on first use) failed its first
    // command with "Cluster isn't ready" unless `connect` and `ready` are one step.
    const connections = new RedisConnections({
      url: redisUrl(),
      states: new ConnectionStates({ logger: testLogger('cluster-connect') }),
    });
    const producer = connections.create('producer');
    const queues = new SagaQueues({ connection: producer, prefix: 'connect-window' });
    try {
      const counted = new Promise<number>((resolve, reject) =>
        producer.once('connect', () => void queues.stepQueue('late').count().then(resolve, reject)),
      );
      await expect(counted).resolves.toBe(0);
    } finally {
      await queues.close();
      await connections.close();
    }
  });

  it('refuses a redis:// URL that names one node of the cluster, and says why a cluster cannot be reached', async () => {
    const target = parseRedisUrl(redisUrl());
    if (target.kind !== 'cluster') throw new Error('test:cluster runs on a redis+cluster:// URL');
    const node = target.nodes[0]!;
    await expect(checkRedis(`redis://${node.host}:${node.port}`)).rejects.toThrow(
      /is a Redis Cluster node: name the cluster with redis\+cluster:\/\//,
    );
    await expect(checkRedis(redisUrl())).resolves.toBeUndefined();
    // A cluster that cannot be reached says why, from its first seed node, not "Failed to refresh slots cache".
    await expect(checkRedis('redis+cluster://127.0.0.1:1,127.0.0.1:2')).rejects.toThrow(
      /^Cannot reach the Redis Cluster at redis\+cluster:\/\/127\.0\.0\.1:1,127\.0\.0\.1:2 \(connect ECONNREFUSED 127\.0\.0\.1:1\)\./,
    );
  });
});
