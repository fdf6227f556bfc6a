// What a MongoDB URL, database name, Redis URL and queue prefix must look like: one rule each, for the
// environment (config.ts) and for the options of SagaRuntime, SagaClient and the testing kit.
import { z } from 'zod';
import { REDIS_URL_FORMS, redisUrlProblem } from '../connections/redis-url.js';

// Mongo URLs may list several hosts (`a:1,b:2`), which WHATWG URL cannot parse, hence a shape check.
export const MONGODB_URL_SHAPE = /^mongodb(\+srv)?:\/\/[^/?#\s]+(\/[^?#\s]*)?(\?[^#\s]*)?$/;
export const MONGODB_DB_SHAPE = /^[^/\\. "$*<>:|?]{1,63}$/;
export const QUEUE_PREFIX_SHAPE = /^[A-Za-z0-9_-]{1,64}$/;

/** One Redis (`redis://`, `rediss://`) or a Redis Cluster (`redis+cluster://h1:p,h2:p`): see redis-url.ts. */
export function isRedisUrl(url: string): boolean {
  return redisUrlProblem(url) === undefined;
}

export const mongodbUrlOption = z.string().regex(MONGODB_URL_SHAPE, {
  error: 'mongodbUrl must be a MongoDB connection string like mongodb://localhost:27017/?replicaSet=rs0',
});
export const redisUrlOption = z.string().refine(isRedisUrl, {
  error: (issue) =>
    `redisUrl is invalid: ${redisUrlProblem(String(issue.input)) ?? 'not a string'}; expected ${REDIS_URL_FORMS}`,
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
