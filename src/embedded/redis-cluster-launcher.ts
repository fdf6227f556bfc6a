// Starts a local Redis Cluster for development and tests: `redis-server --cluster-enabled yes` processes on free
// loopback ports (3 masters and a replica each by default), joined with `redis-cli --cluster create`, and resolved
// once every node says `cluster_state:ok` and every replica is linked to its master, so a master can be killed and
// its replica takes over.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  findFreePort,
  startRedisServer,
  type RedisLauncherLogger,
  type RedisServer,
} from './redis-launcher.js';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** 3 when absent: the fewest `redis-cli --cluster create` accepts. */
  readonly masters?: number;
  /** Replicas of each master; 1 when absent. */
  readonly replicasPerMaster?: number;
  readonly host?: string;
  /**
   * How long a master may be unreachable before its replica is promoted (Redis `cluster-node-timeout`); 2 s when
   * absent (Redis' own default, 15 s, is for real networks).
   */
  readonly nodeTimeoutMs?: number;
  /** Longest wait for the cluster to form; 30 s when absent. */
  readonly startTimeoutMs?: number;
  readonly logger?: RedisLauncherLogger;
}

export interface RedisClusterNode {
  readonly server: RedisServer;
  /** `host:port`, as the cluster names the node. */
  readonly address: string;
}

export interface RedisCluster {
  /** `redis+cluster://host:port,host:port,…`: every node, as REDIS_URL takes a cluster. */
  readonly url: string;
  /** Every node, as it runs now (a restarted node is a new server on the same address). */
  readonly nodes: readonly RedisClusterNode[];
  /** The temporary directory of the nodes' files (nodes.conf); stop() removes it. */
  readonly dir: string;
  /** The nodes that serve slots now (they change when a replica takes over). */
  masters(): Promise<RedisClusterNode[]>;
  /**
   * Starts the node at `address` again after it stopped or was killed, on its port, bus port and nodes.conf, so it
   * rejoins the cluster: as a replica when its replica took over its slots meanwhile. Resolves once it answers
   * (not yet once it has synced: see `nodeIsSettled` in the tests).
   */
  restart(address: string): Promise<RedisClusterNode>;
  /** Stops every node and removes their cluster files. */
  stop(): Promise<void>;
  /** Signals every node without waiting, for a parent that is about to exit. */
  kill(): void;
}

const POLL_MS = 100;

async function redisCli(host: string, port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', host, '-p', String(port), ...args], { timeout: 5_000 });
  return stdout;
}

/** What a node knows: `cluster_state` and, for a replica, whether its link to the master is up. */
async function nodeIsSettled(host: string, port: number): Promise<boolean> {
  try {
    const cluster = await redisCli(host, port, 'cluster', 'info');
    if (!/^cluster_state:ok\r?$/m.test(cluster)) return false;
    const replication = await redisCli(host, port, 'info', 'replication');
    return /^role:master\r?$/m.test(replication) || /^master_link_status:up\r?$/m.test(replication);
  } catch {
    return false;
  }
}

/** How a node was started, so that it can be started again as the same cluster member. */
interface NodeLaunch {
  readonly host: string;
  readonly nodeDir: string;
  readonly busPort: number;
  readonly nodeTimeoutMs: number;
  readonly logger: RedisLauncherLogger | undefined;
}

async function newNode(
  host: string,
  dir: string,
  index: number,
  nodeTimeoutMs: number,
  logger: RedisLauncherLogger | undefined,
): Promise<{ launch: NodeLaunch; server: RedisServer }> {
  const nodeDir = join(dir, `node-${index}`);
  await mkdir(nodeDir);
  // The cluster bus listens on a port of its own; the default (port + 10000) may be taken or past 65535.
  const launch = { host, nodeDir, busPort: await findFreePort(host), nodeTimeoutMs, logger };
  return { launch, server: await startNode(launch) };
}

/** redis-server as cluster node `launch`: on `port` when given (a restart), else on a free one. */
function startNode(
  { host, nodeDir, busPort, nodeTimeoutMs, logger }: NodeLaunch,
  port?: number,
): Promise<RedisServer> {
  return startRedisServer({
    host,
    ...(port === undefined ? {} : { port }),
    ...(logger ? { logger } : {}),
    extraArguments: [
      ['--cluster-enabled', 'yes'],
      ['--cluster-port', String(busPort)],
      // Written by the node into its own directory, not into the working directory of whoever started it.
      ['--dir', nodeDir],
      ['--cluster-config-file', 'nodes.conf'],
      ['--cluster-node-timeout', String(nodeTimeoutMs)],
    ].flat(),
  });
}

/**
 * Starts the nodes, joins them and waits until the cluster serves every slot.
 * @throws RedisServerNotFoundError when redis-server is not installed; an Error with redis-cli's output when the
 *   nodes cannot be joined, or when the cluster does not settle in time.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const host = options.host ?? '127.0.0.1';
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2_000;
  const dir = await mkdtemp(join(tmpdir(), 'sagastream-redis-cluster-'));
  const servers: RedisServer[] = [];
  const launches: NodeLaunch[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(servers.map((server) => server.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let index = 0; index < masters * (1 + replicas); index += 1) {
      const { launch, server } = await newNode(host, dir, index, nodeTimeoutMs, options.logger);
      launches.push(launch);
      servers.push(server);
    }
    const addresses = servers.map((server) => `${server.host}:${server.port}`);
    try {
      await run(
        'redis-cli',
        ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'],
        { timeout: 30_000 },
      );
    } catch (error) {
      const output = (error as { stdout?: string; stderr?: string }).stdout ?? '';
      const reason = (error as { stderr?: string }).stderr ?? String(error);
      throw new Error(`redis-cli --cluster create failed: ${reason}\n${output.slice(-2_000)}`, {
        cause: error,
      });
    }
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    for (;;) {
      const settled = await Promise.all(servers.map((server) => nodeIsSettled(server.host, server.port)));
      if (settled.every(Boolean)) break;
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not reach cluster_state:ok in time');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    options.logger?.debug({ nodes: addresses }, 'redis cluster ready');
    const nodes = servers.map((server, index) => ({ server, address: addresses[index]! }));
    let stopping: Promise<void> | undefined;
    return {
      url: `redis+cluster://${addresses.join(',')}`,
      get nodes() {
        return nodes;
      },
      dir,
      async masters() {
        // A node that does not answer (killed) is no master.
        const roles = await Promise.all(
          nodes.map(({ server }) =>
            redisCli(server.host, server.port, 'role').then(
              (role) => role.startsWith('master'),
              () => false,
            ),
          ),
        );
        return nodes.filter((_node, index) => roles[index]);
      },
      async restart(address) {
        const index = nodes.findIndex((node) => node.address === address);
        if (index < 0) throw new Error(`no node of this cluster is at ${address}`);
        if (stopping !== undefined) throw new Error('the cluster is stopping');
        const server = await startNode(launches[index]!, nodes[index]!.server.port);
        // stop() and kill() reach the new process too.
        servers.push(server);
        nodes[index] = { server, address };
        return nodes[index];
      },
      stop: () => (stopping ??= stopAll()),
      kill: () => servers.forEach((server) => server.kill()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
