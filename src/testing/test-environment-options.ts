// Options of createTestEnvironment as users write them, validated once where the environment is built.
import { isSagaLogger, type SagaLogger } from '../logging/saga-logger.js';
import { z } from 'zod';
import { mongodbUrlOption, redisUrlOption } from '../config/connection-options.js';
import { sagasOption, type SagaDefinition } from '../definition/index.js';
import type { ServicesSetupContext } from '../runtime/saga-runtime.js';

const TIME_SCALE_RULE =
  'timeScale must be a positive finite number, e.g. 0.01 to run 30 s timeouts in 300 ms';

export const testEnvironmentOptionsSchema = z.strictObject({
  /** The sagas to run: a SagaRegistry (a sagas module's default export) or an array of definitions. */
  sagas: sagasOption.transform((registry): readonly SagaDefinition[] => registry.all()),
  /** What every step and compensation gets as `ctx.services`: your fakes. */
  services: z.unknown().optional(),
  /** Builds the services once connected, from the environment's database (used when `services` is absent). */
  setup: z
    .custom<(context: ServicesSetupContext) => unknown>((value) => typeof value === 'function', {
      error: 'setup must be a function ({ db, logger }) => services',
    })
    .optional(),
  /**
   * Multiplies every step timeout, backoff delay, compensation timeout and saga deadline: 0.01 turns a 30 s
   * timeout into 300 ms and a 1 s backoff into 10 ms. Default 1.
   */
  timeScale: z
    .number({ error: TIME_SCALE_RULE })
    .positive({ error: TIME_SCALE_RULE })
    .refine(Number.isFinite, { error: TIME_SCALE_RULE })
    .default(1),
  /** A MongoDB replica set to use; default MONGODB_URL, else an embedded server started for this environment. */
  mongodbUrl: mongodbUrlOption.optional(),
  /** A Redis to use; default REDIS_URL, else a `redis-server` child started for this environment. */
  redisUrl: redisUrlOption.optional(),
  /** Step worker concurrency. Default 10. */
  concurrency: z.number().int().positive().default(10),
  /** Where the environment's watcher and worker log; silent by default. */
  logger: z
    .custom<SagaLogger>(isSagaLogger, {
      error: 'logger must be a pino logger or one with the same methods (info, warn, error, …, child)',
    })
    .optional(),
});

export type TestEnvironmentOptions = z.input<typeof testEnvironmentOptionsSchema>;
export type ResolvedTestEnvironmentOptions = z.output<typeof testEnvironmentOptionsSchema>;
