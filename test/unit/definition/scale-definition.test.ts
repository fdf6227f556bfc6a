import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import { backoffDelay } from '../../../src/definition/retry-policy.js';
import { scaleDefinition, scaleDuration } from '../../../src/definition/scale-definition.js';

const run = () => Promise.resolve({ ok: true });
const compensate = () => Promise.resolve();

const saga = defineSaga({
  name: 'charge-order',
  version: 3,
  trigger: { collection: 'orders', filter: { status: 'placed' } },
  input: z.object({ total: z.number() }),
  timeout: '5m',
  defaults: { retry: { attempts: 4, backoff: { delay: '1s', maxDelay: '1m', jitter: 0.5 } } },
  compensation: { timeout: '60s', retry: { attempts: 2, backoff: { type: 'fixed', delay: '2s' } } },
})
  .step({ name: 'charge', timeout: '30s', run, compensate })
  .step({ name: 'notify', timeout: '5s', retry: { attempts: 1 }, run })
  .build();

describe('scaleDuration', () => {
  it('multiplies and rounds to whole milliseconds', () => {
    expect(scaleDuration(30_000, 0.01)).toBe(300);
    expect(scaleDuration(1_000, 0.0125)).toBe(13);
    expect(scaleDuration(1_000, 3)).toBe(3_000);
  });

  it('keeps at least 1 ms, so no timeout or backoff becomes zero', () => {
    expect(scaleDuration(30, 0.001)).toBe(1);
    expect(scaleDuration(1, 1e-9)).toBe(1);
  });
});

describe('scaleDefinition', () => {
  const scaled = scaleDefinition(saga, 0.01);

  it('multiplies the saga deadline, every step timeout and backoff, and the compensation timeout and backoff', () => {
    expect(scaled.timeoutMs).toBe(3_000);
    expect(scaled.steps.map((step) => step.timeoutMs)).toEqual([300, 50]);
    expect(scaled.steps[0]?.retry).toEqual({
      attempts: 4,
      backoff: { type: 'exponential', delayMs: 10, maxDelayMs: 600, jitter: 0.5 },
    });
    expect(scaled.steps[1]?.retry).toEqual({
      attempts: 1,
      backoff: { type: 'exponential', delayMs: 10, maxDelayMs: 600, jitter: 0.5 },
    });
    expect(scaled.compensation).toEqual({
      timeoutMs: 600,
      retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 20, maxDelayMs: 600, jitter: 0 } },
    });
  });

  it('scales the delays backoffDelay computes from the policy, cap included', () => {
    const policy = scaled.steps[0]!.retry;
    const noJitter = () => 0;
    expect([1, 2, 3, 8].map((attempt) => backoffDelay(policy, attempt, noJitter))).toEqual([10, 20, 40, 600]);
  });

  it('keeps names, version, trigger, input, attempts and the step functions', () => {
    expect(scaled.name).toBe('charge-order');
    expect(scaled.version).toBe(3);
    expect(scaled.trigger).toBe(saga.trigger);
    expect(scaled.input).toBe(saga.input);
    const runOf = (step: (typeof scaled.steps)[number]) => (step.kind === 'wait' ? undefined : step.run);
    expect(scaled.steps.map((step) => [step.name, step.index, runOf(step), step.compensate])).toEqual([
      ['charge', 0, run, compensate],
      ['notify', 1, run, undefined],
    ]);
  });

  it('returns a new frozen definition and leaves the original as it was', () => {
    expect(scaled).not.toBe(saga);
    expect(Object.isFrozen(scaled)).toBe(true);
    expect(Object.isFrozen(scaled.steps)).toBe(true);
    expect(Object.isFrozen(scaled.steps[0])).toBe(true);
    expect(Object.isFrozen(scaled.steps[0]?.retry.backoff)).toBe(true);
    expect(Object.isFrozen(scaled.compensation.retry)).toBe(true);
    expect(saga.timeoutMs).toBe(300_000);
    expect(saga.steps[0]?.timeoutMs).toBe(30_000);
    expect(saga.steps[0]?.retry.backoff.delayMs).toBe(1_000);
    expect(saga.compensation.timeoutMs).toBe(60_000);
  });

  it('also slows a saga down with a factor above 1', () => {
    expect(scaleDefinition(saga, 2).steps[0]?.timeoutMs).toBe(60_000);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses the factor %s', (factor) => {
    expect(() => scaleDefinition(saga, factor)).toThrow(/factor must be a positive finite number/);
  });
});
