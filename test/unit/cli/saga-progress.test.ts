// The demo's progress line: no rates before there is an interval to measure, and cut to the terminal's width.
import { describe, expect, it } from 'vitest';
import {
  ProgressMeter,
  fitToWidth,
  formatProgress,
  type StatusCounts,
} from '../../../src/cli/demo/saga-progress.js';

const counts = (completed: number, running = 0): StatusCounts => ({
  running,
  compensating: 0,
  completed,
  compensated: 0,
  failed: 0,
  rejected: 0,
});

describe('ProgressMeter', () => {
  it('shows no rates on the first line, then rates over the time between readings', () => {
    const meter = new ProgressMeter();
    const first = meter.line({ at: 1_000, counts: counts(0, 2), inserted: 2 });
    expect(first).toBe(
      'orders 2 | running 2 | compensating 0 | completed 0 | compensated 0 | failed 0 | rejected 0',
    );
    expect(first).not.toContain('/s');

    const second = meter.line({ at: 3_000, counts: counts(3, 3), inserted: 6 });
    expect(second).toBe(
      'orders 6 (2.0/s) | running 3 | compensating 0 | completed 3 | compensated 0 | failed 0 | rejected 0 | finished 1.5/s',
    );
  });

  it('shows no rates for two readings at the same instant', () => {
    const meter = new ProgressMeter();
    meter.line({ at: 5_000, counts: counts(0), inserted: 0 });
    expect(meter.line({ at: 5_000, counts: counts(1), inserted: 1 })).not.toContain('/s');
  });

  it('measures rates over the last 10 seconds', () => {
    const meter = new ProgressMeter();
    meter.line({ at: 0, counts: counts(0), inserted: 0 });
    meter.line({ at: 5_000, counts: counts(100), inserted: 100 });
    meter.line({ at: 12_000, counts: counts(110), inserted: 110 });
    // The reading at 0 s left the window: (120 - 100) / (15 - 5) s.
    expect(meter.line({ at: 15_000, counts: counts(120), inserted: 120 })).toMatch(
      /^orders 120 \(2\.0\/s\).*finished 2\.0\/s$/,
    );
  });
});

describe('fitToWidth', () => {
  const line = formatProgress(counts(118, 6), 118, { inserted: 2, finished: 1.9 });

  it('cuts a line to one less than the width, ending in an ellipsis', () => {
    const fitted = fitToWidth(line, 40);
    expect(fitted).toHaveLength(39);
    expect(fitted).toBe(`${line.slice(0, 38)}…`);
  });

  it('leaves a line that fits, and a stream without a width, alone', () => {
    expect(fitToWidth(line, line.length + 1)).toBe(line);
    expect(fitToWidth(line, undefined)).toBe(line);
  });
});

describe('formatProgress', () => {
  it('starts with the row label and shows waiting sagas after the running ones when they are counted', () => {
    expect(
      formatProgress({ ...counts(4, 1), waiting: 3 }, 9, { inserted: 1, finished: 0.5 }, 'checkouts'),
    ).toBe(
      'checkouts 9 (1.0/s) | running 1 | waiting 3 | compensating 0 | completed 4 | compensated 0 | failed 0 | rejected 0 | finished 0.5/s',
    );
  });
});
