// Durations as users write them ('30s', '5m', 250) and the milliseconds the rest of sagastream works with.
import { z } from 'zod';
import { SagastreamError } from '../errors/sagastream-error.js';

export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

/** A number of milliseconds, or a number followed by a unit: `'250ms'`, `'30s'`, `'1.5s'`, `'5m'`, `'1h'`, `'1d'`. */
export type DurationInput = number | `${number}${DurationUnit}`;

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_SHAPE = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)$/;

/** Milliseconds for a valid duration, or undefined. Fractions are rounded to the nearest millisecond. */
function toMilliseconds(value: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof value === 'number') {
    ms = Number.isFinite(value) && value >= 0 ? value : undefined;
  } else if (typeof value === 'string') {
    const match = DURATION_SHAPE.exec(value.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) {
      ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
    }
  }
  if (ms === undefined || ms > Number.MAX_SAFE_INTEGER) return undefined;
  return Math.round(ms);
}

export function describeInvalidDuration(value: unknown): string {
  return `expected a duration like '30s', '5m' or a number of milliseconds, got ${describeValue(value)}`;
}

/** A value as an error message shows it: strings quoted, objects by their kind only. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Validates a `DurationInput` and outputs milliseconds: `durationSchema.parse('1.5s') === 1500`. */
export const durationSchema = z
  .custom<DurationInput>((value) => toMilliseconds(value) !== undefined, {
    error: (issue) => describeInvalidDuration(issue.input),
  })
  .transform((value) => toMilliseconds(value) ?? 0);

/**
 * Converts a duration to milliseconds.
 * @param label names the setting in the error message, e.g. `'step "reserve-stock" timeout'`.
 * @throws SagastreamError `INVALID_DURATION` when `value` is not a duration.
 */
export function parseDuration(value: unknown, label = 'duration'): number {
  const ms = toMilliseconds(value);
  if (ms === undefined) {
    throw new SagastreamError('INVALID_DURATION', `Invalid ${label}: ${describeInvalidDuration(value)}.`);
  }
  return ms;
}

/** A duration that must be longer than zero, such as a timeout. */
export const positiveDurationSchema = durationSchema.refine((ms) => ms > 0, {
  error: 'must be longer than 0 (a timeout of 0 would fail every attempt at once)',
});
