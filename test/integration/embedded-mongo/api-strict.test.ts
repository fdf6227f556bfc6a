// The Stable API parameters: a client declaring `serverApi: {version: '1', strict: true}` is refused commands and
// fields outside API Version 1 (APIStrictError 323) as mongod refuses them, and keeps everything inside it.
import { ServerApiVersion, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMongoError, uniqueDbName, withServer, type ServerFixture } from './embedded-server-fixture.js';

let fixture: ServerFixture;
let strictDb: Db;
let plainDb: Db;

beforeAll(async () => {
  fixture = await withServer();
  const dbName = uniqueDbName('api_strict');
  const strictClient = await fixture.connect(undefined, {
    serverApi: { version: ServerApiVersion.v1, strict: true },
  });
  strictDb = strictClient.db(dbName);
  plainDb = fixture.client.db(dbName);
});

afterAll(async () => {
  await fixture?.stop();
});

describe('apiStrict: true with apiVersion 1', () => {
  it('runs the commands of API Version 1 with their stable fields', async () => {
    const items = strictDb.collection<{ _id: number; x: number }>('items');
    await items.insertMany([
      { _id: 1, x: 1 },
      { _id: 2, x: 2 },
    ]);
    await items.createIndex({ x: 1 });
    await items.updateOne({ _id: 1 }, { $set: { x: 3 } });
    expect(await items.find({ x: { $gte: 2 } }, { sort: { x: 1 }, hint: { x: 1 } }).toArray()).toEqual([
      { _id: 2, x: 2 },
      { _id: 1, x: 3 },
    ]);
    expect(await items.countDocuments({})).toBe(2);
    expect(await strictDb.command({ count: 'items' })).toMatchObject({ n: 2 });
    expect(await items.aggregate([{ $group: { _id: null, total: { $sum: '$x' } } }]).toArray()).toEqual([
      { _id: null, total: 5 },
    ]);
    expect((await items.deleteOne({ _id: 2 })).deletedCount).toBe(1);
    expect((await strictDb.listCollections().toArray()).map((info) => info.name)).toEqual(['items']);
  });

  it('refuses a command outside API Version 1', async () => {
    const items = strictDb.collection('items');
    const distinct = await expectMongoError(items.distinct('x'), 323);
    expect(distinct.message).toContain(
      'Provided apiStrict:true, but the command distinct is not in API Version 1',
    );
    expect(distinct.codeName).toBe('APIStrictError');
    await expectMongoError(strictDb.command({ buildInfo: 1 }), 323);
    await expectMongoError(strictDb.admin().command({ serverStatus: 1 }), 323);
  });

  it('refuses a field API Version 1 marks unstable, whatever its value', async () => {
    const items = strictDb.collection('items');
    const returnKey = await expectMongoError(items.find({}, { returnKey: true }).toArray(), 323);
    expect(returnKey.message).toBe("BSON field 'find.returnKey' is not allowed with apiStrict:true.");
    await expectMongoError(items.find({}, { showRecordId: false }).toArray(), 323);
    await expectMongoError(items.find({}, { hint: { _id: 1 }, min: { _id: 0 } }).toArray(), 323);
    await expectMongoError(items.find({}, { tailable: true }).toArray(), 323);
    await expectMongoError(strictDb.command({ aggregate: 'items', pipeline: [], explain: true }), 323);
  });

  it('leaves the same commands alone without apiStrict, and checks the parameters themselves', async () => {
    const items = plainDb.collection('items');
    expect(await items.distinct('x')).toEqual(expect.any(Array));
    expect(await items.find({}, { returnKey: true }).toArray()).toEqual(expect.any(Array));
    const lenient = { distinct: 'items', key: 'x', apiVersion: '1', apiStrict: false };
    expect(await plainDb.command(lenient)).toMatchObject({ ok: 1 });
    const withoutVersion = await expectMongoError(plainDb.command({ ping: 1, apiStrict: true }), 4886600);
    expect(withoutVersion.message).toBe(
      'Provided apiStrict and/or apiDeprecationErrors without passing apiVersion',
    );
    await expectMongoError(plainDb.command({ ping: 1, apiVersion: '2' }), 322);
  });
});
