// CRUD through the official driver: inserts and duplicate keys, queries and cursors, update operators,
// findAndModify, bulkWrite, aggregation and BSON type fidelity.
import {
  Binary,
  Decimal128,
  Double,
  Int32,
  Long,
  MongoBulkWriteError,
  MongoServerError,
  ObjectId,
  type Collection,
  type Db,
  type Document,
  type WriteError,
} from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bsonTypeOf,
  expectMongoError,
  rejectionOf,
  uniqueDbName,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

let fixture: ServerFixture;

/** Documents whose `_id` is a number rather than an ObjectId, so filters like `{ _id: 1 }` type-check. */
type LooseIdDocument = Document & { _id?: number };

interface WriteErrorReply {
  index: number;
  code: number;
  errmsg: string;
  keyPattern: Document;
  keyValue: Document;
}
let db: Db;
let collectionCounter = 0;

/** A fresh collection per test, so tests never see each other's documents. */
function freshCollection<T extends Document = Document>(): Collection<T> {
  collectionCounter += 1;
  return db.collection<T>(`c${collectionCounter}`);
}

beforeAll(async () => {
  fixture = await withServer();
  db = fixture.client.db(uniqueDbName('crud'));
});

afterAll(async () => {
  await fixture?.stop();
});

describe('insert', () => {
  it('insertOne generates an ObjectId _id and stores it as the first field', async () => {
    const items = freshCollection();
    const result = await items.insertOne({ name: 'a', nested: { x: 1 } });
    expect(result.acknowledged).toBe(true);
    expect(result.insertedId).toBeInstanceOf(ObjectId);
    const stored = await items.findOne({ _id: result.insertedId });
    expect(Object.keys(stored!)).toEqual(['_id', 'name', 'nested']);
    expect(stored!._id.equals(result.insertedId)).toBe(true);
  });

  it('moves a client-supplied _id to the front', async () => {
    const items = freshCollection();
    await db.command({ insert: items.collectionName, documents: [{ a: 1, _id: 'x', b: 2 }] });
    const stored = await items.findOne({ _id: 'x' as never });
    expect(Object.keys(stored!)).toEqual(['_id', 'a', 'b']);
  });

  it('insertMany inserts in order and returns the ids', async () => {
    const items = freshCollection();
    const result = await items.insertMany([{ n: 1 }, { n: 2 }, { _id: 'custom' as never, n: 3 }]);
    expect(result.insertedCount).toBe(3);
    expect(result.insertedIds[2]).toBe('custom');
    const all = await items.find().toArray();
    expect(all.map((doc): unknown => doc.n)).toEqual([1, 2, 3]);
  });

  it('insertOne of a duplicate _id fails with 11000, keyPattern and keyValue', async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 7 as never, v: 'first' });
    const error = await expectMongoError(items.insertOne({ _id: 7 as never, v: 'second' }), 11000);
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.keyPattern).toEqual({ _id: 1 });
    expect(error.keyValue).toEqual({ _id: 7 });
    expect(error.message).toMatch(
      /^E11000 duplicate key error collection: .+\.c\d+ index: _id_ dup key: \{ _id: 7 \}$/,
    );
    expect(await items.find().toArray()).toEqual([{ _id: 7, v: 'first' }]);
  });

  it('ordered insertMany stops at the first duplicate', async () => {
    const items = freshCollection();
    const error = await rejectionOf(
      items.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }, { _id: 2 }] as never[]),
    );
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    const bulkError = error as unknown as MongoBulkWriteError;
    expect(bulkError.code).toBe(11000);
    const writeErrors = ([] as WriteError[]).concat(bulkError.writeErrors);
    expect(writeErrors.map((writeError) => [writeError.index, writeError.code])).toEqual([[2, 11000]]);
    expect(bulkError.result.insertedCount).toBe(2);
    expect((await items.find().toArray()).map((doc): unknown => doc._id)).toEqual([1, 2]);
  });

  it('unordered insertMany reports every duplicate and inserts the rest', async () => {
    const items = freshCollection();
    const error = await rejectionOf(
      items.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }, { _id: 2 }] as never[], {
        ordered: false,
      }),
    );
    const bulkError = error as unknown as MongoBulkWriteError;
    const writeErrors = ([] as WriteError[]).concat(bulkError.writeErrors);
    expect(writeErrors.map((writeError) => [writeError.index, writeError.code])).toEqual([
      [2, 11000],
      [4, 11000],
    ]);
    expect(bulkError.result.insertedCount).toBe(3);
    expect((await items.find().sort({ _id: 1 }).toArray()).map((doc): unknown => doc._id)).toEqual([1, 2, 3]);
  });

  it('writeErrors carry keyPattern and keyValue per write, as MongoDB shapes them', async () => {
    // The driver's bulk API keeps only index/code/errmsg, so read the server's reply through a raw command.
    const items = freshCollection();
    await items.createIndex({ email: 1 }, { unique: true });
    const reply = (await db.command({
      insert: items.collectionName,
      ordered: false,
      documents: [
        { _id: 1, email: 'a@x' },
        { _id: 1, email: 'b@x' },
        { _id: 2, email: 'a@x' },
      ],
    })) as { ok: number; n: number; writeErrors: WriteErrorReply[] };
    expect(reply.ok).toBe(1);
    expect(reply.n).toBe(1);
    expect(reply.writeErrors).toHaveLength(2);
    expect(reply.writeErrors[0]).toMatchObject({
      index: 1,
      code: 11000,
      keyPattern: { _id: 1 },
      keyValue: { _id: 1 },
    });
    expect(reply.writeErrors[0]!.errmsg).toContain('index: _id_ dup key: { _id: 1 }');
    expect(reply.writeErrors[1]).toMatchObject({
      index: 2,
      code: 11000,
      keyPattern: { email: 1 },
      keyValue: { email: 'a@x' },
    });
    expect(reply.writeErrors[1]!.errmsg).toContain('index: email_1 dup key: { email: "a@x" }');
  });
});

