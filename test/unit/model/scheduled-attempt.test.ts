import { describe, expect, it } from 'vitest';
import { expectedJobs } from '../../../src/model/expected-job.js';
import {
  isScheduledAttempt,
  scheduledAttempt,
  scheduledStepRef,
} from '../../../src/model/scheduled-attempt.js';
import type { StepRecord } from '../../../src/model/saga-document.js';
import { definition, sagaDocument, step } from './saga-fixtures.js';

/** The one job of a saga outside parallel groups. */
const expectedJob = (...args: Parameters<typeof expectedJobs>) => expectedJobs(...args)[0] ?? null;

const at = (current: Partial<StepRecord>, overrides = {}) =>
  sagaDocument({
    stepIndex: 1,
    generation: 3,
    steps: [step('a', { status: 'completed', attempts: 1 }), step('b', current), step('c')],
    ...overrides,
  });

describe('the attempt a running saga waits for', () => {
  it("is named by `scheduled` (and a cancel's `running`), and follows the attempts made for `pending` and `retrying`", () => {
    expect(scheduledAttempt(at({ status: 'scheduled', attempts: 1 }))).toBe(1);
    expect(scheduledAttempt(at({ status: 'running', attempts: 2 }))).toBe(2);
    expect(scheduledAttempt(at({ status: 'pending', attempts: 0 }))).toBe(1);
    expect(scheduledAttempt(at({ status: 'retrying', attempts: 2 }))).toBe(3);
    expect(scheduledAttempt(at({ status: 'failed', attempts: 3 }))).toBeNull();
    expect(scheduledAttempt(at({ status: 'scheduled', attempts: 1 }, { status: 'compensating' }))).toBeNull();
  });

  it('only that attempt, of that step and generation, may run', () => {
    const saga = at({ status: 'scheduled', attempts: 1 });
    const ref = scheduledStepRef(saga)!;
    expect(ref).toMatchObject({ phase: 'forward', step: 1, stepName: 'b', attempt: 1, generation: 3 });
    expect(isScheduledAttempt(saga, ref)).toBe(true);
    expect(isScheduledAttempt(saga, { ...ref, attempt: 2 })).toBe(false);
    expect(isScheduledAttempt(saga, { ...ref, step: 0 })).toBe(false);
    expect(isScheduledAttempt(saga, { ...ref, generation: 2 })).toBe(false);
    expect(isScheduledAttempt({ ...saga, status: 'compensating' }, ref)).toBe(false);
  });

  it('is the job the sweeper re-queues when Redis lost it', () => {
    const saga = at({ status: 'scheduled', attempts: 1 });
    expect(expectedJob(saga, definition)).toEqual({ ref: scheduledStepRef(saga), delayMs: 0 });
  });
});
