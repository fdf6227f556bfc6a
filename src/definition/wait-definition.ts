// A step that waits for a database change instead of running code: `.waitFor({ collection, match, timeout })`.
// The saga resumes when a document of `collection` matching `match(ctx)` is inserted, updated or replaced (or
// already exists when the wait begins); that document is the step's output.
import { z } from 'zod';
import type { Document, Filter } from 'mongodb';
import { issuesToProblems } from './definition-problems.js';
import { positiveDurationSchema, type DurationInput } from './duration.js';
import type { ResolvedRetryPolicy } from './retry-policy.js';
import type { CompensationContext } from './step-context.js';
import { functionField, NAME_RULE, NAME_SHAPE, zodSchemaField } from './zod-schema-check.js';

export const WAIT_OPERATIONS = ['insert', 'update', 'replace'] as const;
export type WaitOperation = (typeof WAIT_OPERATIONS)[number];

/** What a wait's `match` receives: the saga's input and the outputs of the steps before it. */
export interface WaitMatchContext<TInput = unknown, TOutputs = Record<string, unknown>, TServices = unknown> {
  readonly sagaId: string;
  readonly sagaName: string;
  /** This step's name. */
  readonly step: string;
  readonly input: TInput;
  readonly outputs: TOutputs;
  readonly services: TServices;
}

type AnyMatch = (ctx: WaitMatchContext<unknown, Readonly<Record<string, unknown>>>) => Filter<Document>;
type AnyWaitCompensate = (
  ctx: CompensationContext<unknown, Readonly<Record<string, unknown>>, unknown>,
) => Promise<void>;

export const waitSpecSchema = z.strictObject({
  name: z
    .string({ error: 'name must be a string' })
    .regex(NAME_SHAPE, { error: `name must be ${NAME_RULE}` }),
  collection: z.string({ error: 'collection must be a string' }).min(1, { error: 'collection is empty' }),
  database: z
    .string({ error: 'database must be a string' })
    .min(1, { error: 'database is empty' })
    .optional(),
  on: z
    .array(z.enum(WAIT_OPERATIONS, { error: `on lists ${WAIT_OPERATIONS.join(', ')}` }))
    .min(1, { error: 'on lists at least one operation' })
    .optional(),
  match: functionField<AnyMatch>('match'),
  timeout: positiveDurationSchema.optional(),
  onTimeout: z
    .enum(['compensate', 'continue'], { error: "onTimeout is 'compensate' or 'continue'" })
    .optional(),
  output: zodSchemaField('output').optional(),
  compensate: functionField<AnyWaitCompensate>('compensate').optional(),
});

/** The collection (in the configured database) where signals are kept until the wait they are for takes them. */
export const SIGNALS_COLLECTION = 'signals';

export const signalWaitSpecSchema = z.strictObject({
  name: waitSpecSchema.shape.name,
  signal: z
    .string({ error: 'signal must be a string' })
    .regex(NAME_SHAPE, { error: `signal must be ${NAME_RULE}` }),
  timeout: positiveDurationSchema.optional(),
  onTimeout: waitSpecSchema.shape.onTimeout,
  output: zodSchemaField('output').optional(),
  compensate: functionField<AnyWaitCompensate>('compensate').optional(),
});

/** What every wait step has: its name, how long it waits and what then, its output schema and compensation. */
interface WaitSpecCommon<TName extends string, TInput, TOutputs, TSchema, TOnTimeout, TServices, TOutput> {
  /** Unique within the saga. */
  readonly name: TName;
  /** How long the step waits; then `onTimeout`. Default: until the saga's deadline. */
  readonly timeout?: DurationInput;
  /** `compensate` (default): the saga compensates; `continue`: the step completes with output `null`. */
  readonly onTimeout?: TOnTimeout;
  /** Validates (and types) what ends the wait; a value it refuses fails the step for good. */
  readonly output?: TSchema;
  /** Undoes what ending the wait stands for, if anything; a wait without it is skipped by compensation. */
  readonly compensate?: (ctx: CompensationContext<TInput, TOutputs, TOutput, TServices>) => Promise<void>;
}

/**
 * A wait step ended by a signal sent to the saga (`handle.signal(name, data)`, `POST /api/sagas/:id/signals/:name`,
 * `sagastream signal`): the signal's data, validated by `output`, is the step's output. A signal sent before the
 * saga reaches the step is kept and used when it does.
 */
export interface SignalWaitSpec<
  TName extends string,
  TInput,
  TOutputs,
  TSchema extends z.ZodType | undefined,
  TOnTimeout extends 'compensate' | 'continue' = 'compensate',
  TServices = unknown,
> extends WaitSpecCommon<
  TName,
  TInput,
  TOutputs,
  TSchema,
  TOnTimeout,
  TServices,
  SignalOutput<TSchema, TOnTimeout>
