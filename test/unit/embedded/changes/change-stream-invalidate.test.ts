import type { Document } from '../../../../src/embedded/query/index.js';
import { describe, expect, it } from 'vitest';
import { decodeResumeToken, openChangeStream } from '../../../../src/embedded/changes/index.js';
import { FakeSource, stable } from './fake-source.js';

const orders = { db: 'shop', coll: 'orders' };
const types = (events: Document[]): unknown[] => events.map((event) => event.operationType);

describe('invalidation', () => {
  it('a collection stream sees drop, then invalidate, then closes', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, []);
    source.insert(orders, { _id: 1 });
    source.drop(orders);
    source.insert(orders, { _id: 2 });
    const batch = await cursor.nextBatch(undefined, 0);
    expect(types(batch.events)).toEqual(['insert', 'drop', 'invalidate']);
    expect(stable(batch.events[1])).toEqual({ operationType: 'drop', ns: orders });
    expect(Object.keys(batch.events[2]!)).toEqual(['_id', 'operationType', 'clusterTime', 'wallTime']);
    expect(batch.closed).toBe(true);
    expect(batch.postBatchResumeToken).toEqual(batch.events[2]!._id);
    expect(cursor.closed).toBe(true);
    expect(await cursor.nextBatch(undefined, 0)).toMatchObject({ events: [], closed: true });
  });

  it('a rename of the collection, from or onto it, invalidates its stream', async () => {
    const source = new FakeSource();
    const archive = { db: 'shop', coll: 'archive' };
    const fromStream = openChangeStream(source, orders, {}, []);
    const ontoStream = openChangeStream(source, archive, {}, []);
    source.insert(orders, { _id: 1 });
    source.rename(orders, archive);
    const from = await fromStream.nextBatch(undefined, 0);
    expect(types(from.events)).toEqual(['insert', 'rename', 'invalidate']);
    expect(stable(from.events[1])).toEqual({ operationType: 'rename', ns: orders, to: archive });
    expect(from.closed).toBe(true);
    const onto = await ontoStream.nextBatch(undefined, 0);
    expect(types(onto.events)).toEqual(['rename', 'invalidate']);
    expect(onto.closed).toBe(true);
  });

  it('a database stream sees each drop, dropDatabase, then invalidate', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, { db: 'shop' }, {}, []);
    source.insert(orders, { _id: 1 });
    source.insert({ db: 'shop', coll: 'users' }, { _id: 1 });
    source.dropDatabase('shop');
    const batch = await cursor.nextBatch(undefined, 0);
    expect(types(batch.events)).toEqual(['insert', 'insert', 'drop', 'drop', 'dropDatabase', 'invalidate']);
    expect(stable(batch.events[4])).toEqual({ operationType: 'dropDatabase', ns: { db: 'shop' } });
    expect(batch.closed).toBe(true);
  });

  it('a cluster stream shows drops and renames but never invalidates', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, {}, { allChangesForCluster: true }, []);
    source.insert(orders, { _id: 1 });
    source.rename(orders, { db: 'shop', coll: 'archive' });
    source.dropDatabase('shop');
    source.insert(orders, { _id: 2 });
    const batch = await cursor.nextBatch(undefined, 0);
    expect(types(batch.events)).toEqual(['insert', 'rename', 'drop', 'dropDatabase', 'insert']);
    expect(batch.closed).toBe(false);
  });

  it('delivers the invalidate in the next batch when batchSize stops right after the drop', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, []);
    source.drop(orders);
    const first = await cursor.nextBatch(1, 0);
    expect(types(first.events)).toEqual(['drop']);
    expect(first.closed).toBe(false);
    const second = await cursor.nextBatch(1, 0);
    expect(types(second.events)).toEqual(['invalidate']);
    expect(second.closed).toBe(true);
  });

  it('resumeAfter the drop yields the invalidate; past the invalidate only startAfter may continue', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, []);
    source.drop(orders);
    const [drop, invalidate] = (await cursor.nextBatch(undefined, 0)).events;
    expect(decodeResumeToken(invalidate!._id).kind).toBe('invalidate');

    const afterDrop = openChangeStream(source, orders, { resumeAfter: drop!._id }, []);
    expect(types((await afterDrop.nextBatch(undefined, 0)).events)).toEqual(['invalidate']);

    expect(() => openChangeStream(source, orders, { resumeAfter: invalidate!._id }, [])).toThrow(
      expect.objectContaining({ code: 260, message: expect.stringContaining('startAfter') as unknown }),
    );
    const restarted = openChangeStream(source, orders, { startAfter: invalidate!._id }, []);
    source.insert(orders, { _id: 'recreated' });
    const batch = await restarted.nextBatch(undefined, 0);
    expect(types(batch.events)).toEqual(['insert']);
    expect(batch.closed).toBe(false);
  });

  it('a user stage that filters out the invalidate still closes the stream', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, [{ $match: { operationType: 'insert' } }]);
    source.insert(orders, { _id: 1 });
    source.drop(orders);
    const batch = await cursor.nextBatch(undefined, 0);
    expect(types(batch.events)).toEqual(['insert']);
    expect(batch.closed).toBe(true);
  });
});
