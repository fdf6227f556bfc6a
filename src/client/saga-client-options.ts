// Options of a SagaClient as users write them, validated once where the client is built.
import { z } from 'zod';
import {
  databaseOption,
  mongodbUrlOption,
  queuePrefixOption,
  redisUrlOption,
} from '../config/connection-options.js';
import { DEFAULT_RETENTION_MS, retentionSchema, sagasOption } from '../definition/index.js';

export const sagaClientOptionsSchema = z.strictObject({
  /** The workers' MONGODB_URL: a replica set (`result` follows a change stream). */
  mongodbUrl: mongodbUrlOption,
  /** The workers' REDIS_URL: the first step of a new saga is queued there. */
  redisUrl: redisUrlOption,
  /** The database of the sagas collection, as the workers' MONGODB_DB. */
  database: databaseOption,
  /** The BullMQ key prefix, as the workers' SAGASTREAM_QUEUE_PREFIX. */
  queuePrefix: queuePrefixOption,
  /** The sagas this client may start: their input schemas validate `start`. */
  sagas: sagasOption,
  /**
   * As the workers' SAGA_RETENTION: how long a saga this client ends (a cancel with nothing to compensate) or whose
   * dead letter it discards is kept, when its definition sets no `retention`. Default 30 days.
   */
  retention: retentionSchema.default(DEFAULT_RETENTION_MS),
});

export type SagaClientOptions = z.input<typeof sagaClientOptionsSchema>;
