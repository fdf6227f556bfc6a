// ioredis options per connection role, from a redis:// or rediss:// URL, and the bounds that keep a connection
// from waiting forever on a socket that stopped answering.
import type { RedisOptions } from 'ioredis';

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

export function redisOptionsFromUrl(
  url: string,
  role: RedisRole,
  timeouts: RedisTimeouts = DEFAULT_REDIS_TIMEOUTS,
): RedisOptions {
  const parsed = new URL(url);
  const producer = role === 'producer';
  const options: RedisOptions = {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    // Producers fail fast: a command sent while disconnected fails at once, one in flight within the timeout.
    maxRetriesPerRequest: producer ? 0 : null,
    enableOfflineQueue: !producer,
    ...(producer ? { commandTimeout: timeouts.commandTimeoutMs } : {}),
    connectTimeout: timeouts.connectTimeoutMs,
    keepAlive: timeouts.keepAliveMs,
    // A dead socket does not always close quickly on `disconnect()`; destroy it soon after.
    disconnectTimeout: 500,
    retryStrategy: (times) => Math.min(times * 200, timeouts.maxReconnectDelayMs),
  };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace('/', '');
  if (db) options.db = Number(db);
  if (parsed.protocol === 'rediss:') options.tls = {};
  return options;
}
