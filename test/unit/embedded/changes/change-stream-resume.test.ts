import { Timestamp } from 'bson';
import type { Document } from '../../../../src/embedded/query/index.js';
import { describe, expect, it } from 'vitest';
import { decodeResumeToken, openChangeStream } from '../../../../src/embedded/changes/index.js';
import { FakeSource } from './fake-source.js';

const orders = { db: 'shop', coll: 'orders' };
const ids = (events: Document[]): unknown[] => events.map((event) => (event.documentKey as Document)._id);

function seeded(count: number, maxEntries = 1000): FakeSource {
  const source = new FakeSource(maxEntries);
  for (let id = 1; id <= count; id++) source.insert(orders, { _id: id });
  return source;
}

describe('resuming', () => {
  it('starts after the cluster time at open when no resume option is given', async () => {
    const source = seeded(2);
    const cursor = openChangeStream(source, orders, {}, []);
    source.insert(orders, { _id: 3 });
    expect(ids((await cursor.nextBatch(undefined, 0)).events)).toEqual([3]);
  });

  it('resumeAfter an event token returns the events strictly after it', async () => {
    const source = seeded(4);
    const all = (
      await openChangeStream(
        source,
        orders,
        { startAtOperationTime: new Timestamp({ t: 0, i: 1 }) },
        [],
      ).nextBatch(undefined, 0)
    ).events;
    expect(ids(all)).toEqual([1, 2, 3, 4]);
    const resumed = openChangeStream(source, orders, { resumeAfter: all[1]!._id }, []);
    expect(ids((await resumed.nextBatch(undefined, 0)).events)).toEqual([3, 4]);
    const started = openChangeStream(source, orders, { startAfter: all[1]!._id }, []);
    expect(ids((await started.nextBatch(undefined, 0)).events)).toEqual([3, 4]);
  });

  it('startAtOperationTime includes the event at that very time', async () => {
    const source = new FakeSource();
    source.insert(orders, { _id: 1 });
    const second = source.insert(orders, { _id: 2 });
    source.insert(orders, { _id: 3 });
    const cursor = openChangeStream(source, orders, { startAtOperationTime: second.ts }, []);
    expect(ids((await cursor.nextBatch(undefined, 0)).events)).toEqual([2, 3]);
  });

  it('hands out event tokens in strictly increasing order', async () => {
    const source = seeded(5);
    const cursor = openChangeStream(
      source,
      orders,
      { startAtOperationTime: new Timestamp({ t: 0, i: 1 }) },
      [],
    );
    const tokens = (await cursor.nextBatch(undefined, 0)).events.map(
      (event) => (event._id as Document)._data as string,
    );
    expect(tokens).toHaveLength(5);
    expect([...tokens].sort()).toEqual(tokens);
    expect(new Set(tokens).size).toBe(5);
  });

  it('fails with ChangeStreamHistoryLost (286) when the resume point fell out of the oplog', async () => {
    const source = new FakeSource(5);
    const first = source.insert(orders, { _id: 1 });
    const cursor = openChangeStream(source, orders, {}, []);
    const early = (
      await openChangeStream(source, orders, { startAtOperationTime: first.ts }, []).nextBatch(1, 0)
    ).events[0]!;
    for (let id = 2; id <= 7; id++) source.insert(orders, { _id: id });

    const message =
      'Resume of change stream was not possible, as the resume point may no longer be in the oplog.';
    expect(() => openChangeStream(source, orders, { resumeAfter: early._id }, [])).toThrow(
      expect.objectContaining({ code: 286, codeName: 'ChangeStreamHistoryLost', message }),
    );
    expect(() => openChangeStream(source, orders, { startAtOperationTime: first.ts }, [])).toThrow(
      expect.objectContaining({ code: 286 }),
    );
    // A cursor that fell behind while open cannot silently skip what was dropped either.
    await expect(cursor.nextBatch(undefined, 0)).rejects.toMatchObject({ code: 286 });
    // The oldest point still covered is fine.
    const retained = source.oplog.retained();
    const resumed = openChangeStream(source, orders, { startAtOperationTime: retained[0]!.ts }, []);
    expect(ids((await resumed.nextBatch(undefined, 0)).events)).toEqual([3, 4, 5, 6, 7]);
  });

  it('refuses malformed tokens and conflicting resume options', () => {
    const source = seeded(1);
    expect(() => openChangeStream(source, orders, { resumeAfter: { _data: 'nope' } }, [])).toThrow(
      expect.objectContaining({ code: 260, codeName: 'InvalidResumeToken' }),
    );
    expect(() => openChangeStream(source, orders, { resumeAfter: 'nope' }, [])).toThrow(
      expect.objectContaining({ code: 14 }),
    );
    expect(() => openChangeStream(source, orders, { startAtOperationTime: 5 }, [])).toThrow(
      expect.objectContaining({ code: 14 }),
    );
    const token = openChangeStream(source, orders, {}, []).resumeToken;
    expect(() => openChangeStream(source, orders, { resumeAfter: token, startAfter: token }, [])).toThrow(
      expect.objectContaining({ code: 40674 }),
    );
  });
});

