import type { Document } from '../../../../src/embedded/query/index.js';
import { describe, expect, it } from 'vitest';
import { decodeResumeToken, openChangeStream } from '../../../../src/embedded/changes/index.js';
import { FakeSource } from './fake-source.js';

const orders = { db: 'shop', coll: 'orders' };
const ids = (events: Document[]): unknown[] => events.map((event) => (event.documentKey as Document)._id);

describe('waiting for events', () => {
  it('resolves with an event appended while it waits', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, []);
    const pending = cursor.nextBatch(undefined, 10_000);
    setTimeout(() => source.insert(orders, { _id: 1 }), 20);
    const batch = await pending;
    expect(ids(batch.events)).toEqual([1]);
  });

  it('keeps waiting through entries that match nothing, and returns the matching one', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, []);
    const pending = cursor.nextBatch(undefined, 10_000);
    setTimeout(() => source.insert({ db: 'shop', coll: 'other' }, { _id: 'other' }), 10);
    setTimeout(() => source.insert(orders, { _id: 'mine' }), 40);
    const batch = await pending;
    expect(ids(batch.events)).toEqual(['mine']);
  });

  it('returns an empty batch with a high-water mark when maxTimeMS passes without events', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, []);
    source.insert({ db: 'shop', coll: 'other' }, { _id: 1 });
    const batch = await cursor.nextBatch(undefined, 30);
    expect(batch.events).toEqual([]);
    expect(batch.closed).toBe(false);
    const point = decodeResumeToken(batch.postBatchResumeToken);
    expect(point.kind).toBe('highWaterMark');
    expect(point.ts.equals(source.oplog.clusterTime)).toBe(true);
  });

  it('stops waiting when the signal aborts', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, []);
    const controller = new AbortController();
    const pending = cursor.nextBatch(undefined, 60_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    expect((await pending).events).toEqual([]);
  });

  it('refuses a second batch while one is still waiting', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, []);
    const pending = cursor.nextBatch(undefined, 10_000);
    await expect(cursor.nextBatch(undefined, 0)).rejects.toMatchObject({ codeName: 'OperationFailed' });
    source.insert(orders, { _id: 1 });
    expect(ids((await pending).events)).toEqual([1]);
  });
});
