// ioredis options per connection role, from a REDIS_URL (one Redis or a Redis Cluster, see redis-url.ts), and the
// bounds that keep a connection from waiting forever on a socket that stopped answering.
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { parseRedisUrl, RedisUrlError, type RedisTarget } from './redis-url.js';

/**
 * `producer`: queues jobs and reads queues (engine, watcher, admin, client); fails fast, every command bounded.
 * `worker`: a BullMQ worker's own commands (locks, job moves); waits through outages (BullMQ re-sends them).
 * `worker-blocking`: the worker's BZPOPMIN; `maxRetriesPerRequest: null` as BullMQ requires, no command timeout
 * (the block itself lasts up to 10 s; BullMQ's own watchdog bounds it).
 */
export type RedisRole = 'producer' | 'worker' | 'worker-blocking';

/** The time bounds of every Redis connection (milliseconds). */
export interface RedisTimeouts {
  /** A producer command with no reply within this fails (ioredis `commandTimeout`). */
  readonly commandTimeoutMs: number;
  /** TCP connect (ioredis `connectTimeout`); the handshake after it is bounded by RedisHealthCheck. */
  readonly connectTimeoutMs: number;
  /** TCP keepalive's first probe after this much idle time (ioredis `keepAlive`). */
  readonly keepAliveMs: number;
  /** Longest wait between reconnect attempts. */
  readonly maxReconnectDelayMs: number;
}

export const DEFAULT_REDIS_TIMEOUTS: RedisTimeouts = {
  commandTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  keepAliveMs: 10_000,
  maxReconnectDelayMs: 2_000,
};

/** The options every connection of `role` gets, whatever server it reaches: one Redis, or each cluster node. */
function roleOptions(target: RedisTarget, role: RedisRole, timeouts: RedisTimeouts): RedisOptions {
  const producer = role === 'producer';
  return {
    // Producers fail fast: a command sent while disconnected fails at once, one in flight within the timeout.
    maxRetriesPerRequest: producer ? 0 : null,
    enableOfflineQueue: !producer,
    ...(producer ? { commandTimeout: timeouts.commandTimeoutMs } : {}),
    connectTimeout: timeouts.connectTimeoutMs,
    keepAlive: timeouts.keepAliveMs,
    // A dead socket does not always close quickly on `disconnect()`; destroy it soon after.
    disconnectTimeout: 500,
    retryStrategy: (times) => Math.min(times * 200, timeouts.maxReconnectDelayMs),
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls ? { tls: {} } : {}),
  };
}

/**
 * The ioredis options of a connection of `role` to the one Redis that `url` names.
 * @throws RedisUrlError when `url` is malformed or names a Redis Cluster (see redisClusterOptions).
 */
export function redisOptionsFromUrl(
  url: string,
  role: RedisRole,
  timeouts: RedisTimeouts = DEFAULT_REDIS_TIMEOUTS,
): RedisOptions {
  const target = parseRedisUrl(url);
  if (target.kind === 'cluster')
    throw new RedisUrlError('it names a Redis Cluster, where one Redis is needed');
  return {
    host: target.node.host,
    port: target.node.port,
    ...(target.db === undefined ? {} : { db: target.db }),
    ...roleOptions(target, role, timeouts),
  };
}

/**
 * The options of an ioredis `Cluster` client of `role`: the role's bounds on every node connection, and the same
 * fail-fast rule for the cluster's own queue of commands waiting for a slot map (producers queue nothing).
 */
export function redisClusterOptions(
  target: RedisTarget & { kind: 'cluster' },
  role: RedisRole,
  timeouts: RedisTimeouts = DEFAULT_REDIS_TIMEOUTS,
): ClusterOptions {
  const {
    enableOfflineQueue,
    retryStrategy: _nodeRetry,
    ...redisOptions
  } = roleOptions(target, role, timeouts);
  return {
    redisOptions,
    enableOfflineQueue,
    // Between the slot map's arrival and the ready check's answer a Cluster client is `connect`, which BullMQ takes
    // for ready: a producer, with no offline queue, then fails BullMQ's first command ("Cluster isn't ready"). No
    // ready check makes `connect` and `ready` one step; a slot no master serves answers CLUSTERDOWN, retried below.
    enableReadyCheck: role !== 'producer',
    // Reconnects the whole cluster client (every seed node failed) as a single connection reconnects.
    clusterRetryStrategy: (times) => Math.min(times * 200, timeouts.maxReconnectDelayMs),
    // A failover moves slots: commands answered MOVED/CLUSTERDOWN meanwhile are retried after this.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    // Replicas are for failover: reads on them could miss a job just written to the master.
    scaleReads: 'master',
  };
}
