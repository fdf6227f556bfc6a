// One step of a saga: the shape users write (typed by the saga's input and the earlier steps' outputs) and
// the resolved form the engine runs, with durations in milliseconds and the retry policy filled in.
import { z } from 'zod';
import { issuesToProblems } from './definition-problems.js';
import { positiveDurationSchema, type DurationInput } from './duration.js';
import {
  resolveRetryPolicy,
  retryPolicySchema,
  type ResolvedRetryPolicy,
  type RetryPolicyInput,
} from './retry-policy.js';
import type { StepGroup } from './parallel-group.js';
import type { CompensationContext, StepContext } from './step-context.js';
import { isWaitSpec, resolveWaitSpec, type ResolvedWait } from './wait-definition.js';
import { functionField, NAME_RULE, NAME_SHAPE, zodSchemaField } from './zod-schema-check.js';

export type AnyStepContext = StepContext<unknown, Readonly<Record<string, unknown>>>;
export type AnyCompensationContext = CompensationContext<unknown, Readonly<Record<string, unknown>>, unknown>;

export const stepSpecSchema = z.strictObject({
  name: z
    .string({ error: 'name must be a string' })
    .regex(NAME_SHAPE, { error: `name must be ${NAME_RULE}` }),
  run: functionField<(ctx: AnyStepContext) => Promise<unknown>>('run'),
  compensate: functionField<(ctx: AnyCompensationContext) => Promise<void>>('compensate').optional(),
  timeout: positiveDurationSchema.optional(),
  retry: retryPolicySchema.optional(),
  output: zodSchemaField('output').optional(),
});

interface StepSpecCommon<TName extends string> {
  /** Unique within the saga; shown in logs, job ids and idempotency keys. */
  readonly name: TName;
  /** Per attempt; default the saga's `defaults.timeout` (30s). */
  readonly timeout?: DurationInput;
  /** Merged field by field over the saga's `defaults.retry`. */
  readonly retry?: RetryPolicyInput;
}

/** A step whose `output` zod schema validates and types its result (what later steps see). */
export interface StepSpecWithSchema<
  TName extends string,
  TInput,
  TOutputs,
  TSchema extends z.ZodType,
  TServices = unknown,
> extends StepSpecCommon<TName> {
  readonly output: TSchema;
  /** Does the work; must be safe to repeat with the same `ctx.idempotencyKey`. */
  readonly run: (ctx: StepContext<TInput, TOutputs, TServices>) => Promise<z.input<TSchema>>;
  /** Undoes the work; called with this step's recorded output when a later step finally fails. */
  readonly compensate?: (
    ctx: CompensationContext<TInput, TOutputs, z.output<TSchema>, TServices>,
  ) => Promise<void>;
}

/** A step typed by what its `run` returns. Write `run` before `compensate` so `ctx.output` is inferred. */
export interface StepSpecWithoutSchema<
  TName extends string,
  TInput,
  TOutputs,
  TResult,
  TServices = unknown,
> extends StepSpecCommon<TName> {
  readonly output?: undefined;
  readonly run: (ctx: StepContext<TInput, TOutputs, TServices>) => Promise<TResult>;
  readonly compensate?: (ctx: CompensationContext<TInput, TOutputs, TResult, TServices>) => Promise<void>;
}

/** A step as written in the `steps: [...]` array form, where `ctx.outputs` is typed loosely. */
export interface LooseStepSpec<
  TName extends string,
  TInput,
  TOutputs,
  TServices = unknown,
> extends StepSpecCommon<TName> {
  readonly output?: z.ZodType;
  readonly run: (ctx: StepContext<TInput, TOutputs, TServices>) => Promise<unknown>;
  readonly compensate?: (ctx: CompensationContext<TInput, TOutputs, unknown, TServices>) => Promise<void>;
}

interface ResolvedStepBase {
  readonly name: string;
  /** Position in the saga, from 0; compensation walks completed steps from the highest index down. */
  readonly index: number;
  readonly compensate?: (ctx: AnyCompensationContext) => Promise<void>;
  /** Per attempt (of a wait: of entering it, which evaluates its `match` and stores it). */
  readonly timeoutMs: number;
  readonly retry: ResolvedRetryPolicy;
  /** Validates the result of `run` (of a wait: the matched document) before it is recorded (`parseStepOutput`). */
  readonly output?: z.ZodType;
  /** A member of a parallel group (parallel-group.ts): runs at the same time as the group's other members. */
  readonly group?: StepGroup;
}

/** A step that runs code. */
export interface ResolvedTaskStep extends ResolvedStepBase {
  readonly kind?: 'task';
  readonly run: (ctx: AnyStepContext) => Promise<unknown>;
}

/** A step that waits for a database change (wait-definition.ts). */
export interface ResolvedWaitStep extends ResolvedStepBase {
  readonly kind: 'wait';
  readonly wait: ResolvedWait;
}

/** A step as the engine runs it. */
export type ResolvedStep = ResolvedTaskStep | ResolvedWaitStep;

export interface StepDefaults {
  readonly timeoutMs: number;
  readonly retry: ResolvedRetryPolicy;
}

/** How a step is named in messages: by name when it has a usable one, else by position. */
export function stepLabel(spec: unknown, index: number): string {
  const name = (spec as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && name !== '' ? `step "${name}"` : `steps[${index}]`;
}

export function resolveStep(
  spec: unknown,
  index: number,
  defaults: StepDefaults,
): { step: ResolvedStep | undefined; problems: string[] } {
  const label = stepLabel(spec, index);
  if (isWaitSpec(spec)) return resolveWaitStep(spec, index, label, defaults);
  const parsed = stepSpecSchema.safeParse(spec);
  if (!parsed.success) return { step: undefined, problems: issuesToProblems(parsed.error, label) };
  const { name, run, compensate, timeout, retry, output } = parsed.data;
  const resolvedRetry = resolveRetryPolicy(retry, defaults.retry);
  const step: ResolvedTaskStep = {
    name,
    index,
    run,
    ...(compensate === undefined ? {} : { compensate }),
    timeoutMs: timeout ?? defaults.timeoutMs,
    retry: resolvedRetry.policy,
    ...(output === undefined ? {} : { output }),
  };
  return { step, problems: resolvedRetry.problems.map((problem) => `${label} retry.${problem}`) };
}

function resolveWaitStep(
  spec: unknown,
  index: number,
  label: string,
  defaults: StepDefaults,
): { step: ResolvedStep | undefined; problems: string[] } {
  const { parts, problems } = resolveWaitSpec(spec, label);
  if (!parts) return { step: undefined, problems };
  const step: ResolvedWaitStep = {
    kind: 'wait',
    name: parts.name,
    index,
    wait: parts.wait,
    ...(parts.compensate === undefined ? {} : { compensate: parts.compensate }),
    timeoutMs: defaults.timeoutMs,
    retry: defaults.retry,
    ...(parts.output === undefined ? {} : { output: parts.output }),
  };
  return { step, problems: [] };
}
