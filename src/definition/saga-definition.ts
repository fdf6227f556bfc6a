// The resolved saga model the engine consumes, and the one function that validates a whole definition.
import { z } from 'zod';
import { SagastreamError } from '../errors/sagastream-error.js';
import { invalidDefinitionError, issuesToProblems } from './definition-problems.js';
import { positiveDurationSchema, type DurationInput } from './duration.js';
import {
  DEFAULT_RETRY_POLICY,
  resolveRetryPolicy,
  retryPolicySchema,
  type ResolvedRetryPolicy,
  type RetryPolicyInput,
  type RetryPolicyOutput,
} from './retry-policy.js';
import { retentionSchema, type Retention, type RetentionInput } from './retention.js';
import { flattenSteps, type FlatStep } from './parallel-group.js';
import { resolveStep, stepLabel, type ResolvedStep } from './step-definition.js';
import { findFilterProblems } from './trigger-filter.js';
import {
  checkedTriggerKey,
  legacyKeyFor,
  triggerSchema,
  type ResolvedTrigger,
  type TriggerSpec,
} from './trigger.js';
import { NAME_RULE, NAME_SHAPE, zodSchemaField } from './zod-schema-check.js';

export const DEFAULT_SAGA_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_STEP_TIMEOUT_MS = 30_000;
export const DEFAULT_COMPENSATION_TIMEOUT_MS = 60_000;

const timeoutAndRetrySchema = (defaultTimeoutMs: number) =>
  z
    .strictObject({
      timeout: positiveDurationSchema.optional(),
      retry: retryPolicySchema.optional(),
    })
    .optional()
    .transform((value) => ({ timeoutMs: value?.timeout ?? defaultTimeoutMs, retry: value?.retry }));

/** Everything in a saga spec except its steps; `input` and `trigger.key` are checked by shape only. */
export const sagaOptionsSchema = z.strictObject({
  name: z
    .string({ error: 'name must be a string' })
    .regex(NAME_SHAPE, { error: `name must be ${NAME_RULE}` }),
  version: z
    .number({ error: 'version must be a number' })
    .int({ error: 'version must be a whole number' })
    .min(1, { error: 'version must be at least 1' })
    .default(1),
  trigger: triggerSchema.optional(),
  input: zodSchemaField('input'),
  // A type witness only (`{} as { payments: Payments }`): the services themselves come from the process.
  services: z.unknown().optional(),
  steps: z.array(z.unknown(), { error: 'steps must be an array of steps' }).optional(),
  timeout: positiveDurationSchema.optional().transform((ms) => ms ?? DEFAULT_SAGA_TIMEOUT_MS),
  compensation: timeoutAndRetrySchema(DEFAULT_COMPENSATION_TIMEOUT_MS),
  defaults: timeoutAndRetrySchema(DEFAULT_STEP_TIMEOUT_MS),
  retention: retentionSchema.optional(),
});

/** The saga-level options as users write them (the generic parts are typed by `SagaSpec`). */
export interface SagaOptionsSpec<TSchema extends z.ZodType, TServices = unknown> {
  /** Unique among the sagas of a deployment. */
  readonly name: string;
  /** Stored with each saga instance; bump it when steps change incompatibly. Default 1. */
  readonly version?: number;
  /** Which change events start a saga; without one the saga is started from code only (`SagaClient.start`). */
  readonly trigger?: TriggerSpec;
  /** Validates the trigger document (or the input given to `SagaClient.start`); its output type is `ctx.input` in every step. */
  readonly input: TSchema;
  /**
   * The type of `ctx.services` in this saga's steps, declared with a value that is only a type witness:
   * `services: {} as { payments: Payments }`. The services come from the process: the sagas module's `setup`
   * returns them, or `SagaRuntime.start({ services })` / the testing kit is given them.
   */
  readonly services?: TServices;
  /** The saga's deadline from its start; when it passes the saga compensates. Default '5m'. */
  readonly timeout?: DurationInput;
  /** Per compensation attempt: timeout default '60s'; retry default 3 attempts, exponential from 1s. */
  readonly compensation?: { readonly timeout?: DurationInput; readonly retry?: RetryPolicyInput };
  /** For every step that does not set its own: timeout default '30s'; retry default as for compensation. */
  readonly defaults?: { readonly timeout?: DurationInput; readonly retry?: RetryPolicyInput };
  /**
   * How long a finished saga (completed, compensated; failed or rejected once its dead letter is discarded) is
   * kept before MongoDB's TTL monitor removes it: `'7d'`, `'12h'`, or `'off'` to keep it forever. Default: the
   * process's SAGA_RETENTION, else 30 days. Not part of the version's shape: changing it needs no new version.
   */
  readonly retention?: RetentionInput;
}

/** A validated saga with every default filled in; what the registry, watcher and engine work with. */
export interface SagaDefinition<TInput = unknown> {
  readonly name: string;
  readonly version: number;
  /** Absent for a saga that is started from code only. */
  readonly trigger: ResolvedTrigger | undefined;
  /** Parse trigger documents with `parseSagaInput`. */
  readonly input: z.ZodType<TInput>;
  readonly steps: readonly ResolvedStep[];
  readonly timeoutMs: number;
  readonly compensation: { readonly timeoutMs: number; readonly retry: ResolvedRetryPolicy };
  /** Milliseconds a finished saga is kept, or `'off'`; undefined: the process's default (SAGA_RETENTION). */
  readonly retention: Retention | undefined;
}

