// Partitioned triggers: the definition's `partitions`, the hash ranges of the partitions, and where a partition
// starts after the partition count changed.
import { type Long, Timestamp } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import { definitionFingerprint, definitionShape } from '../../../src/definition/definition-fingerprint.js';
import type { SagaDefinition } from '../../../src/definition/index.js';
import { SagastreamError } from '../../../src/errors/sagastream-error.js';
import type { CheckpointDocument } from '../../../src/trigger/checkpoint-store.js';
import { PartitionShare } from '../../../src/trigger/partition-share.js';
import {
  checkpointTime,
  inheritedStart,
  partitionOfCheckpointId,
} from '../../../src/trigger/partition-handover.js';
import { triggerLeaseId } from '../../../src/trigger/saga-trigger-target.js';
import {
  partitionCondition,
  partitionOfHash,
  partitionsOverlap,
  triggerPartitions,
} from '../../../src/trigger/trigger-partition.js';
import { triggerPipeline } from '../../../src/trigger/trigger-pipeline.js';

const run = () => Promise.resolve({});

function sagaWithPartitions(partitions: unknown) {
  return (defineSaga as (spec: unknown) => { trigger?: { partitions: number } })({
    name: 'orders',
    trigger: { collection: 'orders', partitions },
    input: z.object({}).passthrough(),
    steps: [{ name: 'a', run }],
  });
}

function problemOf(partitions: unknown): string {
  try {
    sagaWithPartitions(partitions);
  } catch (error) {
    if (error instanceof SagastreamError) return error.message;
    throw error;
  }
  throw new Error('expected the definition to be refused');
}

describe('trigger.partitions', () => {
  it('defaults to 1 and accepts 1 to 64', () => {
    expect(sagaWithPartitions(undefined).trigger?.partitions).toBe(1);
    expect(sagaWithPartitions(8).trigger?.partitions).toBe(8);
    expect(sagaWithPartitions(64).trigger?.partitions).toBe(64);
  });

  it('refuses anything else with a message that says what is allowed', () => {
    expect(problemOf(0)).toMatch(/trigger\.partitions: partitions must be at least 1/);
    expect(problemOf(65)).toMatch(/trigger\.partitions: partitions can be at most 64/);
    expect(problemOf(2.5)).toMatch(/partitions must be a whole number from 1 to 64/);
    expect(problemOf('4')).toMatch(/partitions must be a whole number from 1 to 64/);
  });

  it('is not part of the version shape: changing it needs no new version', () => {
    const shapeOf = (partitions: number) =>
      definitionFingerprint(definitionShape(sagaWithPartitions(partitions) as SagaDefinition));
    expect(shapeOf(3)).toBe(shapeOf(1));
  });

  it('keeps the lease id of an unpartitioned trigger and numbers partitions i/N', () => {
    expect(triggerPartitions(1).map((partition) => triggerLeaseId('orders', partition))).toEqual([
      'trigger:orders',
    ]);
    expect(triggerPartitions(3).map((partition) => triggerLeaseId('orders', partition))).toEqual([
      'trigger:orders#0/3',
      'trigger:orders#1/3',
      'trigger:orders#2/3',
    ]);
  });
});

describe('partition ranges', () => {
  const MIN = -(2n ** 63n);
  const MAX = 2n ** 63n - 1n;

  it('splits the signed 64-bit hash space into N contiguous ranges', () => {
    for (const count of [1, 2, 3, 7, 64]) {
      expect(partitionOfHash(MIN, count)).toBe(0);
      expect(partitionOfHash(MAX, count)).toBe(count - 1);
      // The first hash of each partition follows the last of the one before.
      for (let index = 1; index < count; index += 1) {
        const condition = partitionCondition('$_id', { index, count }) as {
          $let: { in: { $and: { $gte?: [string, Long] }[] } };
        };
        const lowest = condition.$let.in.$and[0]!.$gte![1].toBigInt();
        expect(partitionOfHash(lowest, count)).toBe(index);
        expect(partitionOfHash(lowest - 1n, count)).toBe(index - 1);
      }
    }
  });

  it('matches the partition in the change stream next to the operation types and the user filter', () => {
    const [stage] = triggerPipeline({ on: ['insert'], filter: { status: 'paid' } }, { index: 1, count: 3 });
    expect(stage).toEqual({
      $match: {
        $or: [
          {
            operationType: { $in: ['insert'] },
            'fullDocument.status': 'paid',
            $expr: partitionCondition('$documentKey._id', { index: 1, count: 3 }),
          },
          { operationType: 'invalidate' },
        ],
      },
    });
  });

  it('knows which partitions of two layouts share hashes', () => {
    expect(partitionsOverlap({ index: 0, count: 1 }, { index: 2, count: 3 })).toBe(true);
    expect(partitionsOverlap({ index: 0, count: 2 }, { index: 1, count: 3 })).toBe(true);
    expect(partitionsOverlap({ index: 0, count: 2 }, { index: 2, count: 3 })).toBe(false);
    expect(partitionsOverlap({ index: 1, count: 2 }, { index: 0, count: 3 })).toBe(false);
    expect(partitionsOverlap({ index: 1, count: 4 }, { index: 1, count: 4 })).toBe(true);
    expect(partitionsOverlap({ index: 1, count: 4 }, { index: 2, count: 4 })).toBe(false);
  });
});

