// Fails fast with one clear line when MongoDB or Redis cannot be reached, instead of a driver hanging on
// retries or a stack trace: what is wrong, where, and what to do.
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { mongoClientOptions } from '../connections/mongo-options.js';
import { redisOptionsFromUrl } from '../connections/redis-options.js';
import { redactUrl } from '../logging/logger.js';

const REDIS_TIMEOUT_MS = 5_000;

/** A dependency is missing or unreachable; main prints the message alone. */
export class ConnectionCheckError extends Error {
  readonly code = 'CONNECTION_FAILED';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionCheckError';
  }
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0] ?? message;
}

/** Connects, pings, and checks that the deployment can serve change streams (replica set or sharded). */
export async function checkMongo(url: string): Promise<void> {
  const client = new MongoClient(url, mongoClientOptions());
  try {
    await client.connect();
    const hello = await client.db('admin').command({ hello: 1 });
    if (hello.setName === undefined && hello.msg !== 'isdbgrid') {
      throw new ConnectionCheckError(
        `MongoDB at ${redactUrl(url)} is a standalone server, but change streams need a replica set: ` +
          'start mongod with --replSet rs0 and run rs.initiate() once (a single node is enough).',
      );
    }
  } catch (error) {
    if (error instanceof ConnectionCheckError) throw error;
    throw new ConnectionCheckError(
      `Cannot reach MongoDB at ${redactUrl(url)} (${reasonOf(error)}). Check MONGODB_URL and that the server ` +
        'is running, or use `sagastream dev` for an embedded one.',
      { cause: error },
    );
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Connects once (no retries) and pings. */
export async function checkRedis(url: string): Promise<void> {
  const client = new Redis({
    ...redisOptionsFromUrl(url, 'producer'),
    lazyConnect: true,
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The first socket error says why (ECONNREFUSED, ENOTFOUND, …); connect() itself only says "closed".
  let firstError: unknown;
  client.on('error', (error: unknown) => (firstError ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (caught) {
    const error = firstError ?? caught;
    throw new ConnectionCheckError(
      `Cannot reach Redis at ${redactUrl(url)} (${reasonOf(error)}). Check REDIS_URL and that redis-server ` +
        'is running, or use `sagastream dev`, which starts one.',
      { cause: error },
    );
  } finally {
    client.disconnect();
  }
}