/**
 * Validates a saga spec and its steps and resolves them into a frozen `SagaDefinition`.
 * @throws SagastreamError `INVALID_DEFINITION` listing every problem found.
 */
export function resolveSagaDefinition<TInput>(
  spec: unknown,
  steps: readonly unknown[],
): SagaDefinition<TInput> {
  const sagaName = (spec as { name?: unknown } | null | undefined)?.name;
  const parsed = sagaOptionsSchema.safeParse(spec);
  const problems = parsed.success ? [] : issuesToProblems(parsed.error, '');
  const rawFilter = (spec as { trigger?: { filter?: unknown } } | null | undefined)?.trigger?.filter;
  if (rawFilter !== undefined) problems.push(...findFilterProblems(rawFilter, 'trigger.filter'));

  const options = parsed.success ? parsed.data : undefined;
  const stepRetry = resolveRetryPolicy(
    options?.defaults.retry ?? retryPolicyOnItsOwn(spec, 'defaults'),
    DEFAULT_RETRY_POLICY,
  );
  const compensationRetry = resolveRetryPolicy(
    options?.compensation.retry ?? retryPolicyOnItsOwn(spec, 'compensation'),
    DEFAULT_RETRY_POLICY,
  );
  problems.push(...stepRetry.problems.map((problem) => `defaults.retry.${problem}`));
  problems.push(...compensationRetry.problems.map((problem) => `compensation.retry.${problem}`));
  const { flat, problems: groupProblems } = flattenSteps(steps);
  problems.push(...groupProblems);
  problems.push(...checkSteps(steps, flat));

  const stepDefaults = {
    timeoutMs: options?.defaults.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
    retry: stepRetry.policy,
  };
  const resolvedSteps = flat.map(({ spec: step, group }, index) => {
    const resolved = resolveStep(step, index, stepDefaults);
    problems.push(...resolved.problems);
    return resolved.step && group ? { ...resolved.step, group: Object.freeze({ ...group }) } : resolved.step;
  });

  if (options === undefined || problems.length > 0) throw invalidDefinitionError(sagaName, problems);
  const { name, version, trigger, input, timeout, compensation, retention } = options;
  const definition: SagaDefinition<TInput> = {
    name,
    version,
    trigger:
      trigger === undefined
        ? undefined
        : Object.freeze({
            collection: trigger.collection,
            database: trigger.database,
            on: Object.freeze(trigger.on),
            filter: Object.freeze({ ...((rawFilter ?? {}) as Record<string, unknown>) }),
            key: checkedTriggerKey(name, trigger.key),
            legacyKey: legacyKeyFor(trigger.key),
            partitions: trigger.partitions,
          }),
    // Shape-checked above; the type parameter is what defineSaga inferred from the same schema.
    input: input as z.ZodType<TInput>,
    steps: Object.freeze(
      resolvedSteps.filter((step) => step !== undefined).map((step) => Object.freeze(step)),
    ),
    timeoutMs: timeout,
    compensation: Object.freeze({ timeoutMs: compensation.timeoutMs, retry: compensationRetry.policy }),
    retention,
  };
  return Object.freeze(definition);
}

/** When other options are invalid, the retry policies are still resolved so their problems are listed too. */
function retryPolicyOnItsOwn(
  spec: unknown,
  section: 'defaults' | 'compensation',
): RetryPolicyOutput | undefined {
  const retry = (spec as Record<string, { retry?: unknown } | undefined> | null | undefined)?.[section]
    ?.retry;
  const parsed = retryPolicySchema.safeParse(retry);
  return parsed.success ? parsed.data : undefined;
}

/** Step names (members' included) and group names share one namespace: each names one thing in outputs and views. */
function checkSteps(steps: readonly unknown[], flat: readonly FlatStep[]): string[] {
  if (steps.length === 0) {
    return ['steps: a saga needs at least one step; add them with .step({ name, run }) or steps: [...]'];
  }
  const problems: string[] = [];
  const firstIndexByName = new Map<string, number>();
  flat.forEach(({ spec: step }, index) => {
    const name = (step as { name?: unknown } | null | undefined)?.name;
    if (typeof name !== 'string') return;
    const first = firstIndexByName.get(name);
    if (first === undefined) firstIndexByName.set(name, index);
    else {
      problems.push(
        `${stepLabel(step, index)}: the name is already used by steps[${first}]; step names must be unique`,
      );
    }
  });
  const groups = new Set<string>();
  for (const [index, { group }] of flat.entries()) {
    if (group?.first !== index) continue;
    if (groups.has(group.name) || firstIndexByName.has(group.name)) {
      problems.push(
        `parallel group "${group.name}": the name is already used; group and step names must be unique`,
      );
    }
    groups.add(group.name);
  }
  return problems;
}

/** A saga with a trigger: what the trigger watcher follows. */
export type TriggeredSagaDefinition<TInput = unknown> = SagaDefinition<TInput> & {
  readonly trigger: ResolvedTrigger;
};

export function hasTrigger<TInput>(
  definition: SagaDefinition<TInput>,
): definition is TriggeredSagaDefinition<TInput> {
  return definition.trigger !== undefined;
}

/** The definition, known to have a trigger. @throws SagastreamError `INVALID_STATE` for one started from code only. */
export function requireTrigger<TInput>(definition: SagaDefinition<TInput>): TriggeredSagaDefinition<TInput> {
  if (hasTrigger(definition)) return definition;
  throw new SagastreamError(
    'INVALID_STATE',
    `saga "${definition.name}" has no trigger: it is started from code only (SagaClient.start)`,
  );
}
