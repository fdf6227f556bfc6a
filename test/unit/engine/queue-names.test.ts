import { describe, expect, it } from 'vitest';
import { isSagaId, sagaIdFor } from '../../../src/model/saga-id.js';
import { legacySagaId } from '../../legacy-saga-id.js';
import {
  DEAD_LETTER_QUEUE,
  TIMER_QUEUE,
  compensationWaitJobId,
  compensationWakeJobId,
  deadLetterJobId,
  deadlineJobId,
  queueKeyPrefix,
  stepJobId,
  stepQueueName,
} from '../../../src/queue/queue-names.js';
import type { StepJobRef } from '../../../src/model/step-job-ref.js';

const sagaId = sagaIdFor('order', 'o-1');
const ref: StepJobRef = {
  sagaId,
  saga: 'order',
  phase: 'forward',
  step: 1,
  stepName: 'charge',
  attempt: 2,
  generation: 0,
};

/** What Redis Cluster hashes a key on: the text inside its first `{…}` when that is not empty, else the key. */
function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** BullMQ refuses ids with ':' and treats all-digit ids as its own counters. */
function validJobId(id: string): boolean {
  return !id.includes(':') && !/^\d/.test(id);
}

describe('queue names and job ids', () => {
  it("hashes each queue's keys on that queue's own name, so Redis Cluster spreads the queues", () => {
    expect(stepQueueName('order')).toBe('saga-order');
    expect(queueKeyPrefix('sagastream', 'saga-order')).toBe('sagastream:{saga-order}');
    const queues = [stepQueueName('order'), stepQueueName('order', 2), stepQueueName('refund'), TIMER_QUEUE];
    const tags = [...queues, DEAD_LETTER_QUEUE].map((queue) =>
      hashTagOf(`${queueKeyPrefix('sagastream', queue)}:${queue}:wait`),
    );
    expect(tags).toEqual([...queues, DEAD_LETTER_QUEUE]);
    // Two deployments' prefixes do not change where a queue's keys go; only the queue does.
    expect(hashTagOf(`${queueKeyPrefix('other', 'saga-order')}:saga-order:id`)).toBe('saga-order');
  });

  it('gives one deterministic id per attempt, phase, step and generation', () => {
    expect(stepJobId(ref)).toBe(`${sagaId}.f1.a2.g0`);
    expect(stepJobId({ ...ref })).toBe(stepJobId(ref));
    const others = [
      { ...ref, attempt: 3 },
      { ...ref, phase: 'compensate' as const },
      { ...ref, step: 2 },
      { ...ref, generation: 1 },
    ].map(stepJobId);
    expect(new Set([stepJobId(ref), ...others]).size).toBe(5);
  });

  it('never produces an id BullMQ refuses', () => {
    const ids = [
      stepJobId(ref),
      stepJobId({ ...ref, phase: 'compensate', position: 0 }),
      deadlineJobId(sagaId, 3),
      deadLetterJobId(sagaId, 0),
      compensationWaitJobId(ref, 1_893_456_000),
      compensationWakeJobId(ref, 1),
    ];
    for (const id of ids) expect(validJobId(id), id).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('saga ids of both forms are safe inside job ids', () => {
    for (const id of [sagaIdFor('order', 'o:1.2'), legacySagaId(1_000)]) {
      expect(isSagaId(id), id).toBe(true);
      expect(validJobId(id), id).toBe(true);
      expect(validJobId(stepJobId({ ...ref, sagaId: id })), id).toBe(true);
      expect(id).not.toContain('.');
    }
  });
});

describe('step queues per saga version', () => {
  it('keeps version 1 on the name it had before versions, and never collides with another saga', () => {
    expect(stepQueueName('orders')).toBe('saga-orders');
    expect(stepQueueName('orders', 1)).toBe('saga-orders');
    expect(stepQueueName('orders', 2)).toBe('saga-orders.v2');
    // A saga named like a version suffix still gets its own queue (saga names have no dot).
    expect(stepQueueName('orders-v2', 1)).not.toBe(stepQueueName('orders', 2));
  });
});
