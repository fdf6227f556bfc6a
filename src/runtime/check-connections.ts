// Fails fast with one clear line when MongoDB or Redis cannot be reached, instead of a driver hanging on
// retries or a stack trace: what is wrong, where, and what to do.
import { Cluster, Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { mongoClientOptions } from '../connections/mongo-options.js';
import { redisClusterOptions, redisOptionsFromUrl } from '../connections/redis-options.js';
import { parseRedisUrl } from '../connections/redis-url.js';
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

/** A client that connects once, without retries, to the one Redis or the Redis Cluster that `url` names. */
function oneShotClient(url: string): Redis | Cluster {
  const target = parseRedisUrl(url);
  const bounds = {
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  };
  if (target.kind === 'single') {
    return new Redis({ ...redisOptionsFromUrl(url, 'producer'), lazyConnect: true, ...bounds });
  }
  const options = redisClusterOptions(target, 'producer');
  return new Cluster([...target.nodes], {
    ...options,
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    redisOptions: { ...options.redisOptions, ...bounds },
  });
}

/** Why the first seed node of a cluster URL cannot be reached (ECONNREFUSED, …); undefined when it answers. */
async function seedNodeError(url: string): Promise<unknown> {
  const target = parseRedisUrl(url);
  if (target.kind !== 'cluster') return undefined;
  const node = target.nodes[0]!;
  const probe = new Redis({
    ...redisOptionsFromUrl(
      `redis://${node.host.includes(':') ? `[${node.host}]` : node.host}:${node.port}`,
      'producer',
    ),
    lazyConnect: true,
    connectTimeout: REDIS_TIMEOUT_MS,
    retryStrategy: () => null,
  });
  let firstError: unknown;
  probe.on('error', (error: unknown) => (firstError ??= error));
  try {
    await probe.connect();
    return undefined;
  } catch (caught) {
    return firstError ?? caught;
  } finally {
    probe.disconnect();
  }
}

/** `cluster_state:ok` from CLUSTER INFO, or what it says instead. */
function clusterStateOf(info: string): string {
  return /^cluster_state:(\w+)/m.exec(info)?.[1] ?? 'unknown';
}

/**
 * Connects once (no retries) and pings. A Redis Cluster must report `cluster_state:ok`; a cluster node named by a
 * `redis://` URL is refused, since a plain client would fail on every key another master holds.
 */
export async function checkRedis(url: string): Promise<void> {
  let client: Redis | Cluster;
  try {
    client = oneShotClient(url);
  } catch (error) {
    throw new ConnectionCheckError(reasonOf(error), { cause: error });
  }
  const where = `${client instanceof Cluster ? 'the Redis Cluster' : 'Redis'} at ${redactUrl(url)}`;
  // The first socket error says why (ECONNREFUSED, ENOTFOUND, …); connect() itself only says "closed".
  let firstError: unknown;
  client.on('error', (error: unknown) => (firstError ??= error));
  let verdict: string | undefined;
  try {
    await client.connect();
    await client.ping();
    if (client instanceof Cluster) {
      const state = clusterStateOf(await client.cluster('INFO'));
      if (state !== 'ok')
        verdict = `${where} reports cluster_state:${state}; wait until every slot is served`;
    } else if (/^cluster_enabled:1/m.test(await client.info('cluster'))) {
      verdict =
        `${where} is a Redis Cluster node: name the cluster with redis+cluster://host1:port,host2:port ` +
        '(a plain client would fail on the keys of the other masters)';
    }
  } catch (caught) {
    // A Cluster client only says "Failed to refresh slots cache": a plain connection to a seed node says why.
    const error = (client instanceof Cluster ? await seedNodeError(url) : undefined) ?? firstError ?? caught;
    throw new ConnectionCheckError(
      `Cannot reach ${where} (${reasonOf(error)}). Check REDIS_URL and that redis-server ` +
        'is running, or use `sagastream dev`, which starts one.',
      { cause: error },
    );
  } finally {
    client.disconnect();
  }
  if (verdict !== undefined) throw new ConnectionCheckError(verdict);
}