> {
  /** The signal's name. */
  readonly signal: string;
}

/** What a signal wait records: the signal's data, or null after a `continue`. */
export type SignalOutput<TSchema extends z.ZodType | undefined, TOnTimeout> =
  (TSchema extends z.ZodType ? z.output<TSchema> : unknown) | (TOnTimeout extends 'continue' ? null : never);

/** A wait step as users write it, typed by the saga's input, the earlier outputs and its `output` schema. */
export interface WaitSpec<
  TName extends string,
  TInput,
  TOutputs,
  TSchema extends z.ZodType | undefined,
  TOnTimeout extends 'compensate' | 'continue' = 'compensate',
  TServices = unknown,
> extends WaitSpecCommon<
  TName,
  TInput,
  TOutputs,
  TSchema,
  TOnTimeout,
  TServices,
  WaitOutput<TSchema, TOnTimeout>
> {
  /** The collection whose documents resume the saga (in the configured database unless `database` is set). */
  readonly collection: string;
  readonly database?: string;
  /** Which changes count; default all three. */
  readonly on?: readonly WaitOperation[];
  /**
   * A MongoDB filter on the document, from the saga's state, e.g.
   * `(ctx) => ({ orderId: ctx.input.orderId, status: 'captured' })`. It needs at least one top-level field compared
   * for equality (a plain value or `$eq`): waits are looked up by it.
   */
  readonly match: (ctx: WaitMatchContext<TInput, TOutputs, TServices>) => Filter<Document>;
}

/** The output a wait step records: the matched document (as its schema outputs it), or null after a `continue`. */
export type WaitOutput<TSchema extends z.ZodType | undefined, TOnTimeout> =
  (TSchema extends z.ZodType ? z.output<TSchema> : Document) | (TOnTimeout extends 'continue' ? null : never);

/** A wait as the engine runs it. */
export interface ResolvedWait {
  readonly collection: string;
  readonly database: string | undefined;
  readonly on: readonly WaitOperation[];
  readonly match: AnyMatch;
  /** Absent: the saga's deadline ends the wait. */
  readonly timeoutMs: number | undefined;
  readonly onTimeout: 'compensate' | 'continue';
  /** A signal wait: the signal's name (its documents are in SIGNALS_COLLECTION; the output is their `data`). */
  readonly signal?: string;
}

/** Whether a step spec is a wait (it names a collection or a match instead of a `run`). */
export function isWaitSpec(spec: unknown): boolean {
  return (
    typeof spec === 'object' && spec !== null && ('match' in spec || 'collection' in spec || 'signal' in spec)
  );
}

export interface WaitStepParts {
  name: string;
  wait: ResolvedWait;
  output: z.ZodType | undefined;
  compensate: AnyWaitCompensate | undefined;
}

/** Validates a wait spec; `label` names it in problems. */
export function resolveWaitSpec(
  spec: unknown,
  label: string,
): { parts: WaitStepParts | undefined; problems: string[] } {
  if (typeof spec === 'object' && spec !== null && 'signal' in spec) return resolveSignalSpec(spec, label);
  const parsed = waitSpecSchema.safeParse(spec);
  if (!parsed.success) return { parts: undefined, problems: issuesToProblems(parsed.error, label) };
  const { name, collection, database, on, match, timeout, onTimeout, output, compensate } = parsed.data;
  return {
    parts: {
      name,
      wait: Object.freeze({
        collection,
        database,
        on: Object.freeze([...(on ?? WAIT_OPERATIONS)]),
        match,
        timeoutMs: timeout,
        onTimeout: onTimeout ?? 'compensate',
      }),
      output,
      compensate,
    },
    problems: [],
  };
}

function resolveSignalSpec(
  spec: object,
  label: string,
): { parts: WaitStepParts | undefined; problems: string[] } {
  const parsed = signalWaitSpecSchema.safeParse(spec);
  if (!parsed.success) return { parts: undefined, problems: issuesToProblems(parsed.error, label) };
  const { name, signal, timeout, onTimeout, output, compensate } = parsed.data;
  return {
    parts: {
      name,
      wait: Object.freeze({
        collection: SIGNALS_COLLECTION,
        database: undefined,
        on: Object.freeze(['insert'] as const),
        match: (ctx: WaitMatchContext) => ({ sagaId: ctx.sagaId, name: signal }),
        timeoutMs: timeout,
        onTimeout: onTimeout ?? 'compensate',
        signal,
      }),
      output,
      compensate,
    },
    problems: [],
  };
}

/** A wait is entered by one short attempt (its `match` and one write), retried like a step's. */
export interface WaitEntryDefaults {
  readonly timeoutMs: number;
  readonly retry: ResolvedRetryPolicy;
}
