// Gives integration tests one MongoDB and one Redis, picked in this order: MONGODB_URL / REDIS_URL from the
// environment, else containers when a Docker engine answers, else the embedded MongoDB-compatible server and
// a spawned `redis-server`. Tests read the URLs with `inject('MONGODB_URL')` (see helpers.ts). With
// SAGASTREAM_TEST_REDIS=cluster (what `npm run test:cluster` sets), Redis is a spawned local Redis Cluster instead.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createLogger, redactUrl, type LogLevel } from '../../src/logging/logger.js';

declare module 'vitest' {
  export interface ProvidedContext {
    MONGODB_URL: string;
    REDIS_URL: string;
  }
}

interface Backend {
  readonly url: string;
  readonly description: string;
  stop(): Promise<void>;
}

const DOCKER_PROBE_TIMEOUT_MS = 5_000;

/** Cheap hints first: where no socket or DOCKER_HOST exists, asking testcontainers would only add delay. */
function dockerEngineHinted(): boolean {
  const sockets = [
    '/var/run/docker.sock',
    join(homedir(), '.docker/run/docker.sock'),
    ...(process.env.XDG_RUNTIME_DIR ? [join(process.env.XDG_RUNTIME_DIR, 'docker.sock')] : []),
  ];
  return Boolean(process.env.DOCKER_HOST) || sockets.some((socket) => existsSync(socket));
}

async function dockerEngineAnswers(): Promise<boolean> {
  if (process.env.SAGASTREAM_TEST_BACKEND === 'embedded' || !dockerEngineHinted()) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), DOCKER_PROBE_TIMEOUT_MS);
    });
    const probe = getContainerRuntimeClient().then(() => true);
    const answered = await Promise.race([probe, timeout]);
    clearTimeout(timer);
    probe.catch(() => undefined); // a late failure after the timeout must not become unhandled
    return answered;
  } catch {
    return false;
  }
}

async function mongoContainer(): Promise<Backend> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('mongo:8')
    .withCommand(['--replSet', 'rs0', '--bind_ip_all'])
    .withExposedPorts(27017)
    .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/))
    .start();
  await container.exec([
    'mongosh',
    '--quiet',
    '--eval',
    "rs.initiate({_id: 'rs0', members: [{_id: 0, host: 'localhost:27017'}]})",
  ]);
  // Change streams and writes need the node to be primary, which takes a moment after initiate.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const hello = await container.exec(['mongosh', '--quiet', '--eval', 'db.hello().isWritablePrimary']);
    if (hello.output.trim().endsWith('true')) break;
    if (Date.now() > deadline) {
      await container.stop();
      throw new Error('the mongo:8 container did not become a replica-set primary within 30 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // The member is named localhost:27017 inside the container, so clients connect directly, not via discovery.
  const url = `mongodb://${container.getHost()}:${container.getMappedPort(27017)}/?directConnection=true`;
  return { url, description: 'mongo:8 container', stop: async () => void (await container.stop()) };
}

async function redisContainer(): Promise<Backend> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('redis:7')
    .withCommand(['redis-server', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'])
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  const url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  return { url, description: 'redis:7 container', stop: async () => void (await container.stop()) };
}

async function embeddedMongo(level: LogLevel): Promise<Backend> {
  const { startEmbeddedMongoServer } = await import('../../src/embedded/index.js');
  const server = await startEmbeddedMongoServer({
    logger: createLogger({ level, name: 'embedded-mongo', destination: 2 }),
  });
  return { url: server.uri, description: 'embedded MongoDB server', stop: () => server.stop() };
}

async function spawnedRedis(level: LogLevel): Promise<Backend> {
  const { startRedisServer } = await import('../../src/embedded/redis-launcher.js');
  const server = await startRedisServer({
    logger: createLogger({ level, name: 'redis-server', destination: 2 }),
  });
  return { url: server.url, description: 'spawned redis-server', stop: () => server.stop() };
}

async function spawnedRedisCluster(level: LogLevel): Promise<Backend> {
  const { startRedisCluster } = await import('../../src/embedded/redis-cluster-launcher.js');
  const cluster = await startRedisCluster({
    logger: createLogger({ level, name: 'redis-cluster', destination: 2 }),
  });
  return {
    url: cluster.url,
    description: 'spawned Redis Cluster (3 masters, 3 replicas)',
    stop: () => cluster.stop(),
  };
}

function fromEnvironment(url: string): Backend {
  return { url, description: 'from the environment', stop: () => Promise.resolve() };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Quiet by default: tests of malformed wire input make the embedded server log errors on purpose.
  const level = (process.env.SAGASTREAM_TEST_LOG_LEVEL ?? 'fatal') as LogLevel;
  const mongoUrl = process.env.MONGODB_URL?.trim();
  const redisUrl = process.env.REDIS_URL?.trim();
  const useContainers = !(mongoUrl && redisUrl) && (await dockerEngineAnswers());

  const started: Backend[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.splice(0).map((backend) => backend.stop()));
  };
  try {
    const mongo = mongoUrl
      ? fromEnvironment(mongoUrl)
      : await (useContainers ? mongoContainer() : embeddedMongo(level));
    started.push(mongo);
    const redis = redisUrl
      ? fromEnvironment(redisUrl)
      : process.env.SAGASTREAM_TEST_REDIS === 'cluster'
        ? await spawnedRedisCluster(level)
        : await (useContainers ? redisContainer() : spawnedRedis(level));
    started.push(redis);

    project.provide('MONGODB_URL', mongo.url);
    project.provide('REDIS_URL', redis.url);
    console.log(
      `[integration] MongoDB: ${mongo.description} (${redactUrl(mongo.url)}); Redis: ${redis.description} (${redactUrl(redis.url)})`,
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}
