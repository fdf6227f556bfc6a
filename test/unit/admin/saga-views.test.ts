// The step a running saga has scheduled is shown from its BullMQ job: nothing in MongoDB says it began.
import { describe, expect, it } from 'vitest';
import { sagaDetail } from '../../../src/admin/saga-views.js';
import { sagaDocument, step } from '../model/saga-fixtures.js';

const START = new Date('2030-01-01T00:00:01Z');
const END = new Date('2030-01-01T00:00:02Z');

const scheduled = sagaDocument({
  stepIndex: 1,
  steps: [
    step('a', { status: 'completed', attempts: 1, startedAt: START, attemptStartedAt: START, endedAt: END }),
    step('b', { status: 'scheduled', attempts: 1 }),
    step('c'),
  ],
  history: [{ at: END, type: 'step-completed', step: 'a', attempt: 1 }],
});

type Detail = {
  steps: { name: string; status: string }[];
  timeline: { step: string; attempt: number; outcome: string; startedAt: Date | null }[];
};

describe('a scheduled step in the admin views', () => {
  it('is queued while its job waits, with no timeline bar yet', () => {
    const detail = sagaDetail(scheduled, new Map([[1, { state: 'queued', startedAt: null }]])) as Detail;
    expect(detail.steps.map((item) => item.status)).toEqual(['completed', 'queued', 'pending']);
    expect(detail.timeline.map((segment) => segment.step)).toEqual(['a']);
  });

  it('is running once a worker took its job, with a bar from when it was taken', () => {
    const taken = new Date('2030-01-01T00:00:03Z');
    const detail = sagaDetail(scheduled, new Map([[1, { state: 'running', startedAt: taken }]])) as Detail;
    expect(detail.steps.map((item) => item.status)).toEqual(['completed', 'running', 'pending']);
    expect(detail.timeline.find((segment) => segment.step === 'b')).toMatchObject({
      attempt: 1,
      outcome: 'running',
      startedAt: taken,
    });
  });

  it('a retry whose job waits stays retrying; the job state belongs to the current step only', () => {
    const retrying = sagaDocument({
      stepIndex: 0,
      steps: [step('a', { status: 'retrying', attempts: 1, startedAt: START }), step('b'), step('c')],
      history: [{ at: END, type: 'attempt-failed', step: 'a', attempt: 1 }],
    });
    const queued = sagaDetail(retrying, new Map([[0, { state: 'queued', startedAt: null }]])) as Detail;
    expect(queued.steps.map((item) => item.status)).toEqual(['retrying', 'pending', 'pending']);
    const running = sagaDetail(retrying, new Map([[0, { state: 'running', startedAt: END }]])) as Detail;
    expect(running.timeline.map((segment) => [segment.attempt, segment.outcome])).toEqual([
      [1, 'failed'],
      [2, 'running'],
    ]);
  });

  it('without the job state (not looked up), a scheduled step shows as stored', () => {
    const detail = sagaDetail(scheduled) as Detail;
    expect(detail.steps[1]?.status).toBe('scheduled');
    expect(detail.timeline.map((segment) => segment.step)).toEqual(['a']);
  });
});

describe('retention in the admin views', () => {
  it('shows when a finished saga expires, and null while it has no expiry', () => {
    const expiresAt = new Date('2030-01-31T00:00:02Z');
    const finished = sagaDocument({ status: 'completed', endedAt: END, expiresAt });
    expect(sagaDetail(finished)).toMatchObject({ endedAt: END, expiresAt });
    expect(sagaDetail(scheduled)).toMatchObject({ expiresAt: null });
  });
});
