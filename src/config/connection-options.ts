// What a MongoDB URL, database name, Redis URL and queue prefix must look like: one rule each, for the
// environment (config.ts) and for the options of SagaRuntime, SagaClient and the testing kit.
import { z } from 'zod';

// Mongo URLs may list several hosts (`a:1,b:2`), which WHATWG URL cannot parse, hence a shape check.
export const MONGODB_URL_SHAPE = /^mongodb(\+srv)?:\/\/[^/?#\s]+(\/[^?#\s]*)?(\?[^#\s]*)?$/;
export const MONGODB_DB_SHAPE = /^[^/\\. "$*<>:|?]{1,63}$/;
export const QUEUE_PREFIX_SHAPE = /^[A-Za-z0-9_-]{1,64}$/;

export function isRedisUrl(url: string): boolean {
  if (!/^rediss?:\/\//.test(url)) return false;
  try {
    return new URL(url).hostname !== '';
  } catch {
    return false;
  }
}

export const mongodbUrlOption = z.string().regex(MONGODB_URL_SHAPE, {
  error: 'mongodbUrl must be a MongoDB connection string like mongodb://localhost:27017/?replicaSet=rs0',
});
export const redisUrlOption = z.string().refine(isRedisUrl, {
  error: 'redisUrl must be a Redis URL like redis://localhost:6379 (or rediss:// for TLS)',
});
export const databaseOption = z
  .string()
  .regex(MONGODB_DB_SHAPE, {
    error: 'database must be 1-63 characters, none of / \\ . " $ * < > : | ? or spaces',
  })
  .default('sagastream');
export const queuePrefixOption = z
  .string()
  .regex(QUEUE_PREFIX_SHAPE, { error: 'queuePrefix must be 1-64 letters, digits, "-" or "_"' })
  .default('sagastream');