describe('find', () => {
  let people: Collection<LooseIdDocument>;

  beforeAll(async () => {
    people = db.collection<LooseIdDocument>('people');
    await people.insertMany([
      {
        _id: 1,
        name: 'ada',
        age: 36,
        tags: ['math', 'code'],
        address: { city: 'London', zip: 'N1' },
        scores: [
          { s: 5, k: 'a' },
          { s: 9, k: 'b' },
        ],
      },
      {
        _id: 2,
        name: 'bob',
        age: 25,
        tags: ['code'],
        address: { city: 'Paris' },
        scores: [{ s: 3, k: 'a' }],
      },
      { _id: 3, name: 'cy', age: 25, tags: [], address: { city: 'London', zip: 'E2' }, nickname: null },
      { _id: 4, name: 'dee', age: 52, tags: ['art'], scores: [{ s: 9, k: 'a' }] },
      { _id: 5, name: 'Eve', age: 41, address: { city: 'Berlin' } },
    ] as never[]);
  });

  const ids = (docs: Document[]): unknown[] => docs.map((doc): unknown => doc._id);

  it('filters with comparison operators', async () => {
    expect(
      ids(
        await people
          .find({ age: { $gt: 36 } })
          .sort({ _id: 1 })
          .toArray(),
      ),
    ).toEqual([4, 5]);
    expect(
      ids(
        await people
          .find({ age: { $gte: 36, $lt: 50 } })
          .sort({ _id: 1 })
          .toArray(),
      ),
    ).toEqual([1, 5]);
    expect(
      ids(
        await people
          .find({ age: { $ne: 25 } })
          .sort({ _id: 1 })
          .toArray(),
      ),
    ).toEqual([1, 4, 5]);
    expect(
      ids(
        await people
          .find({ name: { $in: ['bob', 'dee', 'zed'] } })
          .sort({ _id: 1 })
          .toArray(),
      ),
    ).toEqual([2, 4]);
    expect(
      ids(
        await people
          .find({ name: { $nin: ['bob', 'dee'] } })
          .sort({ _id: 1 })
          .toArray(),
      ),
    ).toEqual([1, 3, 5]);
  });

  it('filters with $regex (pattern and options)', async () => {
    expect(
      ids(
        await people
          .find({ name: { $regex: '^[a-c]' } })
          .sort({ _id: 1 })
          .toArray(),
      ),
    ).toEqual([1, 2, 3]);
    expect(ids(await people.find({ name: { $regex: '^e', $options: 'i' } }).toArray())).toEqual([5]);
    expect(ids(await people.find({ name: /^E/ }).toArray())).toEqual([5]);
  });

  it('filters with $exists and null', async () => {
    expect(ids(await people.find({ address: { $exists: false } }).toArray())).toEqual([4]);
    expect(
      ids(
        await people
          .find({ 'address.zip': { $exists: true } })
          .sort({ _id: 1 })
          .toArray(),
      ),
    ).toEqual([1, 3]);
    // null matches both an explicit null and a missing field.
    expect(ids(await people.find({ nickname: null }).sort({ _id: 1 }).toArray())).toEqual([1, 2, 3, 4, 5]);
    expect(ids(await people.find({ nickname: { $exists: true } }).toArray())).toEqual([3]);
  });

  it('filters on arrays: element equality, $all, $size and $elemMatch', async () => {
    expect(ids(await people.find({ tags: 'code' }).sort({ _id: 1 }).toArray())).toEqual([1, 2]);
    expect(ids(await people.find({ tags: { $all: ['math', 'code'] } }).toArray())).toEqual([1]);
    expect(ids(await people.find({ tags: { $size: 0 } }).toArray())).toEqual([3]);
    expect(
      ids(
        await people
          .find({ scores: { $elemMatch: { s: { $gt: 4 }, k: 'a' } } })
          .sort({ _id: 1 })
          .toArray(),
      ),
    ).toEqual([1, 4]);
    // Without $elemMatch the conditions may be met by different elements.
    expect(ids(await people.find({ 'scores.s': 9, 'scores.k': 'a' }).sort({ _id: 1 }).toArray())).toEqual([
      1, 4,
    ]);
    expect(
      ids(
        await people
          .find({ 'scores.s': { $gt: 8 } })
          .sort({ _id: 1 })
          .toArray(),
      ),
    ).toEqual([1, 4]);
  });

  it('filters with $or, $and, $not and nested paths', async () => {
    expect(
      ids(
        await people
          .find({ $or: [{ age: 52 }, { 'address.city': 'Paris' }] })
          .sort({ _id: 1 })
          .toArray(),
      ),
    ).toEqual([2, 4]);
    expect(
      ids(await people.find({ $and: [{ 'address.city': 'London' }, { age: { $lt: 30 } }] }).toArray()),
    ).toEqual([3]);
    expect(
      ids(
        await people
          .find({ age: { $not: { $gt: 30 } } })
          .sort({ _id: 1 })
          .toArray(),
      ),
    ).toEqual([2, 3]);
    expect(ids(await people.find({ address: { city: 'Paris' } }).toArray())).toEqual([2]);
    expect(ids(await people.find({ 'address.city': 'London', 'address.zip': 'E2' }).toArray())).toEqual([3]);
  });

  it('rejects an unknown query operator with BadValue (2)', async () => {
    await expectMongoError(people.find({ age: { $bogus: 1 } }).toArray(), 2);
  });

  it('sorts by several keys, descending, with skip and limit', async () => {
    const sorted = await people.find({}).sort({ age: -1, name: 1 }).toArray();
    expect(ids(sorted)).toEqual([4, 5, 1, 2, 3]);
    const byAgeThenNameDesc = await people.find({}).sort({ age: 1, name: -1 }).toArray();
    expect(ids(byAgeThenNameDesc)).toEqual([3, 2, 1, 5, 4]);
    expect(ids(await people.find({}).sort({ age: -1, name: 1 }).skip(1).limit(2).toArray())).toEqual([5, 1]);
    expect(ids(await people.find({}).sort({ _id: 1 }).skip(4).toArray())).toEqual([5]);
    expect(ids(await people.find({}).sort({ _id: 1 }).skip(10).toArray())).toEqual([]);
    // Missing fields sort first ascending (null/missing before numbers before strings).
    expect(ids(await people.find({}).sort({ 'address.zip': 1, _id: 1 }).toArray())).toEqual([2, 4, 5, 3, 1]);
  });

  it('projects with inclusion, exclusion and nested paths', async () => {
    expect(await people.find({ _id: 1 }, { projection: { name: 1 } }).toArray()).toEqual([
      { _id: 1, name: 'ada' },
    ]);
    expect(await people.find({ _id: 1 }, { projection: { name: 1, _id: 0 } }).toArray()).toEqual([
      { name: 'ada' },
    ]);
    expect(await people.find({ _id: 1 }, { projection: { 'address.city': 1 } }).toArray()).toEqual([
      { _id: 1, address: { city: 'London' } },
    ]);
    expect(
      await people.find({ _id: 2 }, { projection: { tags: 0, scores: 0, address: 0 } }).toArray(),
    ).toEqual([{ _id: 2, name: 'bob', age: 25 }]);
  });

  it('counts and lists distinct values', async () => {
    expect(await people.countDocuments()).toBe(5);
    expect(await people.countDocuments({ age: 25 })).toBe(2);
    expect(await people.countDocuments({}, { skip: 1, limit: 2 })).toBe(2);
    expect(await people.estimatedDocumentCount()).toBe(5);
    expect(await people.distinct('age')).toEqual([25, 36, 41, 52]);
    expect(await people.distinct('address.city', { age: { $lt: 40 } })).toEqual(['London', 'Paris']);
    // distinct unwinds arrays.
    expect(await people.distinct('tags')).toEqual(['art', 'code', 'math']);
    expect(await freshCollection().estimatedDocumentCount()).toBe(0);
  });

  it('findOne returns null when nothing matches', async () => {
    expect(await people.findOne({ name: 'nobody' })).toBeNull();
  });
});

