// Partitioned triggers on a real server: the server's partition of every _id agrees with the same function in
// JavaScript, every id falls in exactly one partition, the spread is even, and a partition's change stream and
// scans see only its share.
import { Double, Int32, Long, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import {
  partitionCondition,
  partitionOfHash,
  type TriggerPartition,
} from '../../../src/trigger/trigger-partition.js';
import { triggerPipeline } from '../../../src/trigger/trigger-pipeline.js';
import { scanMatchingDocuments } from '../../../src/trigger/collection-scan.js';
import { mongoAndCleanups, uniqueName } from '../helpers.js';
import { referenceHash, type PartitionedId } from './reference-hash.js';

const { mongo } = mongoAndCleanups();

/** 600 ids of each type users have: ObjectIds, strings, int32s, longs (beyond 2^53 too) and doubles. */
function idsOfEveryType(): PartitionedId[] {
  const ids: PartitionedId[] = [];
  for (let n = 0; n < 600; n += 1) {
    ids.push(new ObjectId());
    ids.push(`order-${n}-${Math.random().toString(36).slice(2)}`);
    ids.push(new Int32(n * 7919 - 2_000_000));
    ids.push(Long.fromBigInt(2n ** 60n + BigInt(n) * 1_000_003n));
    ids.push(new Double(n + 0.25));
  }
  return ids;
}

/** The same key for an id as inserted and as read back (an Int32 or a Double comes back as a number). */
function key(id: unknown): string {
  if (typeof id === 'string') return `string:${id}`;
  if (id instanceof ObjectId) return `objectId:${id.toHexString()}`;
  return `number:${id instanceof Long ? id.toString() : String(Number(id))}`;
}

describe('the partition function', () => {
  it('agrees with mongod on its own test vectors', () => {
    // mongod's BSONElementHasher test vectors for the types the reference covers.
    expect(referenceHash('abc')).toBe(8478485326885698097n);
    expect(referenceHash(new ObjectId('010203040506070809101112'))).toBe(-5588663249627035708n);
    expect(referenceHash(42)).toBe(-944302157085130861n);
    expect(referenceHash(new Double(-1.789))).toBe(1140205862565771219n);
    expect(referenceHash(Long.MAX_VALUE)).toBe(921523596458303250n);
  });

  it('puts every id in exactly one partition, the same one in the server and in JavaScript, evenly', async () => {
    const db = mongo().db(uniqueName('partitions'));
    const ids = idsOfEveryType();
    await db.collection<{ _id: PartitionedId }>('docs').insertMany(ids.map((_id) => ({ _id })));
    for (const count of [3, 5]) {
      const seen = new Map<string, number>();
      for (let index = 0; index < count; index += 1) {
        const partition = { index, count };
        const share = await db
          .collection('docs')
          .find({ $expr: partitionCondition('$_id', partition) })
          .toArray();
        for (const { _id } of share) {
          expect(seen.has(key(_id)), `${key(_id)} in two partitions`).toBe(false);
          seen.set(key(_id), index);
        }
        // Even: within a fifth of the fair share (3,000 ids; the hash is MD5).
        const fair = ids.length / count;
        expect(share.length).toBeGreaterThan(fair * 0.8);
        expect(share.length).toBeLessThan(fair * 1.2);
      }
      expect(seen.size).toBe(ids.length);
      const mismatches = ids.filter((id) => seen.get(key(id)) !== partitionOfHash(referenceHash(id), count));
      expect(mismatches).toEqual([]);
    }
    // The server's hash itself, not only the partitions, is the reference's.
    const hashed = await db
      .collection('docs')
      .aggregate<{ _id: PartitionedId; hash: Long }>([{ $project: { hash: { $toHashedIndexKey: '$_id' } } }])
      .toArray();
    expect(hashed.filter(({ _id, hash }) => BigInt(hash.toString()) !== referenceHash(_id))).toEqual([]);
  });

  it("gives each partition's change stream and scan only its share of the documents", async () => {
    const db = mongo().db(uniqueName('partition-streams'));
    const orders = db.collection<{ _id: ObjectId | string; status: string }>('orders');
    const trigger = { on: ['insert'] as const, filter: { status: 'paid' } };
    const partitions: TriggerPartition[] = [0, 1, 2].map((index) => ({ index, count: 3 }));
    const streams = partitions.map((partition) => orders.watch(triggerPipeline(trigger, partition)));
    try {
      // Opened: a first read fixes each stream's start.
      await Promise.all(streams.map((stream) => stream.tryNext()));
      const documents = Array.from({ length: 90 }, (_, n) => ({
        _id: n % 2 === 0 ? new ObjectId() : `o-${n}`,
        status: n % 10 === 0 ? 'pending' : 'paid',
      }));
      await orders.insertMany(documents);
      const paid = documents.filter((document) => document.status === 'paid');
      const received = await Promise.all(
        streams.map(async (stream, index) => {
          const expected = paid.filter(({ _id }) => partitionOfHash(referenceHash(_id), 3) === index).length;
          const ids: string[] = [];
          await expect
            .poll(async () => {
              for (let change = await stream.tryNext(); change; change = await stream.tryNext()) {
                if (change.operationType === 'insert') ids.push(key(change.documentKey._id));
              }
              return ids.length;
            })
            .toBe(expected);
          return ids;
        }),
      );
      expect(new Set(received.flat()).size).toBe(paid.length);
      expect(received.flat().sort()).toEqual(paid.map(({ _id }) => key(_id)).sort());

      const scanned = await Promise.all(
        partitions.map(async (partition) => {
          const ids: string[] = [];
          await scanMatchingDocuments(
            db.collection('orders'),
            trigger.filter,
            { reason: 'reconcile', batchSize: 7, signal: new AbortController().signal, partition },
            (events) => {
              ids.push(...events.map((event) => key((event.documentKey as { _id: unknown })._id)));
              return Promise.resolve();
            },
          );
          return ids.sort();
        }),
      );
      expect(scanned).toEqual(received.map((ids) => [...ids].sort()));
    } finally {
      await Promise.all(streams.map((stream) => stream.close()));
    }
  });
});
