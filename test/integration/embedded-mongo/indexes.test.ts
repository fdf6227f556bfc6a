// Indexes (unique, compound, sparse, partial; maintenance on writes) and database/collection administration.
import { MongoServerError, type Collection, type Db, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bsonTypeOf,
  expectMongoError,
  uniqueDbName,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

let fixture: ServerFixture;
let db: Db;
let collectionCounter = 0;

function freshCollection(): Collection {
  collectionCounter += 1;
  return db.collection(`ix${collectionCounter}`);
}

const indexNames = async (collection: Collection): Promise<string[]> =>
  ((await collection.listIndexes().toArray()) as Document[]).map((index) => String(index.name));

beforeAll(async () => {
  fixture = await withServer();
  db = fixture.client.db(uniqueDbName('indexes'));
});

afterAll(async () => {
  await fixture?.stop();
});

describe('creating and listing indexes', () => {
  it('lists _id_ and the created indexes in MongoDB shape', async () => {
    const items = freshCollection();
    expect(await items.createIndex({ email: 1 }, { unique: true })).toBe('email_1');
    expect(await items.createIndex({ a: 1, b: -1 })).toBe('a_1_b_-1');
    expect(await items.createIndex({ nick: 1 }, { sparse: true, name: 'by_nick' })).toBe('by_nick');
    expect(await items.createIndex({ score: 1 }, { partialFilterExpression: { score: { $gt: 10 } } })).toBe(
      'score_1',
    );
    const indexes = await items.listIndexes().toArray();
    expect(indexes).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { email: 1 }, name: 'email_1', unique: true },
      { v: 2, key: { a: 1, b: -1 }, name: 'a_1_b_-1' },
      { v: 2, key: { nick: 1 }, name: 'by_nick', sparse: true },
      { v: 2, key: { score: 1 }, name: 'score_1', partialFilterExpression: { score: { $gt: 10 } } },
    ]);
    expect(await items.indexExists('email_1')).toBe(true);
    const information = await items.indexInformation();
    expect(information).toMatchObject({ _id_: [['_id', 1]], email_1: [['email', 1]] });
  });

  it('createIndexes on a missing collection creates it', async () => {
    const items = freshCollection();
    const reply = await db.command({
      createIndexes: items.collectionName,
      indexes: [{ key: { x: 1 }, name: 'x_1' }],
    });
    expect(reply).toMatchObject({
      ok: 1,
      createdCollectionAutomatically: true,
      numIndexesBefore: 1,
      numIndexesAfter: 2,
    });
    expect((await db.listCollections({ name: items.collectionName }).toArray()).map((c) => c.name)).toEqual([
      items.collectionName,
    ]);
  });

  it('creating the same index twice is a no-op', async () => {
    const items = freshCollection();
    await items.createIndex({ k: 1 }, { unique: true });
    expect(await items.createIndex({ k: 1 }, { unique: true })).toBe('k_1');
    const reply = await db.command({
      createIndexes: items.collectionName,
      indexes: [{ key: { k: 1 }, name: 'k_1', unique: true }],
    });
    expect(reply).toMatchObject({ ok: 1, numIndexesBefore: 2, numIndexesAfter: 2 });
    expect(await indexNames(items)).toEqual(['_id_', 'k_1']);
  });

  it('the same name with a different key fails with IndexKeySpecsConflict (86)', async () => {
    const items = freshCollection();
    await items.createIndex({ a: 1 }, { name: 'mine' });
    const error = await expectMongoError(items.createIndex({ b: 1 }, { name: 'mine' }), 86);
    expect(error.codeName).toBe('IndexKeySpecsConflict');
    expect(await items.listIndexes().toArray()).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { a: 1 }, name: 'mine' },
    ]);
  });

  it('the same key with different options fails with IndexOptionsConflict (85)', async () => {
    const items = freshCollection();
    await items.createIndex({ a: 1 });
    await expectMongoError(items.createIndex({ a: 1 }, { unique: true }), 85);
    await expectMongoError(items.createIndex({ a: 1 }, { name: 'other_name' }), 85);
    expect(await indexNames(items)).toEqual(['_id_', 'a_1']);
  });

  it('a unique index over existing duplicates fails and creates nothing', async () => {
    const items = freshCollection();
    await items.insertMany([{ u: 1 }, { u: 2 }, { u: 1 }]);
    const error = await expectMongoError(items.createIndex({ u: 1 }, { unique: true }), 11000);
    expect(error.message).toContain('E11000');
    expect(await indexNames(items)).toEqual(['_id_']);
    // Nothing half-built: inserting another duplicate still works.
    await items.insertOne({ u: 2 });
    expect(await items.countDocuments({ u: 2 })).toBe(2);
  });

  it('rejects invalid index specifications', async () => {
    const items = freshCollection();
    const error = await expectMongoError(
      db.command({ createIndexes: items.collectionName, indexes: [{ key: { a: 0 }, name: 'bad' }] }),
      2,
    );
    expect(error).toBeInstanceOf(MongoServerError);
    await expectMongoError(db.command({ createIndexes: items.collectionName, indexes: [] }), 2);
  });
});