describe('cursors', () => {
  it('returns 1,050 documents in batches of 100, each once and in order', async () => {
    const items = freshCollection();
    const total = 1050;
    await items.insertMany(
      Array.from({ length: total }, (_, i) => ({ _id: i as never, i, pad: 'x'.repeat(50) })),
    );
    const seen: number[] = [];
    const cursor = items.find({}, { batchSize: 100 }).sort({ i: 1 });
    for await (const doc of cursor) seen.push(doc.i as number);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
    // A filtered, descending cursor over many batches.
    const odd = await items
      .find({ i: { $mod: [2, 1] } }, { batchSize: 7 })
      .sort({ i: -1 })
      .toArray();
    expect(odd).toHaveLength(525);
    expect(odd[0]!.i).toBe(1049);
    expect(odd.at(-1)!.i).toBe(1);
  });

  it('honours limit across batches and closes the server cursor', async () => {
    const items = freshCollection();
    await items.insertMany(Array.from({ length: 300 }, (_, i) => ({ i })));
    const docs = await items.find({}, { batchSize: 50 }).limit(175).toArray();
    expect(docs).toHaveLength(175);
    expect(docs.map((doc): unknown => doc.i)).toEqual(Array.from({ length: 175 }, (_, i) => i));
  });

  it('an explicitly closed cursor cannot be continued (CursorNotFound 43 on getMore)', async () => {
    const items = freshCollection();
    await items.insertMany(Array.from({ length: 30 }, (_, i) => ({ i })));
    const first = (await db.command(
      { find: items.collectionName, batchSize: 10 },
      { promoteLongs: false },
    )) as { cursor: { id: Long; firstBatch: Document[] } };
    const cursorId = first.cursor.id;
    expect(bsonTypeOf(cursorId)).toBe('Long');
    expect(first.cursor.firstBatch).toHaveLength(10);
    const killed = await db.command({ killCursors: items.collectionName, cursors: [cursorId] });
    expect(killed.cursorsKilled).toHaveLength(1);
    await expectMongoError(db.command({ getMore: cursorId, collection: items.collectionName }), 43);
  });
});

