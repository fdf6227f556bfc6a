// Shared by integration tests: connections to the servers global-setup.ts provides, and unique names so
// test files running in parallel never share a database or a queue.
import { randomBytes } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl } from '../../src/connections/redis-url.js';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';

const MAX_DATABASE_NAME_LENGTH = 38;

/**
 * `${prefix}-${16 random hex digits}`, safe as a MongoDB database name (no `.`, `/`, `\`, `$`, spaces or
 * quotes; at most 38 characters, so namespaces stay short) and as a BullMQ queue prefix. A full UUID would not
 * fit in 38 characters with a prefix; 64 random bits are plenty. The prefix is shortened, never the random part.
 */
export function uniqueName(prefix: string): string {
  const id = randomBytes(8).toString('hex');
  const safePrefix = prefix
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .slice(0, MAX_DATABASE_NAME_LENGTH - id.length - 1);
  return safePrefix === '' ? id : `${safePrefix}-${id}`;
}

export function mongoUrl(): string {
  return inject('MONGODB_URL');
}

export function redisUrl(): string {
  return inject('REDIS_URL');
}

/** A connected client; the caller closes it (e.g. in afterAll). */
export async function connectMongo(): Promise<MongoClient> {
  const client = new MongoClient(mongoUrl());
  await client.connect();
  return client;
}

/**
 * A client (not yet connected) of the Redis or Redis Cluster that `url` names, with `options` on every node:
 * `npm run test:cluster` gives the tests a `redis+cluster://` URL. The caller closes it.
 */
export function redisClient(url = redisUrl(), options: RedisOptions = {}): Redis | Cluster {
  const target = parseRedisUrl(url);
  if (target.kind === 'single') return new Redis(url, options);
  return new Cluster([...target.nodes], { redisOptions: options });
}

/**
 * A connected ioredis client with `maxRetriesPerRequest: null`, which BullMQ requires for blocking workers.
 * The caller closes it with `quit()`.
 */
export async function connectRedis(): Promise<Redis | Cluster> {
  const client = redisClient(redisUrl(), { maxRetriesPerRequest: null });
  await client.ping();
  return client;
}

/**
 * Registers a file's hooks for one MongoDB client (`mongo()`, connected before the first test) and cleanups that
 * run after each test, most recent first (`onCleanup`).
 */
export function mongoAndCleanups(): {
  mongo: () => MongoClient;
  onCleanup: (cleanup: () => Promise<void>) => void;
} {
  let client: MongoClient | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    client = await connectMongo();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await client?.close();
  });
  return {
    mongo: () => {
      if (!client)
        throw new Error('mongoAndCleanups: the client is connected in beforeAll; use it inside a test');
      return client;
    },
    onCleanup: (cleanup) => void cleanups.push(cleanup),
  };
}
