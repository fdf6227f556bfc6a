// MongoDB 8.0's `bulkWrite` admin command (MongoClient.bulkWrite) through the official driver: mixed writes across
// two databases with per-operation results, conditional updates, upserts, ordered and unordered write errors,
// errorsOnly replies, command-level errors, the change events it produces and retried writes.
import {
  Long,
  MongoClientBulkWriteError,
  type ClientBulkWriteModel,
  type ClientBulkWriteOptions,
  type Collection,
  type Document,
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

/** Documents whose `_id` is a number or string rather than an ObjectId. */
type LooseIdDocument = Document & { _id?: number | string };
type Schemas = Record<string, LooseIdDocument>;
type Model = ClientBulkWriteModel<Schemas>;

/** The reply of the raw `bulkWrite` command. */
interface BulkWriteReply extends Document {
  cursor: { id: Long; firstBatch: Document[]; ns: string };
  nErrors: number;
  nInserted: number;
  nMatched: number;
  nModified: number;
  nUpserted: number;
  nDeleted: number;
}

let fixture: ServerFixture;
let dbA: string;
let dbB: string;
let collectionCounter = 0;

/** A fresh collection (in `dbA` unless told) and its `db.collection` namespace. */
function freshCollection(db = dbA): { ns: string; coll: Collection<LooseIdDocument> } {
  collectionCounter += 1;
  const name = `bw${collectionCounter}`;
  return { ns: `${db}.${name}`, coll: fixture.client.db(db).collection<LooseIdDocument>(name) };
}

function bulkWrite(models: Model[], options?: ClientBulkWriteOptions) {
  return fixture.client.bulkWrite<Schemas>(models, options);
}

async function adminCommand(command: Document, options: Document = {}): Promise<BulkWriteReply> {
  return (await fixture.client.db('admin').command(command, options)) as BulkWriteReply;
}

function contents(coll: Collection<LooseIdDocument>): Promise<LooseIdDocument[]> {
  return coll.find().sort({ _id: 1 }).toArray();
}

beforeAll(async () => {
  fixture = await withServer();
  dbA = uniqueDbName('bulk_a');
  dbB = uniqueDbName('bulk_b');
});

afterAll(async () => {
  await fixture?.stop();
});

describe('MongoClient.bulkWrite', () => {
  it('applies inserts, updates, a replace and deletes across two databases with verbose results', async () => {
    const a = freshCollection(dbA);
    const b = freshCollection(dbB);
    await a.coll.insertMany([
      { _id: 1, n: 1 },
      { _id: 2, n: 2 },
      { _id: 3, n: 3 },
    ]);
    await b.coll.insertMany([
      { _id: 'x', tag: 'old' },
      { _id: 'y', tag: 'old' },
    ]);
    const result = await bulkWrite(
      [
        { name: 'insertOne', namespace: a.ns, document: { _id: 4, n: 4 } },
        { name: 'insertOne', namespace: b.ns, document: { _id: 'z', tag: 'new' } },
        { name: 'updateOne', namespace: a.ns, filter: { _id: 1 }, update: { $inc: { n: 10 } } },
        { name: 'updateMany', namespace: b.ns, filter: { tag: 'old' }, update: { $set: { tag: 'seen' } } },
        { name: 'replaceOne', namespace: a.ns, filter: { _id: 2 }, replacement: { n: 20, replaced: true } },
        { name: 'deleteOne', namespace: a.ns, filter: { _id: 3 } },
        { name: 'deleteMany', namespace: b.ns, filter: { _id: { $in: ['x', 'z'] } } },
      ],
      { verboseResults: true },
    );
    expect(result).toMatchObject({
      acknowledged: true,
      insertedCount: 2,
      matchedCount: 4,
      modifiedCount: 4,
      upsertedCount: 0,
      deletedCount: 3,
    });
    expect([...result.insertResults!]).toEqual([
      [0, { insertedId: 4 }],
      [1, { insertedId: 'z' }],
    ]);
    expect([...result.updateResults!]).toEqual([
      [2, { matchedCount: 1, modifiedCount: 1, didUpsert: false }],
      [3, { matchedCount: 2, modifiedCount: 2, didUpsert: false }],
      [4, { matchedCount: 1, modifiedCount: 1, didUpsert: false }],
    ]);
    expect([...result.deleteResults!]).toEqual([
      [5, { deletedCount: 1 }],
      [6, { deletedCount: 2 }],
    ]);
    expect(await contents(a.coll)).toEqual([
      { _id: 1, n: 11 },
      { _id: 2, n: 20, replaced: true },
      { _id: 4, n: 4 },
    ]);
    expect(await contents(b.coll)).toEqual([{ _id: 'y', tag: 'seen' }]);
  });

  it('reports matchedCount 0 only for the conditional update whose filter does not match', async () => {
    const { ns, coll } = freshCollection();
    await coll.insertMany([
      { _id: 1, state: 'pending', v: 0 },
      { _id: 2, state: 'done', v: 0 },
    ]);
    const claim = (id: number, from: string, to: string): Model => ({
      name: 'updateOne',
      namespace: ns,
      filter: { _id: id, state: from },
      update: { $set: { state: to }, $inc: { v: 1 } },
    });
    const result = await bulkWrite(
      [claim(1, 'pending', 'running'), claim(2, 'pending', 'running'), claim(1, 'running', 'done')],
      {
        verboseResults: true,
      },
    );
    expect([...result.updateResults!].map(([index, r]) => [index, r.matchedCount, r.modifiedCount])).toEqual([
      [0, 1, 1],
      [1, 0, 0],
      [2, 1, 1],
    ]);
    expect(result.matchedCount).toBe(2);
    expect(await contents(coll)).toEqual([
      { _id: 1, state: 'done', v: 2 },
      { _id: 2, state: 'done', v: 0 },
    ]);
  });

  it('upserts report the upserted _id and create the documents', async () => {
    const { ns, coll } = freshCollection();
    const result = await bulkWrite(
      [
        { name: 'updateOne', namespace: ns, filter: { _id: 'u1' }, update: { $set: { v: 1 } }, upsert: true },
        {
          name: 'replaceOne',
          namespace: ns,
          filter: { key: 'k' },
          replacement: { key: 'k', v: 2 },
          upsert: true,
        },
      ],
      { verboseResults: true },
    );
    expect(result.upsertedCount).toBe(2);
    expect(result.matchedCount).toBe(0);
    // As with mongod 8.0, an upsert's reply item has n: 1, which the driver reports as its matchedCount.
    expect(result.updateResults!.get(0)).toEqual({
      matchedCount: 1,
      modifiedCount: 0,
      didUpsert: true,
      upsertedId: 'u1',
    });
    const replaced = result.updateResults!.get(1)!;
    expect(replaced.didUpsert).toBe(true);
    expect(bsonTypeOf(replaced.upsertedId)).toBe('ObjectId');
    expect(await coll.findOne({ _id: 'u1' })).toEqual({ _id: 'u1', v: 1 });
    expect(await coll.findOne({ key: 'k' })).toEqual({ _id: replaced.upsertedId as unknown, key: 'k', v: 2 });
  });

  it('unordered: a duplicate key fails only its index and the other writes are applied', async () => {
    const { ns, coll } = freshCollection();
    await coll.insertOne({ _id: 1 });
    const error = await rejectionOf(
      bulkWrite(
        [
          { name: 'insertOne', namespace: ns, document: { _id: 0 } },
          { name: 'insertOne', namespace: ns, document: { _id: 1 } },
          { name: 'insertOne', namespace: ns, document: { _id: 2 } },
          { name: 'updateOne', namespace: ns, filter: { _id: 0 }, update: { $set: { x: 1 } } },
        ],
        { ordered: false, verboseResults: true },
      ),
    );
    expect(error).toBeInstanceOf(MongoClientBulkWriteError);
    const bulkError = error as unknown as MongoClientBulkWriteError;
    expect([...bulkError.writeErrors.keys()]).toEqual([1]);
    expect(bulkError.writeErrors.get(1)!.code).toBe(11000);
    expect(bulkError.partialResult).toMatchObject({ insertedCount: 2, matchedCount: 1, modifiedCount: 1 });
    expect([...bulkError.partialResult!.insertResults!.keys()]).toEqual([0, 2]);
    expect(await contents(coll)).toEqual([{ _id: 0, x: 1 }, { _id: 1 }, { _id: 2 }]);
  });

  it('ordered: writes after the failing one are not applied', async () => {
    const { ns, coll } = freshCollection();
    await coll.insertOne({ _id: 1 });
    const error = await rejectionOf(
      bulkWrite([
        { name: 'insertOne', namespace: ns, document: { _id: 0 } },
        { name: 'insertOne', namespace: ns, document: { _id: 1 } },
        { name: 'insertOne', namespace: ns, document: { _id: 2 } },
        { name: 'deleteOne', namespace: ns, filter: { _id: 0 } },
      ]),
    );
    const bulkError = error as unknown as MongoClientBulkWriteError;
    expect(error).toBeInstanceOf(MongoClientBulkWriteError);
    expect([...bulkError.writeErrors.keys()]).toEqual([1]);
    expect(bulkError.writeErrors.get(1)!.code).toBe(11000);
    expect(bulkError.partialResult).toMatchObject({ insertedCount: 1, deletedCount: 0 });
    expect(await contents(coll)).toEqual([{ _id: 0 }, { _id: 1 }]);
  });
});

describe('bulkWrite command', () => {
  const mixedOps = [
    { insert: 0, document: { _id: 1 } },
    { insert: 0, document: { _id: 1 } },
    { update: 0, filter: { _id: 1 }, updateMods: { $set: { v: 1 } } },
    { delete: 0, filter: { _id: 99 } },
    { insert: 0, document: { _id: 2 } },
  ];

  it('errorsOnly returns only the error entries, with the summary counts and an exhausted cursor', async () => {
    const { ns } = freshCollection();
    const reply = await adminCommand(
      { bulkWrite: 1, ops: mixedOps, nsInfo: [{ ns }], ordered: false, errorsOnly: true },
      { promoteLongs: false },
    );
    expect(reply.cursor.firstBatch).toEqual([
      {
        ok: 0,
        idx: 1,
        code: 11000,
        errmsg: expect.stringMatching(/^E11000 duplicate key error/) as unknown,
        keyPattern: { _id: 1 },
        keyValue: { _id: 1 },
        n: 0,
      },
    ]);
    expect(reply).toMatchObject({
      nErrors: 1,
      nInserted: 2,
      nMatched: 1,
      nModified: 1,
      nUpserted: 0,
      nDeleted: 0,
    });
    expect(bsonTypeOf(reply.cursor.id)).toBe('Long');
    expect(reply.cursor.id.toNumber()).toBe(0);
    expect(reply.cursor.ns).toBe('admin.$cmd.bulkWrite');

    const { ns: other } = freshCollection();
    const verbose = await adminCommand({
      bulkWrite: 1,
      ops: mixedOps,
      nsInfo: [{ ns: other }],
      ordered: false,
    });
    expect(verbose.cursor.firstBatch.map((entry): unknown[] => [entry.idx, entry.ok, entry.n])).toEqual([
      [0, 1, 1],
      [1, 0, 0],
      [2, 1, 1],
      [3, 1, 0],
      [4, 1, 1],
    ]);
  });

  it('must run against the admin database (Unauthorized)', async () => {
    const { ns, coll } = freshCollection();
    const command = { bulkWrite: 1, ops: [{ insert: 0, document: { _id: 1 } }], nsInfo: [{ ns }] };
    await expectMongoError(fixture.client.db(dbA).command(command), 13);
    expect(await coll.countDocuments()).toBe(0);
  });

  it('an nsInfo index out of range fails the whole command before anything is written (BadValue)', async () => {
    // mongod validates every op's nsInfo index up front, so the valid op is not applied either.
    const { ns, coll } = freshCollection();
    const ops = [
      { insert: 0, document: { _id: 1 } },
      { insert: 3, document: { _id: 2 } },
    ];
    await expectMongoError(adminCommand({ bulkWrite: 1, ops, nsInfo: [{ ns }], ordered: false }), 2);
    expect(await coll.countDocuments()).toBe(0);
  });

  it('an nsInfo namespace without a dot fails with InvalidNamespace', async () => {
    const ops = [{ insert: 0, document: { _id: 1 } }];
    await expectMongoError(adminCommand({ bulkWrite: 1, ops, nsInfo: [{ ns: 'nodot' }] }), 73);
  });

  it('an op without a required field (an update without updateMods) fails the command', async () => {
    const { ns, coll } = freshCollection();
    const ops = [
      { insert: 0, document: { _id: 1 } },
      { update: 0, filter: { _id: 1 } },
    ];
    await expectMongoError(adminCommand({ bulkWrite: 1, ops, nsInfo: [{ ns }], ordered: false }), 40414);
    expect(await coll.countDocuments()).toBe(0);
  });

  it('an op that is no insert, update or delete fails the command', async () => {
    const { ns, coll } = freshCollection();
    const ops = [
      { insert: 0, document: { _id: 1 } },
      { find: 0, filter: {} },
    ];
    await expectMongoError(adminCommand({ bulkWrite: 1, ops, nsInfo: [{ ns }], ordered: false }), 40415);
    expect(await coll.countDocuments()).toBe(0);
  });

  it('a change stream sees the insert, update and delete events of a bulkWrite', async () => {
    const { ns, coll } = freshCollection();
    const { ns: elsewhere } = freshCollection();
    const stream = coll.watch([], { maxAwaitTimeMS: 200 });
    try {
      expect(await stream.tryNext()).toBeNull(); // the server cursor exists before the writes
      await bulkWrite([
        { name: 'insertOne', namespace: ns, document: { _id: 1, v: 1 } },
        { name: 'insertOne', namespace: elsewhere, document: { _id: 1 } },
        { name: 'updateOne', namespace: ns, filter: { _id: 1 }, update: { $set: { v: 2 } } },
        { name: 'deleteOne', namespace: ns, filter: { _id: 1 } },
      ]);
      const events: Document[] = [];
      while (events.length < 3) events.push(await stream.next());
      expect(events.map((event): unknown => event.operationType)).toEqual(['insert', 'update', 'delete']);
      expect(events.map((event) => event.documentKey as unknown)).toEqual([
        { _id: 1 },
        { _id: 1 },
        { _id: 1 },
      ]);
      expect(events[0]!.fullDocument).toEqual({ _id: 1, v: 1 });
      expect(events[1]!.updateDescription).toMatchObject({ updatedFields: { v: 2 }, removedFields: [] });
      expect(await stream.tryNext()).toBeNull();
    } finally {
      await stream.close();
    }
  });

  it('a retried write (same lsid and txnNumber) returns the first reply and is applied once', async () => {
    const { ns, coll } = freshCollection();
    await coll.insertOne({ _id: 1, n: 0 });
    // A client of its own: the shared client's pooled server sessions have already used low txnNumbers.
    const client = await fixture.connect();
    const session = client.startSession();
    try {
      const attempt = async (txnNumber: number): Promise<Document> => {
        const command = {
          bulkWrite: 1,
          ops: [
            { update: 0, filter: { _id: 1 }, updateMods: { $inc: { n: 1 } } },
            { insert: 0, document: { _id: 2 } },
          ],
          nsInfo: [{ ns }],
          txnNumber: Long.fromNumber(txnNumber),
        };
        const {
          operationTime: _time,
          $clusterTime: _clusterTime,
          ...reply
        } = await client.db('admin').command(command, {
          session,
        });
        return reply;
      };
      const first = await attempt(1);
      expect(first).toMatchObject({ ok: 1, nErrors: 0, nInserted: 1, nMatched: 1, nModified: 1 });
      expect(await attempt(1)).toEqual(first);
      expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, n: 1 });
      expect(await coll.countDocuments({ _id: 2 })).toBe(1);
      // A new txnNumber is a new write: applied again, and the insert now hits its own earlier document.
      expect(await attempt(2)).toMatchObject({ nErrors: 1, nInserted: 0, nModified: 1 });
      expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, n: 2 });
    } finally {
      await session.endSession();
    }
  });
});