describe('update operators', () => {
  it('$set, $inc, $unset, $rename, $min, $max and $currentDate', async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 1 as never, a: 1, b: 'x', c: 5, d: 10, old: 'name', nested: { n: 1 } });
    const result = await items.updateOne(
      { _id: 1 as never },
      {
        $set: { b: 'y', 'nested.m': 2, 'deep.er.path': true },
        $inc: { a: 2, counter: 1 },
        $unset: { c: '' },
        $rename: { old: 'renamed' },
        $min: { d: 3 },
        $max: { e: 8 },
        $currentDate: { touched: true },
      },
    );
    expect(result).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null });
    const doc = await items.findOne({ _id: 1 as never });
    expect(doc).toMatchObject({
      _id: 1,
      a: 3,
      b: 'y',
      d: 3,
      e: 8,
      renamed: 'name',
      counter: 1,
      nested: { n: 1, m: 2 },
      deep: { er: { path: true } },
    });
    expect(doc).not.toHaveProperty('c');
    expect(doc).not.toHaveProperty('old');
    expect(doc!.touched).toBeInstanceOf(Date);
    // $min/$max that do not improve leave the value alone; a no-op update reports modifiedCount 0.
    const noop = await items.updateOne({ _id: 1 as never }, { $min: { d: 100 }, $max: { e: 1 } });
    expect(noop).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
  });

  it('$push (with $each/$slice), $pull, $addToSet and $pop on arrays', async () => {
    const items = freshCollection<{
      _id: number;
      list: number[];
      set: string[];
      nums: number[];
      fresh?: string[];
    }>();
    await items.insertOne({ _id: 1, list: [1, 2, 3], set: ['a'], nums: [5, 1, 4] });
    await items.updateOne({ _id: 1 }, { $push: { list: 4 }, $addToSet: { set: { $each: ['a', 'b'] } } });
    await items.updateOne({ _id: 1 }, { $pull: { list: { $gte: 3 } }, $addToSet: { set: 'b' } });
    await items.updateOne({ _id: 1 }, { $push: { nums: { $each: [9, 0], $sort: 1, $slice: 3 } } });
    await items.updateOne({ _id: 1 }, { $push: { fresh: 'first' } });
    expect(await items.findOne({ _id: 1 })).toEqual({
      _id: 1,
      list: [1, 2],
      set: ['a', 'b'],
      nums: [0, 1, 4],
      fresh: ['first'],
    });
    await items.updateOne({ _id: 1 }, { $pop: { nums: -1 } });
    expect((await items.findOne({ _id: 1 }))!.nums).toEqual([1, 4]);
  });

  it('updateMany updates every match and reports counts', async () => {
    const items = freshCollection();
    await items.insertMany([
      { g: 1, v: 0 },
      { g: 1, v: 0 },
      { g: 2, v: 0 },
      { g: 1, v: 5 },
    ]);
    const result = await items.updateMany({ g: 1 }, { $set: { v: 5 } });
    expect(result).toMatchObject({ matchedCount: 3, modifiedCount: 2 });
    expect(await items.countDocuments({ v: 5 })).toBe(3);
    expect(await items.countDocuments({ g: 2, v: 0 })).toBe(1);
  });

  it('upsert inserts from the filter, applies $setOnInsert only on insert, and returns upsertedId', async () => {
    const items = freshCollection();
    const inserted = await items.updateOne(
      { key: 'k1', kind: { $in: ['x', 'y'] } },
      { $set: { value: 1 }, $setOnInsert: { createdBy: 'upsert' }, $inc: { hits: 1 } },
      { upsert: true },
    );
    expect(inserted).toMatchObject({ matchedCount: 0, modifiedCount: 0, upsertedCount: 1 });
    expect(inserted.upsertedId).toBeInstanceOf(ObjectId);
    const created = await items.findOne({ key: 'k1' });
    expect(created).toEqual({ _id: inserted.upsertedId, key: 'k1', value: 1, createdBy: 'upsert', hits: 1 });
    const updated = await items.updateOne(
      { key: 'k1' },
      { $set: { value: 2 }, $setOnInsert: { createdBy: 'second' }, $inc: { hits: 1 } },
      { upsert: true },
    );
    expect(updated).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null });
    expect(await items.findOne({ key: 'k1' }, { projection: { _id: 0 } })).toEqual({
      key: 'k1',
      value: 2,
      createdBy: 'upsert',
      hits: 2,
    });
    // The filter's _id becomes the new document's _id.
    const withId = await items.updateOne({ _id: 'chosen' as never }, { $set: { v: 1 } }, { upsert: true });
    expect(withId.upsertedId).toBe('chosen');
  });

  it('positional $ and arrayFilters update the matching array elements', async () => {
    const items = freshCollection();
    await items.insertOne({
      _id: 1 as never,
      grades: [80, 95, 70],
      lines: [
        { sku: 'a', qty: 1 },
        { sku: 'b', qty: 2 },
        { sku: 'c', qty: 5 },
      ],
    });
    await items.updateOne({ _id: 1 as never, grades: 95 }, { $set: { 'grades.$': 96 } });
    await items.updateOne({ _id: 1 as never, 'lines.sku': 'b' }, { $inc: { 'lines.$.qty': 10 } });
    await items.updateOne(
      { _id: 1 as never },
      { $set: { 'lines.$[big].flag': true } },
      { arrayFilters: [{ 'big.qty': { $gte: 5 } }] },
    );
    await items.updateOne({ _id: 1 as never }, { $inc: { 'grades.$[]': 1 } });
    expect(await items.findOne({ _id: 1 as never })).toEqual({
      _id: 1,
      grades: [81, 97, 71],
      lines: [
        { sku: 'a', qty: 1 },
        { sku: 'b', qty: 12, flag: true },
        { sku: 'c', qty: 5, flag: true },
      ],
    });
  });

  it('pipeline updates compute fields from the document', async () => {
    const items = freshCollection();
    await items.insertMany([
      { _id: 1, price: 10, qty: 3 },
      { _id: 2, price: 4, qty: 5 },
    ] as never[]);
    await items.updateMany({}, [{ $set: { total: { $multiply: ['$price', '$qty'] } } }, { $unset: 'qty' }]);
    expect(await items.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, price: 10, total: 30 },
      { _id: 2, price: 4, total: 20 },
    ]);
  });

  it('replaceOne replaces the whole document and keeps _id', async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 1 as never, a: 1, b: 2 });
    const result = await items.replaceOne({ _id: 1 as never }, { c: 3 });
    expect(result).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    expect(await items.findOne({ _id: 1 as never })).toEqual({ _id: 1, c: 3 });
    const upserted = await items.replaceOne({ name: 'new' }, { name: 'new', v: 1 }, { upsert: true });
    expect(upserted.upsertedId).toBeInstanceOf(ObjectId);
    expect(await items.countDocuments({ name: 'new' })).toBe(1);
  });

  it('changing _id fails with ImmutableField (66) and leaves the document unchanged', async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 1 as never, a: 1 });
    await expectMongoError(items.updateOne({ _id: 1 as never }, { $set: { _id: 2, a: 2 } }), 66);
    await expectMongoError(items.replaceOne({ _id: 1 as never }, { _id: 3 as never, a: 3 }), 66);
    expect(await items.find().toArray()).toEqual([{ _id: 1, a: 1 }]);
  });

  it('rejects conflicting or malformed update documents', async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 1 as never, a: 1 });
    await expectMongoError(items.updateOne({ _id: 1 as never }, { $set: { a: 1 }, $inc: { a: 1 } }), 40);
    const error = await rejectionOf(items.updateOne({ _id: 1 as never }, { $bogus: { a: 1 } }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(await items.findOne({ _id: 1 as never })).toEqual({ _id: 1, a: 1 });
  });
});

