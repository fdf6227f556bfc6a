// Options of a trigger watcher as users write them (durations as '15s' or ms) and with defaults filled in.
import { z } from 'zod';
import { durationSchema, positiveDurationSchema } from '../definition/duration.js';

export const triggerWatcherOptionsSchema = z.strictObject({
  /** Identifies this process in the lease; unique per process (host, pid and a random part by default). */
  holderId: z.string().min(1),
  /** How long a lease lasts without renewal: a standby takes over at most this long after the holder died. */
  leaseTtl: positiveDurationSchema.default(15_000),
  /** How often a standby tries to take the lease. */
  standbyPollInterval: positiveDurationSchema.default(1_000),
  /** Checkpoints are written at most this often (plus once on stop). */
  checkpointInterval: durationSchema.default(200),
  /** How long one read of the change stream waits for new events on the server. */
  maxAwaitTime: positiveDurationSchema.default(1_000),
  /** Events (or scanned documents) per `SagaStarter.start` call. */
  batchSize: z.number().int().min(1).max(10_000).default(500),
  /** With no checkpoint yet, start sagas for every matching document that already exists. */
  backfill: z.boolean().default(false),
  /**
   * A batch (its sagas stored and their first jobs queued) that takes longer than this means the holder cannot
   * do its job (a half-open Redis or MongoDB connection answers nothing): it hands the trigger over.
   */
  batchTimeout: positiveDurationSchema.default(10_000),
  /** How long the Redis health check (a PING of the queues) waits for an answer. */
  healthCheckTimeout: positiveDurationSchema.default(3_000),
  /** First delay after a transient failure; doubles per failure up to `maxRetryDelay`. */
  retryDelay: positiveDurationSchema.default(250),
  maxRetryDelay: positiveDurationSchema.default(10_000),
});

export type TriggerWatcherOptionsInput = z.input<typeof triggerWatcherOptionsSchema>;
export type TriggerWatcherOptions = z.output<typeof triggerWatcherOptionsSchema>;
