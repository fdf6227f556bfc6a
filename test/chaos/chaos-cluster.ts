// What every chaos scenario starts with: a run directory, the embedded MongoDB server and redis-server on free
// ports, a driver client and an ioredis client of the runner's own, a progress printer, and role processes.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
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

export interface ChaosCluster {
  readonly runDir: string;
  readonly logDir: string;
  readonly mongoPort: number;
  readonly redisPort: number;
  /** The roles' environment: direct URLs to both servers, the database, queue prefix and sagas module. */
  readonly env: Readonly<Record<string, string>>;
  readonly mongo: ManagedProcess;
  readonly redis: ManagedProcess;
}

/** Creates the run directory and the two server processes (not started: see `startServers`). */
export async function createCluster(name: string, queuePrefix: string): Promise<ChaosCluster> {
  const runDir = await mkdtemp(join(tmpdir(), `sagastream-${name}-`));
  const logDir = join(runDir, 'logs');
  await mkdir(logDir, { recursive: true });
  await mkdir(join(runDir, 'redis'), { recursive: true });
  const [mongoPort, redisPort] = [await findFreePort(), await findFreePort()];
  const env = {
    MONGODB_URL: `mongodb://127.0.0.1:${mongoPort}/?replicaSet=rs0`,
    MONGODB_DB: 'chaos',
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
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
  const redis = new ManagedProcess(redisProcess(redisPort, join(runDir, 'redis')), logDir);
  return { runDir, logDir, mongoPort, redisPort, env, mongo, redis };
}

/** A `sagastream <args>` role process of the cluster, with `env` on top of the cluster's environment. */
export function roleProcess(
  cluster: ChaosCluster,
  name: string,
  args: readonly string[],
  env: Record<string, string> = {},
): ManagedProcess {
  return new ManagedProcess(sagastreamProcess(name, args, { ...cluster.env, ...env }), cluster.logDir);
}

export interface RunnerClients {
  readonly mongoClient: MongoClient;
  readonly db: Db;
  readonly redis: Redis;
  close(): Promise<void>;
}

/** Starts MongoDB and Redis and connects the runner's own clients (which ride out server restarts). */
export async function startServers(cluster: ChaosCluster): Promise<RunnerClients> {
  await Promise.all([cluster.mongo.start(), cluster.redis.start()]);
  const mongoClient = new MongoClient(cluster.env.MONGODB_URL!, { serverSelectionTimeoutMS: 5_000 });
  await mongoClient.connect();
  const redis = new Redis(cluster.env.REDIS_URL!, { maxRetriesPerRequest: null });
  // Redis is restarted on purpose; ioredis reconnects by itself.
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
  cluster: ChaosCluster,
  roles: readonly ManagedProcess[],
  removeRunDir: boolean,
): Promise<void> {
  await Promise.all(roles.map((child) => child.stop('SIGTERM', 10_000)));
  await Promise.all([cluster.mongo.stop('SIGTERM', 10_000), cluster.redis.stop('SIGTERM', 10_000)]);
  killAllChildren();
  if (removeRunDir) await rm(cluster.runDir, { recursive: true, force: true });
}