describe('delete', () => {
  it('deleteOne removes one match, deleteMany all matches', async () => {
    const items = freshCollection();
    await items.insertMany([{ g: 1 }, { g: 1 }, { g: 2 }, { g: 1 }]);
    expect((await items.deleteOne({ g: 1 })).deletedCount).toBe(1);
    expect(await items.countDocuments({ g: 1 })).toBe(2);
    expect((await items.deleteMany({ g: 1 })).deletedCount).toBe(2);
    expect((await items.deleteMany({ g: 9 })).deletedCount).toBe(0);
    expect(await items.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ g: 2 }]);
    expect((await items.deleteMany({})).deletedCount).toBe(1);
    expect(await items.countDocuments()).toBe(0);
  });
});

describe('findAndModify', () => {
  it('findOneAndUpdate returns the document before or after, and sort picks which one', async () => {
    const items = freshCollection();
    await items.insertMany([
      { _id: 1, q: 'x', rank: 2, n: 0 },
      { _id: 2, q: 'x', rank: 9, n: 0 },
      { _id: 3, q: 'x', rank: 5, n: 0 },
    ] as never[]);
    const before = await items.findOneAndUpdate(
      { q: 'x' },
      { $inc: { n: 1 } },
      { sort: { rank: -1 }, returnDocument: 'before' },
    );
    expect(before).toEqual({ _id: 2, q: 'x', rank: 9, n: 0 });
    const after = await items.findOneAndUpdate(
      { q: 'x' },
      { $inc: { n: 1 } },
      { sort: { rank: 1 }, returnDocument: 'after', projection: { n: 1 } },
    );
    expect(after).toEqual({ _id: 1, n: 1 });
    const withMetadata = await items.findOneAndUpdate(
      { _id: 3 as never },
      { $set: { n: 7 } },
      { returnDocument: 'after', includeResultMetadata: true },
    );
    expect(withMetadata.ok).toBe(1);
    expect(withMetadata.value).toEqual({ _id: 3, q: 'x', rank: 5, n: 7 });
    expect(withMetadata.lastErrorObject).toMatchObject({ n: 1, updatedExisting: true });
    expect(await items.findOneAndUpdate({ q: 'none' }, { $set: { n: 1 } })).toBeNull();
  });

  it('findOneAndUpdate with upsert inserts and returns the new document', async () => {
    const items = freshCollection();
    const created = await items.findOneAndUpdate(
      { key: 'a' },
      { $set: { v: 1 }, $setOnInsert: { created: true } },
      { upsert: true, returnDocument: 'after', includeResultMetadata: true },
    );
    expect(created.value).toMatchObject({ key: 'a', v: 1, created: true });
    expect(created.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false });
    expect(created.lastErrorObject!.upserted).toBeInstanceOf(ObjectId);
    const beforeUpsert = await items.findOneAndUpdate(
      { key: 'b' },
      { $set: { v: 2 } },
      { upsert: true, returnDocument: 'before' },
    );
    expect(beforeUpsert).toBeNull();
    expect(await items.countDocuments()).toBe(2);
  });

  it('findOneAndReplace and findOneAndDelete', async () => {
    const items = freshCollection();
    await items.insertMany([
      { _id: 1, k: 'a', v: 1 },
      { _id: 2, k: 'a', v: 2 },
    ] as never[]);
    const replaced = await items.findOneAndReplace(
      { k: 'a' },
      { k: 'b', v: 3 },
      { sort: { v: -1 }, returnDocument: 'after' },
    );
    expect(replaced).toEqual({ _id: 2, k: 'b', v: 3 });
    const deleted = await items.findOneAndDelete({ k: { $in: ['a', 'b'] } }, { sort: { v: 1 } });
    expect(deleted).toEqual({ _id: 1, k: 'a', v: 1 });
    expect(await items.find().toArray()).toEqual([{ _id: 2, k: 'b', v: 3 }]);
    expect(await items.findOneAndDelete({ k: 'zzz' })).toBeNull();
  });
});

