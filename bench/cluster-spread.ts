// The bench's Redis Cluster phase (`--redis-cluster`): how the work of a run spread over the cluster's masters,
// from each master's `INFO commandstats` before and after the run, and which queues' keys each master holds.
import { Redis } from 'ioredis';
import { startRedisCluster, type RedisClusterNode } from '../src/embedded/redis-cluster-launcher.js';

/** Housekeeping every node serves whatever the load (health checks, slot maps, replication): not counted. */
const HOUSEKEEPING = new Set([
  'info',
  'ping',
  'cluster',
  'replconf',
  'psync',
  'command',
  'client',
  'hello',
  'readonly',
]);

export interface MasterLoad {
  /** `host:port` */
  readonly address: string;
  /** Commands the master served during the run (script calls count once, as EVALSHA). */
  readonly ops: number;
  /** The queues (hash tags) whose keys of the run's prefix the master holds. */
  readonly queues: readonly string[];
}

async function withNode<T>(node: RedisClusterNode, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ host: node.server.host, port: node.server.port, lazyConnect: true });
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/** Every command's `calls` in `INFO commandstats`, housekeeping left out, summed. */
export function callsIn(commandStats: string): number {
  let total = 0;
  for (const match of commandStats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!HOUSEKEEPING.has(match[1]!.split('|')[0]!)) total += Number(match[2]);
  }
  return total;
}

/** Each master's command count so far, by address. */
export async function callsPerMaster(masters: readonly RedisClusterNode[]): Promise<Map<string, number>> {
  const calls = await Promise.all(
    masters.map((node) => withNode(node, async (client) => callsIn(await client.info('commandstats')))),
  );
  return new Map(masters.map((node, index) => [node.address, calls[index]!]));
}

/** What each master served since `before`, and which queues under `prefix` it holds keys of. */
export async function loadPerMaster(
  masters: readonly RedisClusterNode[],
  before: ReadonlyMap<string, number>,
  prefix: string,
): Promise<MasterLoad[]> {
  const after = await callsPerMaster(masters);
  return Promise.all(
    masters.map((node) =>
      withNode(node, async (client) => {
        const tags = new Set<string>();
        for await (const keys of client.scanStream({ match: `${prefix}:*`, count: 1_000 })) {
          for (const key of keys as string[]) {
            const tag = /\{([^}]+)\}/.exec(key)?.[1];
            if (tag !== undefined) tags.add(tag);
          }
        }
        return {
          address: node.address,
          ops: (after.get(node.address) ?? 0) - (before.get(node.address) ?? 0),
          queues: [...tags].sort(),
        };
      }),
    ),
  );
}

export interface ClusterRun<T> {
  /** What the phase measured on the cluster (the orchestrator's figures). */
  readonly result: T;
  readonly masters: MasterLoad[];
}

/**
 * Starts a local Redis Cluster (3 masters, 3 replicas), runs `phase` on it (given the cluster's URL and its masters'
 * process ids) with deployment prefix `prefix`, and reports what each master served meanwhile. The cluster is stopped whatever happens.
 */
export async function onRedisCluster<T>(
  prefix: string,
  phase: (redisUrl: string, masterPids: Record<string, number | undefined>) => Promise<T>,
): Promise<ClusterRun<T>> {
  const cluster = await startRedisCluster();
  try {
    const masters = await cluster.masters();
    const before = await callsPerMaster(masters);
    // CPU is read per master (`redis-1` …); replicas replay the masters' writes, which this leaves out.
    const pids = Object.fromEntries(masters.map((node, index) => [`redis-${index + 1}`, node.server.pid]));
    const result = await phase(cluster.url, pids);
    return { result, masters: await loadPerMaster(masters, before, prefix) };
  } finally {
    await cluster.stop();
  }
}
