// A Cluster client's health check: when the cluster stops answering (every node SIGSTOPped: sockets open, no
// replies) its PING times out, the connection is reported down and the client drops its node connections; once
// the nodes answer again it reconnects and is reported up.
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionStates } from '../../src/connections/connection-states.js';
import { RedisConnections } from '../../src/connections/redis-connections.js';
import { startRedisCluster, type RedisCluster } from '../../src/embedded/redis-cluster-launcher.js';
import { testLogger } from '../integration/engine/engine-test-kit.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function signalAll(cluster: RedisCluster, signal: 'SIGSTOP' | 'SIGCONT'): void {
  for (const node of cluster.nodes) process.kill(node.server.pid!, signal);
}

describe('RedisHealthCheck on a Redis Cluster client', () => {
  it(
    'reports a cluster that stops answering as down, and up again once it answers',
    { timeout: 90_000 },
    async () => {
      // A long node timeout: the stall must not look like a failed master to the nodes themselves.
      const cluster = await startRedisCluster({ nodeTimeoutMs: 60_000 });
      cleanups.push(() => cluster.stop());
      const states = new ConnectionStates({ logger: testLogger('cluster-health') });
      const connections = new RedisConnections({
        url: cluster.url,
        states,
        health: { pingIntervalMs: 200, pingTimeoutMs: 500, handshakeTimeoutMs: 1_000 },
      });
      cleanups.push(() => connections.close());
      connections.create('producer');
      await expect.poll(() => states.isUp('redis'), { timeout: 15_000 }).toBe(true);

      signalAll(cluster, 'SIGSTOP');
      cleanups.push(() => signalAll(cluster, 'SIGCONT'));
      await expect.poll(() => states.isUp('redis'), { timeout: 10_000 }).toBe(false);
      expect(states.problems().map((problem) => problem.reason)).toContain(
        'connection lost (PING not answered within 500 ms)',
      );

      signalAll(cluster, 'SIGCONT');
      await expect.poll(() => states.isUp('redis'), { timeout: 30_000 }).toBe(true);
    },
  );
});
