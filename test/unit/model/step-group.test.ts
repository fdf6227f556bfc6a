import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { currentStepName, sagaDetail } from '../../../src/admin/saga-views.js';
import { defineSaga } from '../../../src/definition/index.js';
import { compensationPlan } from '../../../src/model/compensation-plan.js';
import { expectedJobs } from '../../../src/model/expected-job.js';
import { isScheduledAttempt } from '../../../src/model/scheduled-attempt.js';
import { definitionSpan, spanAt, waveAt } from '../../../src/model/step-group.js';
import { sagaDocument, step } from './saga-fixtures.js';

const ok = () => Promise.resolve({});
const undo = () => Promise.resolve();

/** a, then the group g of b ∥ c ∥ d (d has nothing to undo), then e. */
const grouped = defineSaga({ name: 'unit', input: z.object({}) })
  .step({ name: 'a', run: ok, compensate: undo })
  .parallel('g', (p) =>
    p
      .step({ name: 'b', run: ok, compensate: undo })
      .step({ name: 'c', run: ok, compensate: undo })
      .step({ name: 'd', run: ok }),
  )
  .step({ name: 'e', run: ok, compensate: undo })
  .build();

const steps = (statuses: string[]) =>
  ['a', 'b', 'c', 'd', 'e'].map((name, index) =>
    step(name, {
      ...(index >= 1 && index <= 3 ? { group: 'g' } : {}),
      status: statuses[index] as never,
      attempts: statuses[index] === 'pending' ? 0 : 1,
    }),
  );

describe('parallel groups in the saga document', () => {
  it('resolve to consecutive members that know their group', () => {
    expect(grouped.steps.map((s) => [s.name, s.index, s.group ?? null])).toEqual([
      ['a', 0, null],
      ['b', 1, { name: 'g', first: 1, size: 3 }],
      ['c', 2, { name: 'g', first: 1, size: 3 }],
      ['d', 3, { name: 'g', first: 1, size: 3 }],
      ['e', 4, null],
    ]);
    expect(definitionSpan(grouped, 2)).toEqual({ first: 1, end: 4 });
    expect(definitionSpan(grouped, 4)).toEqual({ first: 4, end: 5 });
    expect(definitionSpan(grouped, 5)).toBeNull();
  });

  it('span a group from any member, and a plain step alone', () => {
    const records = steps(['completed', 'scheduled', 'scheduled', 'scheduled', 'pending']);
    expect(spanAt(records, 1)).toEqual({ first: 1, end: 4 });
    expect(spanAt(records, 3)).toEqual({ first: 1, end: 4 });
    expect(spanAt(records, 0)).toEqual({ first: 0, end: 1 });
    expect(spanAt(records, 4)).toEqual({ first: 4, end: 5 });
  });

  it('expect one job per unfinished member while the saga is at the group, each member its own attempt', () => {
    const records = steps(['completed', 'completed', 'retrying', 'scheduled', 'pending']);
    records[2]!.nextAttemptAt = new Date('2030-01-01T00:00:05Z');
    const saga = sagaDocument({ stepIndex: 1, steps: records });
    const jobs = expectedJobs(saga, grouped, Date.parse('2030-01-01T00:00:00Z'));
    expect(jobs.map((job) => [job.ref.stepName, job.ref.attempt, job.delayMs])).toEqual([
      ['c', 2, 5_000],
      ['d', 1, 0],
    ]);
    expect(isScheduledAttempt(saga, { step: 2, attempt: 2, generation: 0 })).toBe(true);
    expect(isScheduledAttempt(saga, { step: 3, attempt: 1, generation: 0 })).toBe(true);
    expect(isScheduledAttempt(saga, { step: 1, attempt: 1, generation: 0 })).toBe(false);
    expect(isScheduledAttempt(saga, { step: 4, attempt: 1, generation: 0 })).toBe(false);
  });

  it('plan the members that may have acted as one wave, most recent steps first, and expect a job per member', () => {
    const records = steps(['completed', 'completed', 'running', 'completed', 'failed']);
    const saga = sagaDocument({ stepIndex: 4, steps: records });
    const { plan, skipped } = compensationPlan(saga, grouped);
    expect(plan).toEqual([2, 1, 0]);
    expect(skipped).toEqual([3]);
    const compensating = sagaDocument({
      status: 'compensating',
      steps: records,
      compensation: { plan, position: 0 },
    });
    expect(waveAt(compensating, 0)).toEqual({ first: 0, end: 2 });
    expect(waveAt(compensating, 2)).toEqual({ first: 2, end: 3 });
    expect(expectedJobs(compensating, grouped).map((job) => [job.ref.stepName, job.ref.position])).toEqual([
      ['c', 0],
      ['b', 0],
    ]);
  });
});

describe('parallel groups in the admin views', () => {
  it('name the group and its unfinished members as the current step, and mark members in steps and timeline', () => {
    const records = steps(['completed', 'completed', 'scheduled', 'scheduled', 'pending']);
    records[1]!.startedAt = new Date('2030-01-01T00:00:01Z');
    const saga = sagaDocument({
      stepIndex: 1,
      steps: records,
      history: [{ at: new Date('2030-01-01T00:00:02Z'), type: 'step-completed', step: 'b', attempt: 1 }],
    });
    expect(currentStepName(saga)).toBe('g: c, d');
    const detail = sagaDetail(
      saga,
      new Map([
        [2, { state: 'running', startedAt: new Date('2030-01-01T00:00:01Z') }],
        [3, { state: 'queued', startedAt: null }],
      ]),
    ) as {
      steps: { name: string; group: string | null; status: string }[];
      timeline: { step: string; group?: string }[];
    };
    expect(detail.steps.map((item) => [item.name, item.group, item.status])).toEqual([
      ['a', null, 'completed'],
      ['b', 'g', 'completed'],
      ['c', 'g', 'running'],
      ['d', 'g', 'queued'],
      ['e', null, 'pending'],
    ]);
    expect(detail.timeline.filter((segment) => segment.group === 'g').map((segment) => segment.step)).toEqual(
      ['b', 'c'],
    );
  });
});
