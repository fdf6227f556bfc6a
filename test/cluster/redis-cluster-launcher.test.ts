// The local Redis Cluster launcher: 3 masters with a replica each, every slot served; a SIGKILLed master's replica
// takes over, and the killed node started again rejoins as a replica; stop() ends every node and removes the nodes' files.
import { access } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisCluster } from '../../src/embedded/redis-cluster-launcher.js';

let cluster: RedisCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function answers(host: string, port: number): Promise<boolean> {
  const client = new Redis({
    host,
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

describe('startRedisCluster', () => {
  it(
    'joins 3 masters and 3 replicas; a killed master is replaced by its replica and rejoins as one; stop() cleans up',
    { timeout: 90_000 },
    async () => {
      cluster = await startRedisCluster({ nodeTimeoutMs: 1_000 });
      expect(cluster.url).toMatch(/^redis\+cluster:\/\/(127\.0\.0\.1:\d+,){5}127\.0\.0\.1:\d+$/);
      const masters = await cluster.masters();
      expect(masters).toHaveLength(3);
      const first = masters[0]!;
      const info = new Redis({ host: first.server.host, port: first.server.port });
      expect(await info.cluster('INFO')).toMatch(/^cluster_slots_assigned:16384\r?$/m);
      expect(await info.info('replication')).toMatch(/^connected_slaves:1\r?$/m);
      info.disconnect();

      // SIGKILL the first master: after the node timeout its replica is promoted, and every slot is served again.
      process.kill(first.server.pid!, 'SIGKILL');
      await expect
        .poll(async () => (await cluster!.masters()).map((node) => node.address).sort(), {
          timeout: 30_000,
          interval: 250,
        })
        .toHaveLength(3);
      expect((await cluster.masters()).map((node) => node.address)).not.toContain(first.address);
      const survivor = (await cluster.masters())[0]!;
      const check = new Redis({ host: survivor.server.host, port: survivor.server.port });
      await expect
        .poll(async () => check.cluster('INFO'), { timeout: 30_000, interval: 250 })
        .toMatch(/^cluster_state:ok\r?$/m);
      check.disconnect();

      // Started again on its address, the killed master rejoins as a replica of the node that took its slots.
      const restarted = await cluster.restart(first.address);
      expect(restarted.address).toBe(first.address);
      expect(restarted.server.pid).not.toBe(first.server.pid);
      const rejoined = new Redis({ host: restarted.server.host, port: restarted.server.port });
      rejoined.on('error', () => undefined);
      await expect
        .poll(
          async () => {
            const replication = await rejoined.info('replication');
            return /^role:slave\r?$/m.test(replication) && /^master_link_status:up\r?$/m.test(replication);
          },
          { timeout: 30_000, interval: 250 },
        )
        .toBe(true);
      rejoined.disconnect();
      expect((await cluster.masters()).map((node) => node.address)).not.toContain(first.address);
      expect(cluster.nodes.map((node) => node.server.pid)).toContain(restarted.server.pid);

      const nodes = cluster.nodes;
      await cluster.stop();
      for (const node of nodes) expect(await answers(node.server.host, node.server.port)).toBe(false);
      await expect(access(cluster.dir)).rejects.toThrow('ENOENT');
    },
  );
});
