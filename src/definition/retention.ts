// How long a finished saga is kept: a definition's `retention`, else the process's (SAGA_RETENTION), else 30 days.
// The engine writes `expiresAt` in the update that ends a saga; a TTL index on it removes the document later.
import { z } from 'zod';
import { SagastreamError } from '../errors/sagastream-error.js';
import { describeValue, durationSchema, type DurationInput } from './duration.js';

/** A duration (`'30d'`, `'12h'`, ms), or `'off'` to keep finished sagas forever. */
export type RetentionInput = DurationInput | 'off';

/** Milliseconds a finished saga is kept, or `'off'`. */
export type Retention = number | 'off';

export const DEFAULT_RETENTION_MS = 30 * 86_400_000;

/** A retention of 0 would delete a saga as it ends, before anyone could look at its outcome. */
const MIN_RETENTION_MS = 1_000;

const RETENTION_RULE = "a duration of at least 1s like '30d', '12h', '5m' or '30s', or 'off'";

/** Milliseconds or `'off'` for a valid retention, else undefined. */
function toRetention(value: unknown): Retention | undefined {
  if (value === 'off') return 'off';
  const parsed = durationSchema.safeParse(value);
  return parsed.success && parsed.data >= MIN_RETENTION_MS ? parsed.data : undefined;
}

/** The error text for a value that is no retention, naming the value. */
export function describeInvalidRetention(value: unknown): string {
  return `expected ${RETENTION_RULE}, got ${describeValue(value)}`;
}

/** Validates a `RetentionInput` and outputs milliseconds or `'off'`: `retentionSchema.parse('1d') === 86400000`. */
export const retentionSchema = z
  .custom<RetentionInput>((value) => toRetention(value) !== undefined, {
    error: (issue) => describeInvalidRetention(issue.input),
  })
  .transform((value): Retention => toRetention(value) ?? 'off');

/**
 * Parses a retention as the environment or a CLI flag gives it.
 * @throws SagastreamError `INVALID_DURATION` naming `label` and the value.
 */
export function parseRetention(value: unknown, label = 'retention'): Retention {
  const retention = toRetention(typeof value === 'string' ? value.trim() : value);
  if (retention !== undefined) return retention;
  throw new SagastreamError('INVALID_DURATION', `Invalid ${label}: ${describeInvalidRetention(value)}.`);
}

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** `'30d'`, `'12h'`, `'90s'`, `'1500ms'` or `'off'`: the largest unit that divides it, for ready lines and logs. */
export function formatRetention(retention: Retention): string {
  if (retention === 'off') return 'off';
  for (const [unit, ms] of UNITS) if (retention % ms === 0) return `${retention / ms}${unit}`;
  return `${retention}ms`;
}

/**
 * The retention of a process for its ready line: `30d`, or `30d (payments: 7d, audit: off)` when definitions set
 * their own, naming the versions of a saga whose retentions differ (`payments v1: 7d, payments v2: 30d`).
 */
export function describeRetentions(
  defaultRetention: Retention,
  definitions: readonly {
    readonly name: string;
    readonly version: number;
    readonly retention?: Retention | undefined;
  }[],
): string {
  const overrides: string[] = [];
  const names = [...new Set(definitions.map((definition) => definition.name))];
  for (const name of names) {
    const versions = definitions.filter((definition) => definition.name === name);
    if (versions.every((definition) => definition.retention === undefined)) continue;
    const shown = versions.map((definition) => formatRetention(definition.retention ?? defaultRetention));
    if (shown.every((retention) => retention === shown[0])) overrides.push(`${name}: ${shown[0]}`);
    else
      versions.forEach((definition, index) =>
        overrides.push(`${name} v${definition.version}: ${shown[index]}`),
      );
  }
  const base = formatRetention(defaultRetention);
  return overrides.length === 0 ? base : `${base} (${overrides.join(', ')})`;
}

/** When a saga that ended (or whose dead letter was discarded) at `at` expires; undefined when kept forever. */
export function expiryAfter(retention: Retention, at: Date): Date | undefined {
  return retention === 'off' ? undefined : new Date(at.getTime() + retention);
}

/** A saga's definition as far as retention goes: its own setting, if any. */
interface RetentionOwner {
  readonly retention?: Retention | undefined;
}

/**
 * The retention of each saga of a process: its definition's own, else the process default. Sagas whose version is
 * not loaded here get the default.
 */
export class RetentionPolicy {
  constructor(
    readonly defaultRetention: Retention = DEFAULT_RETENTION_MS,
    private readonly definitionOf: (saga: string, version: number) => RetentionOwner | undefined = () =>
      undefined,
  ) {}

  of(saga: { readonly saga: string; readonly version?: number | null | undefined }): Retention {
    return this.definitionOf(saga.saga, saga.version ?? 1)?.retention ?? this.defaultRetention;
  }

  /** The `expiresAt` of `saga` ending at `at`; undefined with retention off. */
  expiresAt(
    saga: { readonly saga: string; readonly version?: number | null | undefined },
    at: Date,
  ): Date | undefined {
    return expiryAfter(this.of(saga), at);
  }
}
