import { describe, expect, it } from 'vitest';
import { deadLetterFor } from '../../../src/engine/dead-letters.js';
import { compensationPlan } from '../../../src/model/compensation-plan.js';
import { definition, sagaDocument, step } from './saga-fixtures.js';

describe('compensationPlan', () => {
  it('takes completed steps most recent first, and skips those without a compensate', () => {
    const saga = sagaDocument({
      steps: [
        step('a', { status: 'completed', attempts: 1 }),
        step('b', { status: 'completed', attempts: 1 }),
        step('c', { status: 'failed', attempts: 3 }),
      ],
    });
    expect(compensationPlan(saga, definition)).toEqual({ plan: [0], skipped: [1] });
  });

  it('includes a step that timed out or is still in flight: it may have taken effect', () => {
    const inFlight = sagaDocument({
      steps: [
        step('a', { status: 'completed', attempts: 1 }),
        step('b', { status: 'completed', attempts: 1 }),
        step('c', { status: 'running', attempts: 1 }),
      ],
    });
    expect(compensationPlan(inFlight, definition).plan).toEqual([2, 0]);
    const timedOut = sagaDocument({
      steps: [
        step('a', { status: 'completed', attempts: 1 }),
        step('b', { status: 'completed', attempts: 1 }),
        step('c', { status: 'timed-out', attempts: 2, mayHaveEffect: true }),
      ],
    });
    expect(compensationPlan(timedOut, definition).plan).toEqual([2, 0]);
    // Retrying after a timeout: the earlier attempt may have acted.
    const retrying = sagaDocument({
      steps: [step('a', { status: 'retrying', attempts: 1, mayHaveEffect: true }), step('b'), step('c')],
    });
    expect(compensationPlan(retrying, definition).plan).toEqual([0]);
  });

  it('leaves out steps that never ran or failed without effect', () => {
    const saga = sagaDocument({
      steps: [step('a', { status: 'failed', attempts: 3 }), step('b'), step('c')],
    });
    expect(compensationPlan(saga, definition)).toEqual({ plan: [], skipped: [] });
  });
});

describe('deadLetterFor', () => {
  it('names the compensation that failed, with its attempts', () => {
    const saga = sagaDocument({
      status: 'failed',
      generation: 1,
      error: { message: 'undo failed', code: 'UNEXPECTED' },
      endedAt: new Date('2030-01-01T00:01:00Z'),
      steps: [
        step('a', { status: 'completed', attempts: 1, compensation: { status: 'failed', attempts: 3 } }),
        step('b', { status: 'completed', attempts: 1, compensation: { status: 'skipped', attempts: 0 } }),
        step('c', { status: 'failed', attempts: 2 }),
      ],
    });
    expect(deadLetterFor(saga, 'compensation-failed')).toEqual({
      sagaId: saga._id,
      saga: 'unit',
      version: 1,
      generation: 1,
      kind: 'compensation-failed',
      step: 'a',
      error: { message: 'undo failed', code: 'UNEXPECTED' },
      attempts: 3,
      at: '2030-01-01T00:01:00.000Z',
    });
  });
});
