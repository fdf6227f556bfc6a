// find/count/distinct/aggregate/update/delete/findAndModify `hint`s are checked against the indexes as mongod's
// planner checks them; find's returnKey, showRecordId and min/max act on the index a find reads.
import type { Collection, Db, Document } from 'mongodb';

interface Item {
  _id: number;
  a: number;
  b: number;
  c: number;
  x?: number;
}
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMongoError, uniqueDbName, withServer, type ServerFixture } from './embedded-server-fixture.js';

let fixture: ServerFixture;
let db: Db;
let collectionCounter = 0;

const UNKNOWN_HINT = 'hint provided does not correspond to an existing index';

/** A collection with an index on `a` (`a_1`) and on `{b: 1, c: -1}`, holding five documents. */
async function seededCollection(): Promise<Collection<Item>> {
  collectionCounter += 1;
  const collection = db.collection<Item>(`hints${collectionCounter}`);
  await collection.createIndex({ a: 1 });
  await collection.createIndex({ b: 1, c: -1 });
  await collection.insertMany([
    { _id: 1, a: 30, b: 1, c: 1 },
    { _id: 2, a: 10, b: 1, c: 2 },
    { _id: 3, a: 50, b: 2, c: 1 },
    { _id: 4, a: 20, b: 2, c: 2 },
    { _id: 5, a: 40, b: 3, c: 1 },
  ]);
  return collection;
}

beforeAll(async () => {
  fixture = await withServer();
  db = fixture.client.db(uniqueDbName('hints'));
});

afterAll(async () => {
  await fixture?.stop();
});

describe('a hint naming no index', () => {
  it('is refused with BadValue by every command that takes a hint, by name and by key pattern', async () => {
    const items = await seededCollection();
    const refusals: Array<[string, () => Promise<unknown>]> = [
      ['find by name', () => items.find({}, { hint: 'nope_1' }).toArray()],
      ['find by pattern', () => items.find({ a: 10 }, { hint: { a: -1 } }).toArray()],
      ['count', () => db.command({ count: items.collectionName, query: { a: 10 }, hint: { nope: 1 } })],
      ['count without filter', () => db.command({ count: items.collectionName, hint: 'nope_1' })],
      ['distinct', () => db.command({ distinct: items.collectionName, key: 'a', hint: { nope: 1 } })],
      ['aggregate', () => items.aggregate([{ $match: {} }], { hint: { nope: 1 } }).toArray()],
      ['updateOne', () => items.updateOne({ _id: 1 }, { $set: { x: 1 } }, { hint: 'nope_1' })],
      ['updateMany', () => items.updateMany({}, { $set: { x: 1 } }, { hint: { nope: 1 } })],
      ['deleteOne', () => items.deleteOne({ _id: 1 }, { hint: { nope: 1 } })],
      ['deleteMany', () => items.deleteMany({}, { hint: 'nope_1' })],
      [
        'findOneAndUpdate',
        () => items.findOneAndUpdate({ _id: 1 }, { $set: { x: 1 } }, { hint: { nope: 1 } }),
      ],
      [
        'findAndModify by name',
        () => db.command({ findAndModify: items.collectionName, query: {}, remove: true, hint: 'nope_1' }),
      ],
      ['findOneAndDelete', () => items.findOneAndDelete({ _id: 1 }, { hint: { nope: 1 } })],
    ];
    for (const [name, refusal] of refusals) {
      const error = await expectMongoError(refusal(), 2);
      expect(error.message, name).toContain(UNKNOWN_HINT);
    }
    // Nothing was written or deleted by the refused writes.
    expect(await items.countDocuments({ x: { $exists: true } })).toBe(0);
    expect(await items.countDocuments({})).toBe(5);
  });

  it('fails only its own statement in a bulk write', async () => {
    const items = await seededCollection();
    const result = await db.command({
      update: items.collectionName,
      ordered: false,
      updates: [
        { q: { _id: 1 }, u: { $set: { x: 1 } }, hint: 'nope_1' },
        { q: { _id: 2 }, u: { $set: { x: 2 } }, hint: 'a_1' },
      ],
    });
    expect(result.n).toBe(1);
    expect(result.writeErrors).toEqual([
      expect.objectContaining({ index: 0, code: 2, errmsg: UNKNOWN_HINT }),
    ]);
    expect(await items.find({ x: { $exists: true } }).toArray()).toEqual([
      { _id: 2, a: 10, b: 1, c: 2, x: 2 },
    ]);
  });

  it('is not checked on a collection that does not exist, as mongod answers with no plan to hint', async () => {
    const missing = db.collection<Item>('hints_missing');
    expect(await missing.find({}, { hint: 'nope_1' }).toArray()).toEqual([]);
    expect((await missing.updateOne({ _id: 1 }, { $set: { x: 1 } }, { hint: 'nope_1' })).matchedCount).toBe(
      0,
    );
  });
});