describe('bulkWrite', () => {
  it('applies a mixed batch and reports every count', async () => {
    const items = freshCollection();
    await items.insertMany([
      { _id: 1, v: 1 },
      { _id: 2, v: 2 },
      { _id: 3, v: 3 },
    ] as never[]);
    const result = await items.bulkWrite([
      { insertOne: { document: { _id: 4 as never, v: 4 } } },
      { updateOne: { filter: { _id: 1 as never }, update: { $set: { v: 10 } } } },
      { updateMany: { filter: { v: { $lte: 3 } }, update: { $inc: { v: 100 } } } },
      { replaceOne: { filter: { _id: 4 as never }, replacement: { v: 40 } } },
      { deleteOne: { filter: { _id: 3 as never } } },
      { updateOne: { filter: { _id: 9 as never }, update: { $set: { v: 9 } }, upsert: true } },
      { deleteMany: { filter: { v: { $gt: 1000 } } } },
    ]);
    expect(result).toMatchObject({
      insertedCount: 1,
      matchedCount: 4,
      modifiedCount: 4,
      deletedCount: 1,
      upsertedCount: 1,
    });
    expect(result.upsertedIds).toEqual({ 5: 9 });
    expect(await items.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, v: 10 },
      { _id: 2, v: 102 },
      { _id: 4, v: 40 },
      { _id: 9, v: 9 },
    ]);
  });

  it('an unordered bulkWrite with a duplicate applies the other operations', async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 1 as never });
    const error = await rejectionOf(
      items.bulkWrite(
        [
          { insertOne: { document: { _id: 1 as never } } },
          { insertOne: { document: { _id: 2 as never } } },
          { updateOne: { filter: { _id: 2 as never }, update: { $set: { ok: true } } } },
        ],
        { ordered: false },
      ),
    );
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    expect(error.code).toBe(11000);
    expect(await items.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1 }, { _id: 2, ok: true }]);
  });
});