describe('dropping indexes', () => {
  it('dropIndex by name and by key, dropIndexes drops all but _id_', async () => {
    const items = freshCollection();
    await items.createIndexes([{ key: { a: 1 } }, { key: { b: 1 } }, { key: { c: 1 }, unique: true }]);
    expect(await indexNames(items)).toEqual(['_id_', 'a_1', 'b_1', 'c_1']);
    await items.dropIndex('a_1');
    expect(await indexNames(items)).toEqual(['_id_', 'b_1', 'c_1']);
    await db.command({ dropIndexes: items.collectionName, index: { b: 1 } });
    expect(await indexNames(items)).toEqual(['_id_', 'c_1']);
    await items.insertMany([{ c: 1 }]);
    await items.dropIndexes();
    expect(await indexNames(items)).toEqual(['_id_']);
    // The dropped unique index is no longer enforced.
    await items.insertOne({ c: 1 });
    expect(await items.countDocuments({ c: 1 })).toBe(2);
  });

  it('dropping a missing index fails with IndexNotFound (27); _id_ cannot be dropped (72)', async () => {
    const items = freshCollection();
    await items.insertOne({ a: 1 });
    await expectMongoError(items.dropIndex('nope_1'), 27);
    await expectMongoError(items.dropIndex('_id_'), 72);
    expect(await indexNames(items)).toEqual(['_id_']);
  });
});

