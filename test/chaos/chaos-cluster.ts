// What every chaos scenario starts with: a run directory, the embedded MongoDB server and redis-server on free
// ports (or a local Redis Cluster), a driver client and an ioredis client of the runner's own, a progress printer,
// and role processes.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { parseRedisUrl } from '../../src/connections/redis-url.js';
import { startRedisCluster, type RedisCluster } from '../../src/embedded/redis-cluster-launcher.js';
import { findFreePort } from '../../src/embedded/redis-launcher.js';
import { killAllChildren, ManagedProcess, redisProcess, sagastreamProcess } from './chaos-processes.js';

export type Say = (line: string) => void;

/** A progress printer: `[<label> +12.3s] line` on stdout. */
export function progress(label: string, started = Date.now()): Say {
  return (line) =>
    void process.stdout.write(`[${label} +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Children die with the runner, whatever ends it. */
export function killChildrenOnExit(): void {
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
}

interface ChaosServers {
  readonly runDir: string;
  readonly logDir: string;
  readonly mongoPort: number;
  /** The roles' environment: direct URLs to both servers, the database, queue prefix and sagas module. */
  readonly env: Readonly<Record<string, string>>;
  readonly mongo: ManagedProcess;
}

/** A run on one redis-server. */
export interface ChaosCluster extends ChaosServers {
  readonly redisPort: number;
  readonly redis: ManagedProcess;
  readonly redisCluster?: undefined;
}

/** A run on a local Redis Cluster (`--redis-cluster`): 3 masters and 3 replicas from the launcher. */
export interface RedisClusterChaosRun extends ChaosServers {
  readonly redisCluster: RedisCluster;
}

export type AnyChaosCluster = ChaosCluster | RedisClusterChaosRun;

async function runDirectory(name: string): Promise<{ runDir: string; logDir: string }> {
  const runDir = await mkdtemp(join(tmpdir(), `sagastream-${name}-`));
  const logDir = join(runDir, 'logs');
  await mkdir(logDir, { recursive: true });
  return { runDir, logDir };
}

/** The MongoDB server process (not started) and the roles' environment for `redisUrl`. */
async function mongoAndEnv(
  runDir: string,
  logDir: string,
  queuePrefix: string,
  redisUrl: string,
): Promise<Pick<ChaosServers, 'mongoPort' | 'env' | 'mongo'>> {
  const mongoPort = await findFreePort();
  const env = {
    MONGODB_URL: `mongodb://127.0.0.1:${mongoPort}/?replicaSet=rs0`,
    MONGODB_DB: 'chaos',
    REDIS_URL: redisUrl,
    SAGASTREAM_QUEUE_PREFIX: queuePrefix,
    // The example sagas: role commands run only the sagas module they are given.
    SAGAS: fileURLToPath(new URL('../../sagas/index.ts', import.meta.url)),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const mongo = new ManagedProcess(
    sagastreamProcess(
      'mongo',
      ['mongo', '--port', String(mongoPort), '--dbpath', join(runDir, 'mongo')],
      env,
    ),
    logDir,
  );
  return { mongoPort, env, mongo };
}

/** Creates the run directory and the two server processes (not started: see `startServers`). */
export async function createCluster(name: string, queuePrefix: string): Promise<ChaosCluster> {
  const { runDir, logDir } = await runDirectory(name);
  await mkdir(join(runDir, 'redis'), { recursive: true });
  const redisPort = await findFreePort();
  const servers = await mongoAndEnv(runDir, logDir, queuePrefix, `redis://127.0.0.1:${redisPort}`);
  const redis = new ManagedProcess(redisProcess(redisPort, join(runDir, 'redis')), logDir);
  return { runDir, logDir, redisPort, ...servers, redis };
}

/**
 * Creates the run directory and the MongoDB server process (not started) and starts a local Redis Cluster at once:
 * its ports, which the roles' REDIS_URL names, are known only once it runs.
 */
export async function createRedisClusterRun(
  name: string,
  queuePrefix: string,
): Promise<RedisClusterChaosRun> {
  const { runDir, logDir } = await runDirectory(name);
  const redisCluster = await startRedisCluster();
  // Its nodes run in process groups of their own, which killAllChildren does not reach.
  process.on('exit', () => redisCluster.kill());
  const servers = await mongoAndEnv(runDir, logDir, queuePrefix, redisCluster.url);
  return { runDir, logDir, ...servers, redisCluster };
}

/** A `sagastream <args>` role process of the cluster, with `env` on top of the cluster's environment. */
export function roleProcess(
  cluster: AnyChaosCluster,
  name: string,
  args: readonly string[],
  env: Record<string, string> = {},
): ManagedProcess {
  return new ManagedProcess(sagastreamProcess(name, args, { ...cluster.env, ...env }), cluster.logDir);
}

export interface RunnerClients {
  readonly mongoClient: MongoClient;
  readonly db: Db;
  /** A Cluster client on a Redis Cluster. */
  readonly redis: Redis | Cluster;
  close(): Promise<void>;
}

/** A runner's client of `url` (one Redis or a Redis Cluster) that waits for the server rather than failing. */
function runnerRedis(url: string): Redis | Cluster {
  const target = parseRedisUrl(url);
  const options = { maxRetriesPerRequest: null };
  return target.kind === 'single'
    ? new Redis(url, options)
    : new Cluster([...target.nodes], { redisOptions: options });
}

/** Starts MongoDB and Redis and connects the runner's own clients (which ride out server restarts). */
export async function startServers(cluster: AnyChaosCluster): Promise<RunnerClients> {
  await Promise.all([cluster.mongo.start(), cluster.redisCluster ? undefined : cluster.redis.start()]);
  const mongoClient = new MongoClient(cluster.env.MONGODB_URL!, { serverSelectionTimeoutMS: 5_000 });
  await mongoClient.connect();
  const redis = runnerRedis(cluster.env.REDIS_URL!);
  // Redis is restarted (or a master killed) on purpose; ioredis reconnects by itself.
  redis.on('error', () => undefined);
  return {
    mongoClient,
    db: mongoClient.db(cluster.env.MONGODB_DB),
    redis,
    close: async () => {
      redis.disconnect();
      await mongoClient.close(true).catch(() => undefined);
    },
  };
}

/** Stops the roles, then the servers, kills whatever is left; removes the run directory when asked. */
export async function stopCluster(
  cluster: AnyChaosCluster,
  roles: readonly ManagedProcess[],
  removeRunDir: boolean,
): Promise<void> {
  await Promise.all(roles.map((child) => child.stop('SIGTERM', 10_000)));
  await Promise.all([
    cluster.mongo.stop('SIGTERM', 10_000),
    cluster.redisCluster ? cluster.redisCluster.stop() : cluster.redis.stop('SIGTERM', 10_000),
  ]);
  killAllChildren();
  if (removeRunDir) await rm(cluster.runDir, { recursive: true, force: true });
}
