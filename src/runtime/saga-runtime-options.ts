// Options of SagaRuntime.start as users write them (durations as '30s' or ms), validated once, defaults filled.
import type { Db } from 'mongodb';
import { isSagaLogger, type SagaLogger } from '../logging/saga-logger.js';
import { z } from 'zod';
import {
  databaseOption,
  mongodbUrlOption,
  queuePrefixOption,
  redisUrlOption,
} from '../config/connection-options.js';
import {
  DEFAULT_RETENTION_MS,
  isSagaRegistry,
  ownRegistry,
  positiveDurationSchema,
  retentionSchema,
  type SagaRegistry,
} from '../definition/index.js';
import type { SagaMetrics } from '../engine/saga-metrics.js';
import type { TriggerWatcherOptionsInput } from '../trigger/trigger-watcher-options.js';
import { tracingOptionsSchema } from '../tracing/tracing-options.js';

/** What a `setup` function receives: the process's database (its `database` option) and a logger. */
export interface ServicesSetupContext {
  readonly db: Db;
  readonly logger: SagaLogger;
}

/** Forward steps of one saga a worker runs in a row in one job (worker.stepsPerJob). */
const DEFAULT_STEPS_PER_JOB = 32;

export const RUNTIME_ROLES = ['watcher', 'worker'] as const;
export type RuntimeRole = (typeof RUNTIME_ROLES)[number];

export const sagaRuntimeOptionsSchema = z.strictObject({
  mongodbUrl: mongodbUrlOption,
  database: databaseOption,
  redisUrl: redisUrlOption,
  queuePrefix: queuePrefixOption,
  registry: z
    .custom<SagaRegistry>(isSagaRegistry, { error: 'registry must be a SagaRegistry' })
    .transform(ownRegistry),
  /**
   * Compare each saga version's shape with the one stored in MongoDB for that name and version, and refuse to start
   * when it changed (`DEFINITION_CHANGED`: bump the version). Off, a changed shape is recorded as the version's
   * new one (`sagastream dev`). Default true.
   */
  checkDefinitions: z.boolean().default(true),
  /**
   * How long finished sagas are kept when their definition sets no `retention` of its own: `'7d'`, `'12h'`, or
   * `'off'` to keep them forever (SAGA_RETENTION in the CLI). Default 30 days.
   */
  retention: retentionSchema.default(DEFAULT_RETENTION_MS),
  /** Where the process logs (pino, or a logger with pino's methods); JSON lines at `info` on stdout when absent. */
  logger: z
    .custom<SagaLogger>(isSagaLogger, {
      error: 'logger must be a pino logger or one with the same methods (info, warn, error, …, child)',
    })
    .optional(),
  /**
   * What this process runs: `['watcher', 'worker']`, one of them, or `[]` for a process that only reads and
   * operates (an admin API). Required, so that a call with defaults never silently runs nothing.
   */
  roles: z
    .array(z.enum(RUNTIME_ROLES), {
      error: "roles names what this process runs: ['watcher'], ['worker'], both, or [] (neither)",
    })
    .transform((roles) => new Set(roles)),
  /**
   * OpenTelemetry tracing, one trace per saga (README, Tracing): on by default when @opentelemetry/api is installed,
   * a no-op otherwise. `{ enabled: false }` turns it off; `traceparentField` names the trigger document's field.
   */
  tracing: tracingOptionsSchema.prefault({}),
  /** The trigger watchers (each behind its own lease): see TriggerWatcherOptionsInput. */
  watcher: z.custom<Partial<TriggerWatcherOptionsInput>>((value) => typeof value === 'object').default({}),
  worker: z
    .strictObject({
      /** Step jobs run at once per saga queue. */
      concurrency: z.number().int().min(1).default(10),
      /** The sagas this worker serves; all when absent. */
      sagas: z.array(z.string().min(1)).optional(),
      /**
       * How long a stop waits for the steps in flight; the rest of a stop is bounded to about 3 s more, so the
       * default fits a 15 s stop (e.g. Kubernetes' or Compose's grace before SIGKILL) even while partitioned.
       */
      shutdownGrace: positiveDurationSchema.default(10_000),
      /** BullMQ's job lock and stalled-job check: a crashed worker's step re-runs after about their sum. */
      lockDuration: positiveDurationSchema.optional(),
      stalledInterval: positiveDurationSchema.optional(),
      /**
       * Forward steps of one saga a job runs in a row: after a step, the worker runs the saga's next step in the
       * same slot instead of queueing it (no BullMQ job is added, taken and finished for it). 1 queues every step.
       */
      stepsPerJob: z.number().int().min(1).default(DEFAULT_STEPS_PER_JOB),
    })
    .default({ concurrency: 10, shutdownGrace: 10_000, stepsPerJob: DEFAULT_STEPS_PER_JOB }),
  /**
   * How Redis connections notice that they are dead (see "Network partitions and dead connections" in the
   * README): a PING every `pingInterval` that must answer within `pingTimeout`, a handshake that must finish
   * within `handshakeTimeout`, and producer commands (queueing a job) that fail after `commandTimeout`.
   */
  redisHealth: z
    .strictObject({
      pingInterval: positiveDurationSchema.default(2_000),
      pingTimeout: positiveDurationSchema.default(3_000),
      handshakeTimeout: positiveDurationSchema.default(5_000),
      commandTimeout: positiveDurationSchema.default(5_000),
    })
    .default({ pingInterval: 2_000, pingTimeout: 3_000, handshakeTimeout: 5_000, commandTimeout: 5_000 }),
  /** The recovery sweeper that runs beside the watcher, behind a lease of its own. */
  sweeper: z
    .strictObject({
      interval: positiveDurationSchema.default(15_000),
      leaseTtl: positiveDurationSchema.default(15_000),
      batchSize: z.number().int().min(1).default(1_000),
      /** Times BullMQ may give up on a saga's job before the sweeper dead-letters it as stuck. */
      stuckAfter: z.number().int().min(1).default(3),
      /**
       * A saga that moved more recently than this has a worker on it (its next step's job is being added, or the
       * step starts in the same job): its missing job is restored only once it has been idle this long.
       */
      idleBeforeRestore: positiveDurationSchema.default(15_000),
    })
    .default({
      interval: 15_000,
      leaseTtl: 15_000,
      batchSize: 1_000,
      stuckAfter: 3,
      idleBeforeRestore: 15_000,
    }),
  /**
   * Where this process counts what it does: sagas started and ended, step durations and retries, watcher lag,
   * and (when the sink also has ConnectionMetrics' methods) its connections' states.
   * `new PrometheusSagaMetrics()` (served by `startMetricsServer`) or your own sink; nothing is counted without.
   */
  metrics: z.custom<SagaMetrics>((value) => typeof value === 'object' && value !== null).optional(),
  /** The services every step and compensation gets as `ctx.services` (clients, repositories). */
  services: z.unknown().optional(),
  /**
   * Builds the services once connected (a sagas module's `setup`); what it returns is `ctx.services` unless
   * `services` is given. It runs before any watcher starts a saga or any worker takes a job; if it throws,
   * nothing starts and `start` rejects with its error.
   */
  setup: z
    .custom<(context: ServicesSetupContext) => unknown>((value) => typeof value === 'function')
    .optional(),
});

export type SagaRuntimeOptions = z.input<typeof sagaRuntimeOptionsSchema>;
export type ResolvedSagaRuntimeOptions = z.output<typeof sagaRuntimeOptionsSchema>;
