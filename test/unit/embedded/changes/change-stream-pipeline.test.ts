import type { Document } from '../../../../src/embedded/query/index.js';
import { describe, expect, it } from 'vitest';
import {
  isChangeStreamPipeline,
  openChangeStream,
  openChangeStreamForAggregate,
} from '../../../../src/embedded/changes/index.js';
import { FakeSource } from './fake-source.js';

const orders = { db: 'shop', coll: 'orders' };

describe('user stages', () => {
  it('apply $match, $project and $addFields to each event', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, [
      { $match: { operationType: 'insert' } },
      { $project: { operationType: 1, 'fullDocument.n': 1 } },
      { $addFields: { seen: true } },
    ]);
    source.insert(orders, { _id: 1, n: 1, secret: 'x' });
    source.update(orders, 1, { n: 2 });
    const { events } = await cursor.nextBatch(undefined, 0);
    expect(events).toHaveLength(1);
    const { _id: token, ...rest } = events[0]!;
    expect(Object.keys(token as Document)).toEqual(['_data']);
    expect(rest).toEqual({ operationType: 'insert', fullDocument: { n: 1 }, seen: true });
  });

  it('fail with ChangeStreamFatalError (280), non-resumable, when they modify or remove _id', async () => {
    for (const stage of [
      { $project: { _id: 0 } },
      { $replaceRoot: { newRoot: '$fullDocument' } },
      { $set: { '_id.extra': 1 } },
    ]) {
      const source = new FakeSource();
      const cursor = openChangeStream(source, orders, {}, [stage]);
      source.insert(orders, { _id: 1 });
      await expect(cursor.nextBatch(undefined, 0)).rejects.toMatchObject({
        code: 280,
        codeName: 'ChangeStreamFatalError',
        labels: ['NonResumableChangeStreamError'],
        message: expect.stringContaining(
          'Only transformations that retain the unmodified _id field are allowed.',
        ) as unknown,
      });
    }
  });

  it('are validated when the stream opens', () => {
    const source = new FakeSource();
    const open = (stages: Document[]) => () => openChangeStream(source, orders, {}, stages);
    expect(open([{ $group: { _id: null } }])).toThrow(
      expect.objectContaining({ message: '$group is not permitted in a $changeStream pipeline' }),
    );
    expect(open([{ $bogus: {} }])).toThrow(expect.objectContaining({ code: 40324 }));
    expect(open([{ $changeStream: {} }])).toThrow(
      expect.objectContaining({
        code: 40602,
        message: '$changeStream is only valid as the first stage in a pipeline',
      }),
    );
    expect(open([{ $match: {}, $project: {} }])).toThrow(expect.objectContaining({ code: 40323 }));
  });
});

describe('$changeStream options', () => {
  it('reject unknown fields, bad enum values and wrong types as MongoDB does', () => {
    const source = new FakeSource();
    const open = (stage: unknown) => () => openChangeStream(source, orders, stage, []);
    expect(open({ foo: 1 })).toThrow(
      expect.objectContaining({
        code: 40415,
        message: "BSON field '$changeStream.foo' is an unknown field.",
      }),
    );
    expect(open({ fullDocument: 'sometimes' })).toThrow(
      expect.objectContaining({ code: 2, codeName: 'BadValue' }),
    );
    expect(open({ fullDocumentBeforeChange: 'updateLookup' })).toThrow(expect.objectContaining({ code: 2 }));
    expect(open({ fullDocument: 1 })).toThrow(expect.objectContaining({ code: 14 }));
    expect(open({ showExpandedEvents: 'yes' })).toThrow(expect.objectContaining({ code: 14 }));
    expect(open('x')).toThrow(expect.objectContaining({ code: 50808 }));
  });
});

describe('aggregate entry point', () => {
  it('recognises change-stream pipelines', () => {
    expect(isChangeStreamPipeline([{ $changeStream: {} }, { $match: {} }])).toBe(true);
    expect(isChangeStreamPipeline([{ $match: {} }, { $changeStream: {} }])).toBe(false);
    expect(isChangeStreamPipeline([])).toBe(false);
  });

  it('derives the scope and cursor namespace from the command', async () => {
    const source = new FakeSource();
    const collection = openChangeStreamForAggregate(source, 'shop', 'orders', [{ $changeStream: {} }]);
    const database = openChangeStreamForAggregate(source, 'shop', 1, [{ $changeStream: {} }]);
    const cluster = openChangeStreamForAggregate(source, 'admin', 1, [
      { $changeStream: { allChangesForCluster: true } },
    ]);
    expect([collection.namespace, database.namespace, cluster.namespace]).toEqual([
      'shop.orders',
      'shop.$cmd.aggregate',
      'admin.$cmd.aggregate',
    ]);
    source.insert({ db: 'shop', coll: 'users' }, { _id: 1 });
    source.insert({ db: 'crm', coll: 'people' }, { _id: 2 });
    const counts = await Promise.all(
      [collection, database, cluster].map(
        async (cursor) => (await cursor.nextBatch(undefined, 0)).events.length,
      ),
    );
    expect(counts).toEqual([0, 1, 2]);
  });

  it('refuses what MongoDB refuses', () => {
    const source = new FakeSource();
    const open = (db: string, target: string | number, pipeline: Document[]) => () =>
      openChangeStreamForAggregate(source, db, target, pipeline);
    expect(open('shop', 1, [{ $changeStream: { allChangesForCluster: true } }])).toThrow(
      expect.objectContaining({ codeName: 'InvalidOptions' }),
    );
    expect(open('admin', 1, [{ $changeStream: {} }])).toThrow(
      expect.objectContaining({ codeName: 'InvalidNamespace' }),
    );
    expect(open('shop', 'system.views', [{ $changeStream: {} }])).toThrow(
      expect.objectContaining({ codeName: 'InvalidNamespace' }),
    );
    expect(open('shop', 'orders', [{ $match: {} }, { $changeStream: {} }])).toThrow(
      expect.objectContaining({ code: 40602 }),
    );
    expect(open('shop', 'orders', [{ $changeStream: {} }, { $limit: 1 }])).toThrow(
      expect.objectContaining({ codeName: 'IllegalOperation' }),
    );
  });
});