describe('a hint naming an index', () => {
  it('keeps working by name, by key pattern, and as $natural', async () => {
    const items = await seededCollection();
    expect(await items.find({ a: 10 }, { hint: 'a_1' }).toArray()).toEqual([{ _id: 2, a: 10, b: 1, c: 2 }]);
    expect(await items.countDocuments({ b: 2 }, { hint: { b: 1, c: -1 } })).toBe(2);
    expect(await items.find({}, { hint: { _id: 1 } }).toArray()).toHaveLength(5);
    expect(await items.find({}, { hint: '_id_' }).toArray()).toHaveLength(5);
    const natural = await items.find({}, { hint: { $natural: 1 } }).toArray();
    expect(natural.map((doc) => doc._id)).toEqual([1, 2, 3, 4, 5]);
    const reversed = await items.find({}, { hint: { $natural: -1 } }).toArray();
    expect(reversed.map((doc) => doc._id)).toEqual([5, 4, 3, 2, 1]);
    const updated = await items.updateOne({ a: 30 }, { $set: { x: 1 } }, { hint: { a: 1 } });
    expect(updated.modifiedCount).toBe(1);
    expect((await items.deleteOne({ a: 50 }, { hint: 'a_1' })).deletedCount).toBe(1);
    const distinct = await db.command({ distinct: items.collectionName, key: 'b', hint: 'b_1_c_-1' });
    expect(distinct.values).toEqual([1, 2, 3]);
  });
});

describe('find returnKey and showRecordId', () => {
  it('returns the key fields of the hinted index, of the index the filter uses, or {} for a collection scan', async () => {
    const items = await seededCollection();
    const hinted = await items.find({ a: { $lt: 25 } }, { hint: { b: 1, c: -1 }, returnKey: true }).toArray();
    expect(hinted).toEqual([
      { b: 1, c: 2 },
      { b: 2, c: 2 },
    ]);
    expect(await items.find({ a: 20 }, { returnKey: true }).toArray()).toEqual([{ a: 20 }]);
    expect(await items.find({ _id: 3 }, { returnKey: true }).toArray()).toEqual([{ _id: 3 }]);
    expect(await items.find({ c: 1 }, { returnKey: true, projection: { a: 1 } }).toArray()).toEqual([
      {},
      {},
      {},
    ]);
  });

  it('adds a numeric $recordId that follows natural order and survives updates', async () => {
    const items = await seededCollection();
    const first = await items.find<Document>({}, { showRecordId: true }).toArray();
    const recordIds = first.map((doc) => doc.$recordId as unknown);
    for (const recordId of recordIds) expect(typeof recordId).toBe('number');
    expect([...recordIds].sort((x, y) => Number(x) - Number(y))).toEqual(recordIds);
    expect(new Set(recordIds).size).toBe(5);
    expect(first[0]).toEqual({ _id: 1, a: 30, b: 1, c: 1, $recordId: recordIds[0] });

    await items.updateOne({ _id: 2 }, { $set: { a: 11 } });
    await items.insertOne({ _id: 6, a: 60, b: 4, c: 1 });
    const second = await items.find<Document>({}, { showRecordId: true, projection: { b: 1 } }).toArray();
    expect(second.slice(0, 5)).toEqual(
      recordIds.map((recordId, at) => ({ _id: at + 1, b: first[at]?.b as unknown, $recordId: recordId })),
    );
    expect(Number(second[5]?.$recordId)).toBeGreaterThan(Number(recordIds[4]));
  });
});

describe('find min and max', () => {
  it('bound the hinted index (min inclusive, max exclusive) and return its order', async () => {
    const items = await seededCollection();
    const between = await items.find({}, { hint: { a: 1 }, min: { a: 20 }, max: { a: 40 } }).toArray();
    expect(between.map((doc) => doc.a)).toEqual([20, 30]);
    const from = await items.find({ c: 1 }, { hint: 'a_1', min: { a: 30 } }).toArray();
    expect(from.map((doc) => doc._id)).toEqual([1, 5, 3]);
    // On {b: 1, c: -1} the key (2, 2) sorts before (2, 1).
    const compound = await items
      .find({}, { hint: { b: 1, c: -1 }, min: { b: 1, c: 1 }, max: { b: 2, c: 1 } })
      .toArray();
    expect(compound.map((doc) => doc._id)).toEqual([1, 4]);
  });

  it('are refused without a hint, on another index, and when min is not below max', async () => {
    const items = await seededCollection();
    const noHint = await expectMongoError(items.find({}, { min: { a: 20 } }).toArray(), 51173);
    expect(noHint.message).toContain('a hint of which index to use must be provided');
    await expectMongoError(items.find({}, { hint: { a: 1 }, max: { b: 2 } }).toArray(), 51174);
    await expectMongoError(
      items.find({}, { hint: { a: 1 }, min: { a: 40 }, max: { a: 20 } }).toArray(),
      51175,
    );
  });
});
