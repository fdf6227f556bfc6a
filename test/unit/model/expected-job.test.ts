import { describe, expect, it } from 'vitest';
import { expectedJobs } from '../../../src/model/expected-job.js';
import { definition, sagaDocument, step } from './saga-fixtures.js';

/** The one job of a saga outside parallel groups. */
const expectedJob = (...args: Parameters<typeof expectedJobs>) => expectedJobs(...args)[0] ?? null;

const NOW = Date.parse('2030-01-01T00:00:10Z');

describe('expectedJob', () => {
  it('a running saga needs the next attempt of its current step, at once', () => {
    const saga = sagaDocument({
      stepIndex: 1,
      generation: 2,
      steps: [step('a', { status: 'completed', attempts: 1 }), step('b'), step('c')],
    });
    expect(expectedJob(saga, definition, NOW)).toEqual({
      ref: {
        sagaId: saga._id,
        saga: 'unit',
        version: 1,
        generation: 2,
        phase: 'forward',
        step: 1,
        stepName: 'b',
        attempt: 1,
      },
      delayMs: 0,
    });
  });

  it('an attempt in flight is expected again under its own number (a crashed worker re-runs it)', () => {
    const saga = sagaDocument({
      steps: [step('a', { status: 'running', attempts: 2 }), step('b'), step('c')],
    });
    expect(expectedJob(saga, definition, NOW)?.ref.attempt).toBe(2);
  });

  it('a retrying step waits for its nextAttemptAt, never a negative delay', () => {
    const retrying = (at: number) =>
      sagaDocument({
        steps: [
          step('a', { status: 'retrying', attempts: 1, nextAttemptAt: new Date(at) }),
          step('b'),
          step('c'),
        ],
      });
    expect(expectedJob(retrying(NOW + 1_500), definition, NOW)).toMatchObject({
      ref: { attempt: 2 },
      delayMs: 1_500,
    });
    expect(expectedJob(retrying(NOW - 1_500), definition, NOW)?.delayMs).toBe(0);
  });

  it('a compensating saga needs the compensation at its plan position', () => {
    const saga = sagaDocument({
      status: 'compensating',
      compensation: { plan: [2, 0], position: 1 },
      steps: [
        step('a', {
          status: 'completed',
          attempts: 1,
          compensation: { status: 'retrying', attempts: 1, nextAttemptAt: new Date(NOW + 200) },
        }),
        step('b', { status: 'completed', attempts: 1 }),
        step('c', { status: 'completed', attempts: 1, compensation: { status: 'completed', attempts: 1 } }),
      ],
    });
    expect(expectedJob(saga, definition, NOW)).toEqual({
      ref: {
        sagaId: saga._id,
        saga: 'unit',
        version: 1,
        generation: 0,
        phase: 'compensate',
        step: 0,
        stepName: 'a',
        attempt: 2,
        position: 1,
      },
      delayMs: 200,
    });
  });

  it("carries the saga's version (a saga stored without one is version 1), with or without its definition", () => {
    const v3 = { ...sagaDocument({ steps: [step('a'), step('b'), step('c')] }), version: 3 };
    expect(expectedJob(v3, undefined, NOW)?.ref).toMatchObject({ version: 3, step: 0, stepName: 'a' });
    const legacy: Partial<ReturnType<typeof sagaDocument>> = sagaDocument({ steps: [step('a')] });
    delete legacy.version;
    expect(expectedJob(legacy as ReturnType<typeof sagaDocument>, undefined, NOW)?.ref.version).toBe(1);
  });

  it('terminal sagas and a finished plan need nothing', () => {
    for (const status of ['completed', 'compensated', 'failed', 'rejected'] as const) {
      expect(expectedJob(sagaDocument({ status }), definition, NOW)).toBeNull();
    }
    const done = sagaDocument({ status: 'compensating', compensation: { plan: [0], position: 1 } });
    expect(expectedJob(done, definition, NOW)).toBeNull();
    expect(expectedJob(sagaDocument({ stepIndex: 3 }), definition, NOW)).toBeNull();
  });
});
