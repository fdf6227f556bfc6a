import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  resolveRetryPolicy,
  retryPolicySchema,
  type ResolvedRetryPolicy,
} from '../../../src/definition/retry-policy.js';

/** mulberry32: a small seeded generator so jitter tests are reproducible. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function policy(backoff: Partial<ResolvedRetryPolicy['backoff']>): ResolvedRetryPolicy {
  return {
    attempts: 5,
    backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000, jitter: 0, ...backoff },
  };
}

describe('backoffDelay', () => {
  it('doubles exponential delays from delayMs', () => {
    const exponential = policy({});
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(exponential, attempt))).toEqual([
      1000, 2000, 4000, 8000, 16_000,
    ]);
  });

  it('caps exponential delays at maxDelayMs, even for huge attempt numbers', () => {
    const capped = policy({ maxDelayMs: 5000 });
    expect(backoffDelay(capped, 3)).toBe(4000);
    expect(backoffDelay(capped, 4)).toBe(5000);
    expect(backoffDelay(capped, 5000)).toBe(5000);
  });

  it('treats attempt numbers below 1 as the first attempt', () => {
    expect(backoffDelay(policy({}), 0)).toBe(1000);
  });

  it('keeps fixed delays constant', () => {
    const fixed = policy({ type: 'fixed', delayMs: 750, maxDelayMs: 100 });
    expect([1, 2, 10].map((attempt) => backoffDelay(fixed, attempt))).toEqual([750, 750, 750]);
  });

  it('applies jitter within [1-j, 1] of the delay', () => {
    const random = seededRandom(42);
    const jittered = policy({ jitter: 0.3 });
    const delays = Array.from({ length: 1000 }, () => backoffDelay(jittered, 2, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1400);
    expect(Math.max(...delays)).toBeLessThanOrEqual(2000);
    expect(new Set(delays).size).toBeGreaterThan(100);
    expect(backoffDelay(jittered, 2, () => 0)).toBe(2000);
    expect(backoffDelay(jittered, 2, () => 1)).toBe(1400);
  });

  it('full jitter can shorten a delay down to 0', () => {
    expect(backoffDelay(policy({ jitter: 1 }), 1, () => 1)).toBe(0);
  });
});

describe('resolveRetryPolicy', () => {
  it('fills everything from the base policy', () => {
    expect(resolveRetryPolicy(undefined, DEFAULT_RETRY_POLICY)).toEqual({
      policy: {
        attempts: 3,
        backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000, jitter: 0 },
      },
      problems: [],
    });
  });

  it('overrides field by field and converts durations and jitter', () => {
    const parsed = retryPolicySchema.parse({
      attempts: 5,
      backoff: { type: 'fixed', delay: '2s', jitter: true },
    });
    expect(resolveRetryPolicy(parsed, DEFAULT_RETRY_POLICY).policy).toEqual({
      attempts: 5,
      backoff: { type: 'fixed', delayMs: 2000, maxDelayMs: 60_000, jitter: 0.5 },
    });
    const onlyAttempts = retryPolicySchema.parse({ attempts: 1 });
    expect(resolveRetryPolicy(onlyAttempts, DEFAULT_RETRY_POLICY).policy.backoff).toEqual(
      DEFAULT_RETRY_POLICY.backoff,
    );
  });

  it('never lets an inherited cap undercut a chosen delay', () => {
    const parsed = retryPolicySchema.parse({ backoff: { delay: '2m' } });
    expect(resolveRetryPolicy(parsed, DEFAULT_RETRY_POLICY).policy.backoff.maxDelayMs).toBe(120_000);
  });

  it('reports an explicit maxDelay shorter than the delay', () => {
    const parsed = retryPolicySchema.parse({ backoff: { delay: '10s', maxDelay: '1s' } });
    expect(resolveRetryPolicy(parsed, DEFAULT_RETRY_POLICY).problems).toEqual([
      'backoff.maxDelay (1000 ms) is shorter than backoff.delay (10000 ms); raise maxDelay or lower delay',
    ]);
  });

  it('refuses attempts below 1, fractional attempts and jitter outside 0..1', () => {
    const messages = (value: unknown) =>
      retryPolicySchema.safeParse(value).error?.issues.map((issue) => issue.message) ?? [];
    expect(messages({ attempts: 0 })).toEqual(['attempts must be at least 1 (1 means no retries)']);
    expect(messages({ attempts: 1.5 })).toEqual(['attempts must be a whole number']);
    expect(messages({ backoff: { jitter: 2 } })).toEqual([
      'jitter must be true, false or a fraction from 0 to 1',
    ]);
    expect(messages({ backoff: { type: 'linear' } })).toEqual([
      "backoff type must be 'exponential' or 'fixed'",
    ]);
  });
});
