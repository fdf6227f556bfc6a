// The attempt gate's key and marks: the key sits under its step queue's hash tag (one Redis Cluster slot with
// that queue's keys), and only `started` or `lost` let a worker run an attempt.
import { describe, expect, it } from 'vitest';
import { attemptGateKey, letsRun, stopReasonOf } from '../../../src/queue/attempt-gate.js';
import type { StepJobRef } from '../../../src/model/step-job-ref.js';

const ref: StepJobRef = {
  sagaId: 'sg0000000001abcdefabcdef',
  saga: 'order',
  phase: 'forward',
  step: 2,
  stepName: 'ship',
  attempt: 3,
  generation: 1,
};

describe('attempt gate', () => {
  it("keys an attempt by its step job id under the hash tag of its version's step queue", () => {
    expect(attemptGateKey('sagastream', ref)).toBe(
      'sagastream:{saga-order}:gate:sg0000000001abcdefabcdef.f2.a3.g1',
    );
    expect(attemptGateKey('sagastream', { ...ref, version: 3 })).toBe(
      'sagastream:{saga-order.v3}:gate:sg0000000001abcdefabcdef.f2.a3.g1',
    );
  });

  it('lets a worker run when it set the mark, or finds `started` (a re-run) or `lost`, never after a stop', () => {
    expect(letsRun(null)).toBe(true);
    expect(letsRun('started')).toBe(true);
    expect(letsRun('lost')).toBe(true);
    expect(letsRun('stopped:cancelled')).toBe(false);
    expect(letsRun('stopped:deadline:not-started')).toBe(false);
    expect(letsRun('stopped:cancelled:may-have-acted')).toBe(false);
  });

  it('reads the reason of a stop mark, with or without its verdict', () => {
    expect(stopReasonOf('stopped:cancelled')).toBe('cancelled');
    expect(stopReasonOf('stopped:deadline:may-have-acted')).toBe('deadline');
    expect(stopReasonOf('started')).toBeNull();
    expect(stopReasonOf('lost')).toBeNull();
    expect(stopReasonOf(null)).toBeNull();
  });
});
