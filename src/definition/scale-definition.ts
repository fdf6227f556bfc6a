// Every duration of a saga multiplied by one factor: the testing kit's `timeScale`, so a saga written with 30 s
// timeouts and 1 s backoffs fails, retries and compensates in milliseconds without a second definition.
import type { ResolvedRetryPolicy } from './retry-policy.js';
import type { SagaDefinition } from './saga-definition.js';
import type { ResolvedStep } from './step-definition.js';

/**
 * `durationMs * factor`, rounded, and never below 1 ms: a zero timeout would abort an attempt at once and a zero
 * backoff is a different policy (no wait at all), neither of which the definition says.
 */
export function scaleDuration(durationMs: number, factor: number): number {
  return Math.max(1, Math.round(durationMs * factor));
}

export function scaleRetryPolicy(policy: ResolvedRetryPolicy, factor: number): ResolvedRetryPolicy {
  return Object.freeze({
    attempts: policy.attempts,
    backoff: Object.freeze({
      ...policy.backoff,
      delayMs: scaleDuration(policy.backoff.delayMs, factor),
      maxDelayMs: scaleDuration(policy.backoff.maxDelayMs, factor),
    }),
  });
}

function scaleStep(step: ResolvedStep, factor: number): ResolvedStep {
  const common = {
    timeoutMs: scaleDuration(step.timeoutMs, factor),
    retry: scaleRetryPolicy(step.retry, factor),
  };
  if (step.kind !== 'wait') return Object.freeze({ ...step, ...common });
  const { timeoutMs } = step.wait;
  return Object.freeze({
    ...step,
    ...common,
    wait: Object.freeze({
      ...step.wait,
      timeoutMs: timeoutMs === undefined ? undefined : scaleDuration(timeoutMs, factor),
    }),
  });
}

/**
 * A new frozen definition whose step timeouts, retry backoffs (delay and cap), compensation timeout and retry,
 * and saga deadline are multiplied by `factor`; names, attempts, jitter and code are the same.
 * @throws RangeError when `factor` is not a positive finite number.
 */
export function scaleDefinition<TInput>(
  definition: SagaDefinition<TInput>,
  factor: number,
): SagaDefinition<TInput> {
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new RangeError(`scaleDefinition: factor must be a positive finite number, got ${String(factor)}`);
  }
  return Object.freeze({
    ...definition,
    steps: Object.freeze(definition.steps.map((step) => scaleStep(step, factor))),
    timeoutMs: scaleDuration(definition.timeoutMs, factor),
    compensation: Object.freeze({
      timeoutMs: scaleDuration(definition.compensation.timeoutMs, factor),
      retry: scaleRetryPolicy(definition.compensation.retry, factor),
    }),
  });
}