describe('postBatchResumeToken', () => {
  it('is a high-water mark at the cluster time for an empty batch, and resuming from it replays nothing', async () => {
    const source = seeded(2);
    const cursor = openChangeStream(source, orders, {}, []);
    const batch = await cursor.nextBatch(undefined, 0);
    expect(batch.events).toEqual([]);
    const point = decodeResumeToken(batch.postBatchResumeToken);
    expect(point.kind).toBe('highWaterMark');
    expect(point.ts.equals(source.oplog.clusterTime)).toBe(true);

    source.insert(orders, { _id: 3 });
    const resumed = openChangeStream(source, orders, { resumeAfter: batch.postBatchResumeToken }, []);
    expect(ids((await resumed.nextBatch(undefined, 0)).events)).toEqual([3]);
  });

  it('moves past entries of other namespaces and events the user $match filtered out', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, [{ $match: { 'fullDocument.keep': true } }]);
    source.insert(orders, { _id: 1, keep: true });
    source.insert(orders, { _id: 2, keep: false });
    const other = source.insert({ db: 'shop', coll: 'other' }, { _id: 3 });
    const batch = await cursor.nextBatch(undefined, 0);
    expect(ids(batch.events)).toEqual([1]);
    const pbrt = batch.postBatchResumeToken._data;
    expect(pbrt > (batch.events[0]!._id as Document)._data!).toBe(true);
    expect(decodeResumeToken(batch.postBatchResumeToken).ts.equals(other.ts)).toBe(true);

    source.insert(orders, { _id: 4, keep: true });
    const resumed = openChangeStream(source, orders, { resumeAfter: batch.postBatchResumeToken }, []);
    expect(ids((await resumed.nextBatch(undefined, 0)).events)).toEqual([4]);
  });

  it('equals the last event when batchSize cut the batch short, so the next batch continues there', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, []);
    for (let id = 1; id <= 5; id++) source.insert(orders, { _id: id });
    const first = await cursor.nextBatch(2, 0);
    expect(ids(first.events)).toEqual([1, 2]);
    expect(first.postBatchResumeToken).toEqual(first.events[1]!._id);
    const resumed = openChangeStream(source, orders, { resumeAfter: first.postBatchResumeToken }, []);
    expect(ids((await resumed.nextBatch(undefined, 0)).events)).toEqual([3, 4, 5]);
    expect(ids((await cursor.nextBatch(2, 0)).events)).toEqual([3, 4]);
    expect(ids((await cursor.nextBatch(2, 0)).events)).toEqual([5]);
  });

  it('batchSize 0 returns no events and keeps them for the next batch', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, []);
    source.insert(orders, { _id: 1 });
    const empty = await cursor.nextBatch(0, 1000);
    expect(empty.events).toEqual([]);
    expect(ids((await cursor.nextBatch(undefined, 0)).events)).toEqual([1]);
  });

  it('splits an unlimited batch before it would exceed 16 MiB', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, []);
    const payload = 'x'.repeat(5 * 1024 * 1024);
    for (let id = 1; id <= 5; id++) source.insert(orders, { _id: id, payload });
    expect(ids((await cursor.nextBatch(undefined, 0)).events)).toEqual([1, 2, 3]);
    expect(ids((await cursor.nextBatch(undefined, 0)).events)).toEqual([4, 5]);
  });
});
