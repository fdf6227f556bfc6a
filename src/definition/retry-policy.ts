// Retry policies: what users write (partial, durations as text), what the engine gets (complete, in ms),
// and the delay before the next attempt.
import { z } from 'zod';
import { durationSchema } from './duration.js';

export type BackoffType = 'exponential' | 'fixed';

export interface ResolvedBackoff {
  readonly type: BackoffType;
  readonly delayMs: number;
  /** Upper bound of an exponential delay; not used by `fixed`. */
  readonly maxDelayMs: number;
  /** Fraction in 0..1 by which a delay may be randomly shortened (0 = none). */
  readonly jitter: number;
}

export interface ResolvedRetryPolicy {
  /** Total attempts including the first; 1 means no retries. */
  readonly attempts: number;
  readonly backoff: ResolvedBackoff;
}

/** `jitter: true` shortens each delay by up to half ("equal jitter"); a number picks the fraction. */
export const TRUE_JITTER = 0.5;

const JITTER_RULE = 'jitter must be true, false or a fraction from 0 to 1';

export const backoffSchema = z.object({
  type: z
    .enum(['exponential', 'fixed'], { error: "backoff type must be 'exponential' or 'fixed'" })
    .optional(),
  delay: durationSchema.optional(),
  maxDelay: durationSchema.optional(),
  jitter: z
    .union([z.boolean(), z.number().min(0, { error: JITTER_RULE }).max(1, { error: JITTER_RULE })], {
      error: JITTER_RULE,
    })
    .optional(),
});

/** Every field is optional: what is left out comes from the saga's (or sagastream's) defaults. */
export const retryPolicySchema = z.object({
  attempts: z
    .number({ error: 'attempts must be a number' })
    .int({ error: 'attempts must be a whole number' })
    .min(1, { error: 'attempts must be at least 1 (1 means no retries)' })
    .optional(),
  backoff: backoffSchema.optional(),
});

export type RetryPolicyInput = z.input<typeof retryPolicySchema>;
export type RetryPolicyOutput = z.output<typeof retryPolicySchema>;

/** 3 attempts, waiting 1s then 2s (exponential, capped at 1m), no jitter. */
export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = Object.freeze({
  attempts: 3,
  backoff: Object.freeze({ type: 'exponential', delayMs: 1000, maxDelayMs: 60_000, jitter: 0 }),
});

/**
 * Fills a parsed policy from `base` field by field. Returns the problems instead when the result is
 * inconsistent (an explicit `maxDelay` shorter than the delay).
 */
export function resolveRetryPolicy(
  policy: RetryPolicyOutput | undefined,
  base: ResolvedRetryPolicy,
): { policy: ResolvedRetryPolicy; problems: string[] } {
  const backoff = policy?.backoff;
  const delayMs = backoff?.delay ?? base.backoff.delayMs;
  const type = backoff?.type ?? base.backoff.type;
  const problems: string[] = [];
  if (backoff?.maxDelay !== undefined && type === 'exponential' && backoff.maxDelay < delayMs) {
    problems.push(
      `backoff.maxDelay (${backoff.maxDelay} ms) is shorter than backoff.delay (${delayMs} ms); ` +
        'raise maxDelay or lower delay',
    );
  }
  const jitter = backoff?.jitter === undefined ? base.backoff.jitter : jitterFraction(backoff.jitter);
  return {
    policy: {
      attempts: policy?.attempts ?? base.attempts,
      backoff: {
        type,
        delayMs,
        // An inherited cap never undercuts a delay the user chose.
        maxDelayMs: backoff?.maxDelay ?? Math.max(base.backoff.maxDelayMs, delayMs),
        jitter,
      },
    },
    problems,
  };
}

function jitterFraction(jitter: boolean | number): number {
  if (typeof jitter === 'number') return jitter;
  return jitter ? TRUE_JITTER : 0;
}

/**
 * Milliseconds to wait before the next attempt, after attempt `attemptNumber` (1-based) failed.
 * fixed: `delayMs`; exponential: `delayMs * 2^(attemptNumber-1)` capped at `maxDelayMs`; then jitter `j`
 * multiplies by a random factor in [1-j, 1].
 */
export function backoffDelay(
  policy: ResolvedRetryPolicy,
  attemptNumber: number,
  random: () => number = Math.random,
): number {
  const { type, delayMs, maxDelayMs, jitter } = policy.backoff;
  const exponent = Math.max(0, Math.floor(attemptNumber) - 1);
  // 2 ** large is Infinity, which the cap turns back into maxDelayMs.
  const base = type === 'fixed' ? delayMs : Math.min(delayMs * 2 ** exponent, Math.max(maxDelayMs, delayMs));
  if (jitter <= 0) return Math.round(base);
  const factor = 1 - Math.min(1, jitter) * Math.min(1, Math.max(0, random()));
  return Math.round(base * factor);
}