describe('unique indexes', () => {
  it('refuses a duplicate on insert with keyPattern/keyValue', async () => {
    const items = freshCollection();
    await items.createIndex({ email: 1 }, { unique: true });
    await items.insertOne({ email: 'a@x', n: 1 });
    const error = await expectMongoError(items.insertOne({ email: 'a@x', n: 2 }), 11000);
    expect(error.keyPattern).toEqual({ email: 1 });
    expect(error.keyValue).toEqual({ email: 'a@x' });
    expect(error.message).toMatch(/index: email_1 dup key: \{ email: "a@x" \}/);
    expect(await items.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ email: 'a@x', n: 1 }]);
  });

  it('refuses a duplicate on update and leaves the document unchanged', async () => {
    const items = freshCollection();
    await items.createIndex({ email: 1 }, { unique: true });
    await items.insertMany([
      { _id: 1, email: 'a@x', v: 1 },
      { _id: 2, email: 'b@x', v: 2 },
    ] as never[]);
    const error = await expectMongoError(
      items.updateOne({ _id: 2 as never }, { $set: { email: 'a@x', v: 99 } }),
      11000,
    );
    expect(error.keyValue).toEqual({ email: 'a@x' });
    await expectMongoError(items.replaceOne({ _id: 2 as never }, { email: 'a@x' }), 11000);
    await expectMongoError(items.findOneAndUpdate({ _id: 2 as never }, { $set: { email: 'a@x' } }), 11000);
    expect(await items.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, email: 'a@x', v: 1 },
      { _id: 2, email: 'b@x', v: 2 },
    ]);
    // Updating a document to its own value is not a conflict.
    await items.updateOne({ _id: 1 as never }, { $set: { email: 'a@x', v: 10 } });
    expect(await items.findOne({ email: 'a@x' })).toEqual({ _id: 1, email: 'a@x', v: 10 });
  });

  it('updateMany stops at the document that would collide', async () => {
    const items = freshCollection();
    await items.createIndex({ slot: 1 }, { unique: true });
    await items.insertMany([
      { _id: 1, slot: 1, g: 'x' },
      { _id: 2, slot: 2, g: 'x' },
    ] as never[]);
    await expectMongoError(items.updateMany({ g: 'x' }, { $set: { slot: 7 } }), 11000);
    const slots = (await items.find().sort({ _id: 1 }).toArray()).map((doc): unknown => doc.slot);
    // The first document may take slot 7; the second must not.
    expect(slots.filter((slot) => slot === 7)).toHaveLength(1);
  });

  it('an upsert that would collide fails with 11000', async () => {
    const items = freshCollection();
    await items.createIndex({ email: 1 }, { unique: true });
    await items.insertOne({ email: 'a@x', name: 'first' });
    await expectMongoError(
      items.updateOne({ name: 'other' }, { $set: { email: 'a@x' } }, { upsert: true }),
      11000,
    );
    expect(await items.countDocuments()).toBe(1);
  });

  it('compound unique indexes compare the whole key', async () => {
    const items = freshCollection();
    await items.createIndex({ tenant: 1, key: 1 }, { unique: true });
    await items.insertMany([
      { tenant: 't1', key: 'a' },
      { tenant: 't1', key: 'b' },
      { tenant: 't2', key: 'a' },
    ]);
    const error = await expectMongoError(items.insertOne({ tenant: 't1', key: 'a' }), 11000);
    expect(error.keyPattern).toEqual({ tenant: 1, key: 1 });
    expect(error.keyValue).toEqual({ tenant: 't1', key: 'a' });
    expect(await items.countDocuments()).toBe(3);
  });

  it('a missing field counts as null in a non-sparse unique index', async () => {
    const items = freshCollection();
    await items.createIndex({ code: 1 }, { unique: true });
    await items.insertOne({ other: 1 });
    const error = await expectMongoError(items.insertOne({ other: 2 }), 11000);
    expect(error.keyValue).toEqual({ code: null });
  });

  it('sparse unique indexes ignore documents without the field', async () => {
    const items = freshCollection();
    await items.createIndex({ code: 1 }, { unique: true, sparse: true });
    await items.insertMany([{ other: 1 }, { other: 2 }, { code: 'x' }]);
    await expectMongoError(items.insertOne({ code: 'x' }), 11000);
    expect(await items.countDocuments()).toBe(3);
    expect(await items.countDocuments({ code: { $exists: false } })).toBe(2);
  });

  it('partial unique indexes only constrain documents matching the filter', async () => {
    const items = freshCollection();
    await items.createIndex({ email: 1 }, { unique: true, partialFilterExpression: { active: true } });
    await items.insertMany([
      { email: 'a@x', active: false },
      { email: 'a@x', active: false },
      { email: 'a@x', active: true },
    ]);
    await expectMongoError(items.insertOne({ email: 'a@x', active: true }), 11000);
    // Moving an inactive duplicate into the filter collides too.
    await expectMongoError(items.updateOne({ active: false }, { $set: { active: true } }), 11000);
    expect(await items.countDocuments({ active: true })).toBe(1);
    expect(await items.countDocuments({ email: 'a@x' })).toBe(3);
  });

  it('unique multikey indexes check every array element', async () => {
    const items = freshCollection();
    await items.createIndex({ tags: 1 }, { unique: true });
    await items.insertOne({ tags: ['a', 'b'] });
    await expectMongoError(items.insertOne({ tags: ['c', 'b'] }), 11000);
    await items.insertOne({ tags: ['c', 'd'] });
    expect(await items.countDocuments()).toBe(2);
    // A document may repeat a value within its own array.
    await items.insertOne({ tags: ['e', 'e'] });
    expect(await items.countDocuments({ tags: 'e' })).toBe(1);
  });

  it('a deleted value can be reused', async () => {
    const items = freshCollection();
    await items.createIndex({ email: 1 }, { unique: true });
    await items.insertOne({ email: 'a@x' });
    await items.deleteOne({ email: 'a@x' });
    await items.insertOne({ email: 'a@x', again: true });
    await items.updateOne({ email: 'a@x' }, { $set: { email: 'b@x' } });
    await items.insertOne({ email: 'a@x', third: true });
    expect(
      await items
        .find({}, { projection: { _id: 0 } })
        .sort({ email: 1 })
        .toArray(),
    ).toEqual([
      { email: 'a@x', third: true },
      { email: 'b@x', again: true },
    ]);
  });
});

