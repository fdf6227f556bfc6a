// Options of a SagaClient as users write them, validated once where the client is built.
import { z } from 'zod';
import { SagaRegistry, type SagaDefinition } from '../definition/index.js';

const registryField = z.custom<SagaRegistry | readonly SagaDefinition[]>(
  (value) =>
    Array.isArray(value) ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { get?: unknown }).get === 'function' &&
      typeof (value as { list?: unknown }).list === 'function'),
  { error: 'sagas must be a SagaRegistry or an array of defineSaga(...) definitions' },
);

export const sagaClientOptionsSchema = z.strictObject({
  /** A `mongodb://` or `mongodb+srv://` connection string (a replica set: `result` follows a change stream). */
  mongodbUrl: z.string().regex(/^mongodb(\+srv)?:\/\//, { error: 'mongodbUrl must start with mongodb://' }),
  /** A `redis://` or `rediss://` URL: the first step of a new saga is queued there. */
  redisUrl: z.string().regex(/^rediss?:\/\//, { error: 'redisUrl must start with redis:// or rediss://' }),
  /** The database of the sagas collection, as the workers' MONGODB_DB. */
  database: z.string().min(1).default('sagastream'),
  /** The BullMQ key prefix, as the workers' SAGASTREAM_QUEUE_PREFIX. */
  queuePrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, { error: 'queuePrefix is letters, digits, "-" and "_"' })
    .default('sagastream'),
  /** The sagas this client may start: their input schemas validate `start`. */
  sagas: registryField.transform((value) =>
    Array.isArray(value) ? new SagaRegistry(value as SagaDefinition[]) : (value as SagaRegistry),
  ),
});

export type SagaClientOptions = z.input<typeof sagaClientOptionsSchema>;