describe('aggregate', () => {
  let orders: Collection;
  let customers: Collection;

  beforeAll(async () => {
    orders = db.collection('orders');
    customers = db.collection('customers');
    await customers.insertMany([
      { _id: 'c1', name: 'Ada' },
      { _id: 'c2', name: 'Bob' },
    ] as never[]);
    await orders.insertMany([
      { _id: 1, customer: 'c1', status: 'paid', total: 10, items: ['a', 'b'] },
      { _id: 2, customer: 'c1', status: 'paid', total: 5, items: ['c'] },
      { _id: 3, customer: 'c2', status: 'paid', total: 7, items: [] },
      { _id: 4, customer: 'c2', status: 'open', total: 100, items: ['a'] },
    ] as never[]);
  });

  it('$match, $group, $sort and $project', async () => {
    const result = await orders
      .aggregate([
        { $match: { status: 'paid' } },
        {
          $group: { _id: '$customer', sum: { $sum: '$total' }, count: { $sum: 1 }, max: { $max: '$total' } },
        },
        { $sort: { sum: -1 } },
        { $project: { _id: 0, customer: '$_id', sum: 1, count: 1, max: 1 } },
      ])
      .toArray();
    expect(result).toEqual([
      { sum: 15, count: 2, max: 10, customer: 'c1' },
      { sum: 7, count: 1, max: 7, customer: 'c2' },
    ]);
  });

  it('$lookup and $unwind', async () => {
    const result = await orders
      .aggregate([
        { $match: { _id: { $in: [1, 3] } } },
        { $lookup: { from: 'customers', localField: 'customer', foreignField: '_id', as: 'who' } },
        { $unwind: '$who' },
        { $unwind: { path: '$items', preserveNullAndEmptyArrays: true } },
        { $project: { _id: 1, name: '$who.name', item: '$items' } },
        { $sort: { _id: 1, item: 1 } },
      ])
      .toArray();
    expect(result).toEqual([
      { _id: 1, name: 'Ada', item: 'a' },
      { _id: 1, name: 'Ada', item: 'b' },
      { _id: 3, name: 'Bob' },
    ]);
  });

  it('$count, $skip and $limit', async () => {
    expect(await orders.aggregate([{ $match: { total: { $gte: 7 } } }, { $count: 'n' }]).toArray()).toEqual([
      { n: 3 },
    ]);
    const page = await orders
      .aggregate([{ $sort: { _id: 1 } }, { $skip: 1 }, { $limit: 2 }, { $project: { _id: 1 } }])
      .toArray();
    expect(page).toEqual([{ _id: 2 }, { _id: 3 }]);
  });

  it('returns many results over several batches', async () => {
    const items = freshCollection();
    await items.insertMany(Array.from({ length: 450 }, (_, i) => ({ i })));
    const out = await items.aggregate([{ $sort: { i: -1 } }], { batchSize: 50 }).toArray();
    expect(out.map((doc): unknown => doc.i)).toEqual(Array.from({ length: 450 }, (_, i) => 449 - i));
  });

  it('$out writes the result into a collection, replacing its contents', async () => {
    const summary = db.collection('order_summary');
    await summary.insertOne({ stale: true });
    const cursor = orders.aggregate([
      { $group: { _id: '$status', total: { $sum: '$total' } } },
      { $sort: { _id: 1 } },
      { $out: 'order_summary' },
    ]);
    expect(await cursor.toArray()).toEqual([]);
    expect(await summary.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'open', total: 100 },
      { _id: 'paid', total: 22 },
    ]);
  });

  it('rejects an unknown stage', async () => {
    const error = await rejectionOf(orders.aggregate([{ $noSuchStage: {} }]).toArray());
    expect(error).toBeInstanceOf(MongoServerError);
  });
});