describe('index maintenance', () => {
  it('equality queries on indexed fields stay correct through inserts, updates and deletes', async () => {
    const items = freshCollection();
    await items.createIndex({ status: 1 });
    await items.createIndex({ owner: 1, status: 1 });
    await items.insertMany(
      Array.from({ length: 60 }, (_, i) => ({
        _id: i,
        status: i % 3 === 0 ? 'new' : 'old',
        owner: `o${i % 4}`,
      })) as never[],
    );
    const countBy = async (filter: Document): Promise<number> => items.countDocuments(filter);
    expect(await countBy({ status: 'new' })).toBe(20);
    await items.updateMany({ status: 'new', owner: 'o0' }, { $set: { status: 'done' } });
    await items.deleteMany({ status: 'old', owner: 'o1' });
    await items.replaceOne({ _id: 3 as never }, { status: 'replaced', owner: 'o9' });
    await items.findOneAndUpdate({ _id: 6 as never }, { $unset: { status: '' } });
    const all = await items.find().toArray();
    const expected = (predicate: (doc: Document) => boolean): number[] =>
      all
        .filter(predicate)
        .map((doc) => doc._id as unknown as number)
        .sort((a, b) => a - b);
    const ids = async (filter: Document): Promise<number[]> =>
      (await items.find(filter).sort({ _id: 1 }).toArray()).map((doc) => doc._id as unknown as number);
    for (const status of ['new', 'old', 'done', 'replaced']) {
      expect(await ids({ status })).toEqual(expected((doc) => doc.status === status));
      expect(await ids({ status: { $eq: status } })).toEqual(expected((doc) => doc.status === status));
    }
    for (const owner of ['o0', 'o1', 'o2', 'o9']) {
      expect(await ids({ owner, status: 'old' })).toEqual(
        expected((doc) => doc.owner === owner && doc.status === 'old'),
      );
      expect(await ids({ owner })).toEqual(expected((doc) => doc.owner === owner));
    }
    expect(await ids({ status: { $in: ['done', 'replaced'] } })).toEqual(
      expected((doc) => doc.status === 'done' || doc.status === 'replaced'),
    );
    expect(await ids({ status: null })).toEqual(expected((doc) => doc.status === undefined));
    expect(await ids({ status: 'new', owner: 'o0' })).toEqual([]);
    // An indexed field holding an array matches its elements.
    await items.insertOne({ _id: 100 as never, status: ['new', 'flagged'], owner: 'o5' });
    expect(await ids({ status: 'flagged' })).toEqual([100]);
    expect(await ids({ status: 'new', owner: 'o5' })).toEqual([100]);
    // Number equality across types through the index.
    await items.createIndex({ n: 1 });
    await items.insertOne({ _id: 200 as never, n: 5 });
    expect(await ids({ n: 5.0 })).toEqual([200]);
  });
});

