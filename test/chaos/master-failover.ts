// The Redis Cluster fault of `--redis-cluster` runs: SIGKILL the master that serves a busy queue's hash slot, time
// its replica's promotion, and later start the killed node again and time until it is that replica's replica.
import { Redis } from 'ioredis';
import type { RedisCluster, RedisClusterNode } from '../../src/embedded/redis-cluster-launcher.js';
import { sleep } from './chaos-cluster.js';

const POLL_MS = 100;
const FAILOVER_TIMEOUT_MS = 60_000;

/** One command to one node, on a short-lived connection that gives up rather than retrying. */
async function ask(node: RedisClusterNode, ...args: [string, ...(string | number)[]]): Promise<unknown> {
  const client = new Redis({
    host: node.server.host,
    port: node.server.port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    commandTimeout: 2_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(...args);
  } finally {
    client.disconnect();
  }
}

/** `CLUSTER SLOTS` entry: [first slot, last slot, [master host, port, id], ...replicas]. */
type SlotRange = [number, number, [string, number, string], ...[string, number, string][]];

export interface MasterKill {
  /** The killed master, `host:port`. */
  readonly address: string;
  /** Its replica, promoted in its place. */
  readonly replica: string;
  readonly slot: number;
  /** From the SIGKILL until the replica says it is a master and the cluster serves every slot. */
  readonly failoverMs: number;
}

export class MasterFailover {
  private killed: MasterKill | undefined;

  constructor(private readonly cluster: RedisCluster) {}

  /** SIGKILLs the master serving `key`'s hash slot and waits (at most 60 s) until its replica has taken over. */
  async killMasterOf(key: string): Promise<MasterKill> {
    const [master] = await this.cluster.masters();
    if (master === undefined) throw new Error('no Redis Cluster master answers');
    const slot = Number(await ask(master, 'CLUSTER', 'KEYSLOT', key));
    const ranges = (await ask(master, 'CLUSTER', 'SLOTS')) as SlotRange[];
    const range = ranges.find(([first, last]) => first <= slot && slot <= last);
    const owner = range?.[2];
    const replicaEntry = range?.[3];
    if (owner === undefined || replicaEntry === undefined) {
      throw new Error(`slot ${slot} has no master with a replica in CLUSTER SLOTS`);
    }
    const victim = this.node(`${owner[0]}:${owner[1]}`);
    const replica = this.node(`${replicaEntry[0]}:${replicaEntry[1]}`);
    const killedAt = Date.now();
    process.kill(victim.server.pid!, 'SIGKILL');
    for (;;) {
      const promoted = await Promise.all([
        ask(replica, 'ROLE').then((role) => Array.isArray(role) && role[0] === 'master'),
        ask(replica, 'CLUSTER', 'INFO').then((info) => /^cluster_state:ok\r?$/m.test(String(info))),
      ]).then(
        (checks) => checks.every(Boolean),
        () => false,
      );
      if (promoted) break;
      if (Date.now() - killedAt > FAILOVER_TIMEOUT_MS) {
        throw new Error(`replica ${replica.address} did not take over slot ${slot} within 60 s`);
      }
      await sleep(POLL_MS);
    }
    this.killed = {
      address: victim.address,
      replica: replica.address,
      slot,
      failoverMs: Date.now() - killedAt,
    };
    return this.killed;
  }

  /**
   * Starts the killed master again and waits (at most 60 s) until it is a replica whose link to its master is up.
   * @returns the milliseconds from the start to that point.
   */
  async restartKilled(): Promise<{ address: string; rejoinMs: number }> {
    if (this.killed === undefined) throw new Error('no master was killed');
    const { address } = this.killed;
    const startedAt = Date.now();
    const node = await this.cluster.restart(address);
    for (;;) {
      const replication = await ask(node, 'INFO', 'replication').then(String, () => '');
      if (/^role:slave\r?$/m.test(replication) && /^master_link_status:up\r?$/m.test(replication)) {
        return { address, rejoinMs: Date.now() - startedAt };
      }
      if (Date.now() - startedAt > FAILOVER_TIMEOUT_MS) {
        throw new Error(`the restarted node ${address} did not rejoin as a replica within 60 s`);
      }
      await sleep(POLL_MS);
    }
  }

  private node(address: string): RedisClusterNode {
    const node = this.cluster.nodes.find((candidate) => candidate.address === address);
    if (node === undefined)
      throw new Error(`CLUSTER SLOTS names ${address}, which the launcher did not start`);
    return node;
  }
}