describe('BSON types', () => {
  it('round-trip Long, Decimal128, Binary, Date, ObjectId, nested arrays and null', async () => {
    const items = freshCollection();
    const big = Long.fromString('9007199254740993');
    const document = {
      _id: new ObjectId(),
      big,
      dec: Decimal128.fromString('1234.5678901234567890'),
      bin: new Binary(Buffer.from([0, 1, 2, 255]), 0),
      uuid: new Binary(Buffer.alloc(16, 7), 4),
      when: new Date('2024-02-29T12:34:56.789Z'),
      nested: [[1, [2, [3]]], { a: [null, { b: 'c' }] }],
      nothing: null,
      flag: false,
      text: 'ünïcødé ✓',
      neg: -0.5,
    };
    await items.insertOne(document);
    const stored = await items.findOne({ _id: document._id }, { promoteLongs: false });
    expect(stored).not.toBeNull();
    expect(bsonTypeOf(stored!.big)).toBe('Long');
    expect((stored!.big as Long).toString()).toBe('9007199254740993');
    expect(bsonTypeOf(stored!.dec)).toBe('Decimal128');
    expect(String(stored!.dec)).toBe('1234.5678901234567890');
    expect(bsonTypeOf(stored!.bin)).toBe('Binary');
    expect(Buffer.from((stored!.bin as Binary).buffer)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect((stored!.uuid as Binary).sub_type).toBe(4);
    expect(stored!.when).toEqual(new Date('2024-02-29T12:34:56.789Z'));
    expect(stored!.nested).toEqual([[1, [2, [3]]], { a: [null, { b: 'c' }] }]);
    expect(stored!.nothing).toBeNull();
    expect(stored!.flag).toBe(false);
    expect(stored!.text).toBe('ünïcødé ✓');
    expect(stored!.neg).toBe(-0.5);
    // Equality queries on wrapped values find the document.
    expect(await items.countDocuments({ big })).toBe(1);
    expect(await items.countDocuments({ dec: Decimal128.fromString('1234.5678901234567890') })).toBe(1);
    expect(await items.countDocuments({ when: new Date('2024-02-29T12:34:56.789Z') })).toBe(1);
  });

  it('int64 and double values keep their BSON type', async () => {
    const items = freshCollection();
    await items.insertOne({
      _id: 1 as never,
      small: Long.fromNumber(5),
      whole: new Double(2),
      int: new Int32(3),
    });
    const raw = await items.findOne({ _id: 1 as never }, { promoteLongs: false, promoteValues: false });
    expect(bsonTypeOf(raw!.small)).toBe('Long');
    expect(bsonTypeOf(raw!.whole)).toBe('Double');
    expect(bsonTypeOf(raw!.int)).toBe('Int32');
    expect(await items.countDocuments({ small: { $type: 'long' } })).toBe(1);
    expect(await items.countDocuments({ whole: { $type: 'double' } })).toBe(1);
    expect(await items.countDocuments({ whole: { $type: 'int' } })).toBe(0);
  });

  it('compares and sorts numbers by value across int32, double, Long and Decimal128', async () => {
    const items = freshCollection();
    await items.insertMany([
      { _id: 'int', v: 3 },
      { _id: 'double', v: 2.5 },
      { _id: 'long', v: Long.fromNumber(4) },
      { _id: 'bigLong', v: Long.fromString('9007199254740993') },
      { _id: 'decimal', v: Decimal128.fromString('3.5') },
      { _id: 'negative', v: -1 },
    ] as never[]);
    const ascending = await items.find().sort({ v: 1 }).toArray();
    expect(ascending.map((doc): unknown => doc._id)).toEqual([
      'negative',
      'double',
      'int',
      'decimal',
      'long',
      'bigLong',
    ]);
    const above3 = await items
      .find({ v: { $gt: 3 } })
      .sort({ v: 1 })
      .toArray();
    expect(above3.map((doc): unknown => doc._id)).toEqual(['decimal', 'long', 'bigLong']);
    expect(await items.countDocuments({ v: Long.fromNumber(3) })).toBe(1);
    expect(await items.countDocuments({ v: 4 })).toBe(1);
    expect(await items.countDocuments({ v: 4.0 })).toBe(1);
    expect(await items.countDocuments({ v: Decimal128.fromString('4') })).toBe(1);
    expect(await items.countDocuments({ v: { $gt: Long.fromString('9007199254740992') } })).toBe(1);
    expect(await items.countDocuments({ v: { $lt: Decimal128.fromString('2.6') } })).toBe(2);
    // 1 and 1.0 and Long(1) are the same _id.
    await items.insertOne({ _id: 1 as never });
    await expectMongoError(items.insertOne({ _id: Long.fromNumber(1) as never }), 11000);
    await expectMongoError(items.insertOne({ _id: new Double(1) as never }), 11000);
  });

  it('$inc keeps numbers exact across types', async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 1 as never, n: 1, big: Long.fromString('9007199254740993') });
    await items.updateOne({ _id: 1 as never }, { $inc: { n: 0.5, big: 1 } });
    const doc = await items.findOne({ _id: 1 as never }, { promoteLongs: false });
    expect(doc!.n).toBe(1.5);
    expect(String(doc!.big)).toBe('9007199254740994');
  });
});