describe('databases and collections', () => {
  it('createCollection with options shows up in listCollections', async () => {
    await db.createCollection('with_images', { changeStreamPreAndPostImages: { enabled: true } });
    await db.createCollection('capped_log', { capped: true, size: 4096, max: 10 });
    await db.createCollection('validated', { validator: { $jsonSchema: { required: ['name'] } } });
    const infos = await db
      .listCollections({ name: { $in: ['with_images', 'capped_log', 'validated'] } })
      .toArray();
    const byName = new Map(infos.map((info) => [info.name, info as Document]));
    expect(byName.get('with_images')).toMatchObject({
      name: 'with_images',
      type: 'collection',
      options: { changeStreamPreAndPostImages: { enabled: true } },
      info: { readOnly: false },
      idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
    });
    expect(bsonTypeOf((byName.get('with_images')!.info as Document).uuid)).toBe('Binary');
    expect(byName.get('capped_log')!.options).toMatchObject({ capped: true, size: 4096, max: 10 });
    expect(byName.get('validated')!.options).toEqual({ validator: { $jsonSchema: { required: ['name'] } } });
    const names = await db.listCollections({}, { nameOnly: true }).toArray();
    expect(names.map((info) => info.name)).toEqual(
      expect.arrayContaining(['with_images', 'capped_log', 'validated']),
    );
  });

  it('creating an existing collection with other options fails with NamespaceExists (48)', async () => {
    await db.createCollection('exists_once');
    await expectMongoError(db.createCollection('exists_once', { capped: true, size: 1024 }), 48);
  });

  it('collMod changes the options listCollections reports', async () => {
    await db.createCollection('to_modify');
    await db.command({ collMod: 'to_modify', changeStreamPreAndPostImages: { enabled: true } });
    const [info] = await db.listCollections({ name: 'to_modify' }).toArray();
    expect((info as Document).options).toEqual({ changeStreamPreAndPostImages: { enabled: true } });
    await db.command({ collMod: 'to_modify', changeStreamPreAndPostImages: { enabled: false } });
    const [after] = await db.listCollections({ name: 'to_modify' }).toArray();
    expect((after as Document).options).toEqual({ changeStreamPreAndPostImages: { enabled: false } });
    await expectMongoError(
      db.command({ collMod: 'never_created', changeStreamPreAndPostImages: { enabled: true } }),
      26,
    );
  });

  it('listIndexes on a missing collection fails with NamespaceNotFound (26)', async () => {
    await expectMongoError(db.command({ listIndexes: 'does_not_exist' }), 26);
  });

  it('drop removes the collection, its documents and its indexes', async () => {
    const items = db.collection('to_drop');
    await items.insertMany([{ a: 1 }, { a: 2 }]);
    await items.createIndex({ a: 1 }, { unique: true });
    expect(await items.drop()).toBe(true);
    expect(await db.listCollections({ name: 'to_drop' }).toArray()).toEqual([]);
    expect(await items.countDocuments()).toBe(0);
    // Recreated implicitly, without the old unique index.
    await items.insertMany([{ a: 1 }, { a: 1 }]);
    expect(await indexNames(items)).toEqual(['_id_']);
    // Dropping a missing collection is not an error.
    await db.collection('never_existed').drop();
  });

  it('renameCollection moves documents and indexes; an existing target needs dropTarget', async () => {
    const source = db.collection('rename_src');
    await source.insertMany([
      { _id: 1, k: 'a' },
      { _id: 2, k: 'b' },
    ] as never[]);
    await source.createIndex({ k: 1 }, { unique: true });
    const target = await source.rename('rename_dst');
    expect(target.collectionName).toBe('rename_dst');
    expect(await db.listCollections({ name: 'rename_src' }).toArray()).toEqual([]);
    expect(await target.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, k: 'a' },
      { _id: 2, k: 'b' },
    ]);
    expect(await indexNames(target)).toEqual(['_id_', 'k_1']);
    await expectMongoError(target.insertOne({ k: 'a' }), 11000);
    const other = db.collection('rename_other');
    await other.insertOne({ other: true });
    await expectMongoError(other.rename('rename_dst'), 48);
    await other.rename('rename_dst', { dropTarget: true });
    expect(
      await db
        .collection('rename_dst')
        .find({}, { projection: { _id: 0 } })
        .toArray(),
    ).toEqual([{ other: true }]);
    await expectMongoError(db.collection('no_such_source').rename('anything'), 26);
  });

  it('renameCollection across databases', async () => {
    const otherDbName = uniqueDbName('indexes_to');
    const source = db.collection('cross_db');
    await source.insertOne({ moved: true });
    await fixture.client.db('admin').command({
      renameCollection: `${db.databaseName}.cross_db`,
      to: `${otherDbName}.arrived`,
    });
    expect(await fixture.client.db(otherDbName).collection('arrived').countDocuments({ moved: true })).toBe(
      1,
    );
    expect(await source.countDocuments()).toBe(0);
  });

  it('listDatabases and dropDatabase', async () => {
    const name = uniqueDbName('indexes_drop');
    const other = fixture.client.db(name);
    await other.collection('a').insertOne({ x: 1 });
    await other.collection('b').insertOne({ x: 2 });
    const listed = await fixture.client.db('admin').admin().listDatabases();
    const entry = listed.databases.find((database) => database.name === name);
    expect(entry).toMatchObject({ name, empty: false });
    expect(typeof entry!.sizeOnDisk).toBe('number');
    const namesOnly = await fixture.client.db('admin').admin().listDatabases({ nameOnly: true });
    expect(namesOnly.databases.map((database) => database.name)).toContain(name);
    expect(await other.dropDatabase()).toBe(true);
    const after = await fixture.client.db('admin').admin().listDatabases();
    expect(after.databases.map((database) => database.name)).not.toContain(name);
    expect(await other.listCollections().toArray()).toEqual([]);
    expect(await other.collection('a').countDocuments()).toBe(0);
  });

  it('rejects invalid database and collection names with InvalidNamespace (73)', async () => {
    await expectMongoError(fixture.client.db('bad name').collection('x').insertOne({ a: 1 }), 73);
    await expectMongoError(db.collection('$bad').insertOne({ a: 1 }), 73);
  });
});
