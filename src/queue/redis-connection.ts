// Redis connection options for BullMQ from a redis:// or rediss:// URL.
import type { RedisOptions } from 'bullmq';

export type RedisRole = 'producer' | 'worker';

/**
 * Workers block on Redis and must wait through outages (`maxRetriesPerRequest: null`, as BullMQ requires);
 * producers fail fast so an HTTP request or a watcher batch does not hang while Redis is down.
 */
export function redisOptionsFromUrl(url: string, role: RedisRole): RedisOptions {
  const parsed = new URL(url);
  const options: RedisOptions = {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    enableOfflineQueue: role === 'worker',
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace('/', '');
  if (db) options.db = Number(db);
  if (parsed.protocol === 'rediss:') options.tls = {};
  return options;
}
