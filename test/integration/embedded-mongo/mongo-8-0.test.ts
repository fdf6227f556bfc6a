// MongoDB 8.0 behaviour the server presents: per-statement sort in updates, client bulkWrite through the driver, and
// commands refusing undefined `$$variables` when they are parsed, as mongod does.
import type { Db, Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMongoError, uniqueDbName, withServer, type ServerFixture } from './embedded-server-fixture.js';

let fixture: ServerFixture;
let db: Db;

beforeAll(async () => {
  fixture = await withServer();
  db = fixture.client.db(uniqueDbName('eight'));
});

afterAll(async () => {
  await fixture?.stop();
});

describe('MongoDB 8.0', () => {
  it('updateOne and replaceOne with sort change the first document in that order', async () => {
    const items = db.collection<{ _id: number; x: number; tag?: string }>('sorted');
    await items.insertMany([
      { _id: 1, x: 3 },
      { _id: 2, x: 1 },
      { _id: 3, x: 2 },
    ]);
    await items.updateOne({}, { $set: { tag: 'lowest' } }, { sort: { x: 1 } });
    await items.replaceOne({ _id: { $gt: 0 } }, { x: 0, tag: 'highest' }, { sort: { x: -1 } });
    expect(await items.find({}, { sort: { _id: 1 } }).toArray()).toEqual([
      { _id: 1, x: 0, tag: 'highest' },
      { _id: 2, x: 1, tag: 'lowest' },
      { _id: 3, x: 2 },
    ]);
  });

  it('refuses sort on a multi update', async () => {
    await expectMongoError(
      db.command({
        update: 'sorted',
        updates: [{ q: {}, u: { $set: { y: 1 } }, multi: true, sort: { x: 1 } }],
      }),
      9,
    );
  });

  it('serves MongoClient.bulkWrite across namespaces with verbose results', async () => {
    const ns = `${db.databaseName}.client-bulk`;
    const result = await fixture.client.bulkWrite<Record<string, Document>>(
      [
        { name: 'insertOne', namespace: ns, document: { key: 'a', v: 1 } },
        { name: 'updateOne', namespace: ns, filter: { key: 'a' }, update: { $inc: { v: 1 } } },
        { name: 'deleteMany', namespace: `${db.databaseName}.other`, filter: {} },
      ],
      { verboseResults: true },
    );
    expect(result).toMatchObject({ insertedCount: 1, matchedCount: 1, modifiedCount: 1, deletedCount: 0 });
    expect(result.updateResults?.get(1)).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    expect(await db.collection('client-bulk').findOne({}, { projection: { _id: 0 } })).toEqual({
      key: 'a',
      v: 2,
    });
  });

  it('refuses a filter reading an undefined $$variable with 17276, even on an empty collection', async () => {
    const error = await expectMongoError(
      db
        .collection('empty')
        .find({ $expr: { $eq: ['$_id', '$$missing'] } })
        .toArray(),
      17276,
    );
    expect(error.message).toContain('Use of undefined variable: missing');
    // Defined by let, by $let and by $map: all accepted.
    await db
      .collection('empty')
      .find(
        {
          $expr: {
            $and: [
              { $eq: ['$_id', '$$given'] },
              { $let: { vars: { local: 1 }, in: { $eq: ['$$local', 1] } } },
              { $anyElementTrue: { $map: { input: [1], as: 'item', in: { $eq: ['$$item', 1] } } } },
            ],
          },
        },
        { let: { given: 1 } },
      )
      .toArray();
  });
});