/** A checkpoint at cluster time `t` (in its resume token, as MongoDB writes them), saved at `savedAt`. */
function checkpoint(id: string, t: number, savedAt: number): CheckpointDocument {
  const hex = (value: number) => value.toString(16).toUpperCase().padStart(8, '0');
  return {
    _id: id,
    resumeToken: { _data: `82${hex(t)}${hex(1)}2B0429296E1404` },
    updatedAt: new Date(savedAt),
    fencingToken: 1,
  };
}

describe('inheritedStart', () => {
  it('starts from the own checkpoint when the own layout saved last, or there is no other', () => {
    expect(inheritedStart('orders', undefined, [])).toBeNull();
    expect(inheritedStart('orders', undefined, [checkpoint('trigger:orders', 10, 1_000)])).toBeNull();
    const own = { index: 0, count: 2 };
    expect(
      inheritedStart('orders', own, [
        checkpoint('trigger:orders', 10, 1_000),
        checkpoint('trigger:orders#0/2', 50, 2_000),
      ]),
    ).toBeNull();
  });

  it('starts a new partition at the earliest checkpoint of the partitions of the last layout it overlaps', () => {
    const stored = [
      checkpoint('trigger:orders', 5, 1_000), // an older layout: ignored
      checkpoint('trigger:orders#0/3', 40, 3_000),
      checkpoint('trigger:orders#1/3', 30, 3_100),
      checkpoint('trigger:orders#2/3', 20, 3_050),
      checkpoint('trigger:other#0/3', 1, 9_000), // another saga: ignored
    ];
    // 0/2 covers 0/3 and half of 1/3; 1/2 covers the other half of 1/3 and 2/3.
    expect(inheritedStart('orders', { index: 0, count: 2 }, stored)).toEqual({
      kind: 'time',
      operationTime: new Timestamp({ t: 30, i: 1 }),
    });
    expect(inheritedStart('orders', { index: 1, count: 2 }, stored)).toEqual({
      kind: 'time',
      operationTime: new Timestamp({ t: 20, i: 1 }),
    });
    // Back to one watcher: from the earliest of all.
    expect(inheritedStart('orders', undefined, stored)).toEqual({
      kind: 'time',
      operationTime: new Timestamp({ t: 20, i: 1 }),
    });
  });

  it('inherits for a partition without a checkpoint even once its siblings of the new layout saved theirs', () => {
    const stored = [
      checkpoint('trigger:orders', 10, 1_000),
      checkpoint('trigger:orders#0/3', 50, 2_000), // a sibling that started first
    ];
    expect(inheritedStart('orders', { index: 1, count: 3 }, stored)).toEqual({
      kind: 'time',
      operationTime: new Timestamp({ t: 10, i: 1 }),
    });
    // Its own checkpoint, older than the other layout's last save, is stale too.
    const stale = [...stored, checkpoint('trigger:orders#2/3', 5, 500)];
    expect(inheritedStart('orders', { index: 2, count: 3 }, stale)).toEqual({
      kind: 'time',
      operationTime: new Timestamp({ t: 10, i: 1 }),
    });
  });

  it('reconciles by scanning when an overlapping partition of the last layout never saved a checkpoint', () => {
    const stored = [checkpoint('trigger:orders#0/3', 40, 3_000), checkpoint('trigger:orders#2/3', 20, 3_050)];
    expect(inheritedStart('orders', { index: 0, count: 2 }, stored)).toEqual({ kind: 'reconcile' });
  });

  it('reads the cluster time from a resume token, else from the saved cluster time', () => {
    expect(checkpointTime(checkpoint('x', 77, 0))).toEqual(new Timestamp({ t: 77, i: 1 }));
    const saved = new Timestamp({ t: 9, i: 2 });
    expect(checkpointTime({ resumeToken: { _data: 'not-a-token' }, clusterTime: saved })).toBe(saved);
    expect(partitionOfCheckpointId('orders', 'trigger:orders#4/3')).toBeUndefined();
    expect(partitionOfCheckpointId('orders', 'trigger:orders-2#0/3')).toBeUndefined();
    expect(partitionOfCheckpointId('orders', 'trigger:orders#2/3')).toEqual({ index: 2, count: 3 });
  });
});

describe('PartitionShare', () => {
  it('hands a partition over only to a fresh asker that would still lead fewer', () => {
    const share = new PartitionShare();
    ['p0', 'p1', 'p2'].forEach((lease) => share.take(lease));
    const now = 100_000;
    const request = (to: string, holds: number, ageMs = 0) => ({ to, holds, at: new Date(now - ageMs) });
    expect(share.shouldHandOver(undefined, 'me', 2_000, now)).toBe(false);
    expect(share.shouldHandOver(request('other', 0), 'me', 2_000, now)).toBe(true);
    expect(share.shouldHandOver(request('other', 1), 'me', 2_000, now)).toBe(true);
    // 3 against 2 would only swap which process leads two.
    expect(share.shouldHandOver(request('other', 2), 'me', 2_000, now)).toBe(false);
    expect(share.shouldHandOver(request('other', 0, 2_001), 'me', 2_000, now)).toBe(false);
    expect(share.shouldHandOver(request('me', 0), 'me', 2_000, now)).toBe(false);
    share.leave('p2');
    share.leave('p1');
    expect(share.size).toBe(1);
    expect(share.shouldHandOver(request('other', 0), 'me', 2_000, now)).toBe(false);
  });
});
