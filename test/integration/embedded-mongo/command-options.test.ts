// Every documented option of every command the server implements (MongoDB 8.0 manual, written out here rather than
// read from the server's own table) is accepted; an unknown field is refused with mongod's 40415 before anything
// is written.
import { MongoServerError, type Db, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf, uniqueDbName, withServer, type ServerFixture } from './embedded-server-fixture.js';

let fixture: ServerFixture;
let db: Db;

/** Options the manual lists for every command (generic arguments), sent with each command below. */
const GENERIC: Document = { comment: 'walk', apiVersion: '1', apiStrict: false, apiDeprecationErrors: false };
const READ: Document = { ...GENERIC, maxTimeMS: 5_000, readConcern: { level: 'local' } };
const WRITE: Document = { ...GENERIC, writeConcern: { w: 'majority', j: true, wtimeout: 1_000 } };

/** One documented invocation per command: each option the manual documents for it, with a value it accepts. */
function documentedInvocations(coll: string, dbName: string): Array<[string, Document]> {
  return [
    [
      'find',
      {
        find: coll,
        filter: { x: { $gte: 0 } },
        projection: { x: 1 },
        sort: { x: 1 },
        hint: { _id: 1 },
        skip: 0,
        limit: 10,
        batchSize: 10,
        singleBatch: false,
        let: { v: 1 },
        collation: { locale: 'simple' },
        max: { _id: 1_000 },
        min: { _id: 0 },
        returnKey: false,
        showRecordId: false,
        tailable: false,
        awaitData: false,
        oplogReplay: false,
        noCursorTimeout: false,
        allowPartialResults: false,
        allowDiskUse: true,
        ...READ,
      },
    ],
    [
      'count',
      {
        count: coll,
        query: { x: 1 },
        limit: 5,
        skip: 0,
        hint: { _id: 1 },
        collation: { locale: 'simple' },
        ...READ,
      },
    ],
    [
      'distinct',
      { distinct: coll, key: 'x', query: {}, collation: { locale: 'simple' }, hint: { _id: 1 }, ...READ },
    ],
    [
      'aggregate',
      {
        aggregate: coll,
        pipeline: [{ $match: { x: { $gte: 0 } } }],
        cursor: { batchSize: 10 },
        allowDiskUse: true,
        bypassDocumentValidation: false,
        collation: { locale: 'simple' },
        hint: { _id: 1 },
        let: { v: 1 },
        ...READ,
      },
    ],
    [
      'insert',
      {
        insert: coll,
        documents: [{ _id: 100, x: 100 }],
        ordered: true,
        bypassDocumentValidation: false,
        ...WRITE,
      },
    ],
    [
      'update',
      {
        update: coll,
        updates: [
          {
            q: { _id: 100 },
            u: { $set: { 'a.$[e]': 1 } },
            upsert: false,
            multi: false,
            arrayFilters: [{ e: 0 }],
            collation: { locale: 'simple' },
            hint: { _id: 1 },
            sort: { _id: 1 },
          },
          { q: { _id: 100 }, u: [{ $set: { y: '$$v' } }], c: { w: 2 }, multi: true },
        ],
        ordered: true,
        bypassDocumentValidation: false,
        let: { v: 1 },
        ...WRITE,
      },
    ],
    [
      'findAndModify',
      {
        findAndModify: coll,
        query: { _id: 100 },
        sort: { _id: 1 },
        update: { $inc: { x: 1 } },
        new: true,
        fields: { x: 1 },
        upsert: false,
        bypassDocumentValidation: false,
        collation: { locale: 'simple' },
        arrayFilters: [],
        hint: { _id: 1 },
        let: { v: 1 },
        maxTimeMS: 5_000,
        ...WRITE,
      },
    ],
    [
      'delete',
      {
        delete: coll,
        deletes: [{ q: { _id: 100 }, limit: 1, collation: { locale: 'simple' }, hint: { _id: 1 } }],
        ordered: true,
        let: { v: 1 },
        ...WRITE,
      },
    ],
    [
      'bulkWrite',
      {
        bulkWrite: 1,
        ops: [{ insert: 0, document: { _id: 200 } }],
        nsInfo: [{ ns: `${dbName}.${coll}` }],
        cursor: { batchSize: 10 },
        bypassDocumentValidation: false,
        ordered: true,
        errorsOnly: false,
        let: { v: 1 },
        ...WRITE,
      },
    ],
    [
      'create',
      {
        create: `${coll}_created`,
        validator: { x: { $type: 'number' } },
        validationLevel: 'strict',
        validationAction: 'error',
        collation: { locale: 'simple' },
        changeStreamPreAndPostImages: { enabled: true },
        storageEngine: {},
        indexOptionDefaults: {},
        ...WRITE,
      },
    ],
    [
      'collMod',
      {
        collMod: `${coll}_created`,
        validator: { x: { $type: 'number' } },
        validationLevel: 'moderate',
        validationAction: 'warn',
        changeStreamPreAndPostImages: { enabled: false },
        ...WRITE,
      },
    ],
    [
      'createIndexes',
      {
        createIndexes: coll,
        indexes: [{ key: { x: 1 }, name: 'x_1' }],
        commitQuorum: 'votingMembers',
        ...WRITE,
      },
    ],
    ['listIndexes', { listIndexes: coll, cursor: { batchSize: 10 }, ...GENERIC }],
    ['dropIndexes', { dropIndexes: coll, index: 'x_1', ...WRITE }],
    [
      'listCollections',
      {
        listCollections: 1,
        filter: {},
        nameOnly: false,
        authorizedCollections: false,
        cursor: {},
        ...GENERIC,
      },
    ],
    [
      'listDatabases',
      { listDatabases: 1, filter: {}, nameOnly: false, authorizedDatabases: false, ...GENERIC },
    ],
    [
      'renameCollection',
      {
        renameCollection: `${dbName}.${coll}_created`,
        to: `${dbName}.${coll}_renamed`,
        dropTarget: false,
        ...WRITE,
      },
    ],
    ['drop', { drop: `${coll}_renamed`, ...WRITE }],
    ['dropDatabase', { dropDatabase: 1, ...WRITE }],
  ];
}

/** Runs a command on the admin database when the manual says so, else on `db`. */
function run(name: string, command: Document): Promise<Document> {
  const adminOnly = ['bulkWrite', 'listDatabases', 'renameCollection'];
  return (adminOnly.includes(name) ? fixture.client.db('admin') : db).command(command);
}

beforeAll(async () => {
  fixture = await withServer();
});

afterAll(async () => {
  await fixture?.stop();
});

describe('command options', () => {
  it('accepts every documented option of every implemented command', async () => {
    db = fixture.client.db(uniqueDbName('options'));
    await db.collection<{ _id: number; x: number }>('walk').insertMany([0, 1, 2].map((x) => ({ _id: x, x })));
    for (const [name, command] of documentedInvocations('walk', db.databaseName)) {
      const reply = await run(name, command).catch((error: unknown) => {
        throw new Error(`${name} with every documented option failed: ${String(error)}`);
      });
      expect(reply.ok, name).toBe(1);
    }
  });

  it('refuses an unknown field of every command, and of an update or delete statement, with 40415', async () => {
    db = fixture.client.db(uniqueDbName('unknown'));
    await db.collection<{ _id: number; x: number }>('walk').insertMany([0, 1, 2].map((x) => ({ _id: x, x })));
    for (const [name, command] of documentedInvocations('walk', db.databaseName)) {
      const error = await rejectionOf(run(name, { ...command, notAnOption: 1 }));
      expect(error, name).toBeInstanceOf(MongoServerError);
      expect(error.code, name).toBe(40415);
      expect(error.message, name).toBe(`BSON field '${name}.notAnOption' is an unknown field.`);
    }
    const update = await rejectionOf(
      db.command({ update: 'walk', updates: [{ q: {}, u: { $set: { y: 1 } }, upsrt: true }] }),
    );
    expect(update.message).toBe("BSON field 'update.updates.upsrt' is an unknown field.");
    const remove = await rejectionOf(
      db.command({ delete: 'walk', deletes: [{ q: {}, limit: 0, multi: true }] }),
    );
    expect(remove.message).toBe("BSON field 'delete.deletes.multi' is an unknown field.");
    // Refused before running: nothing was written or removed.
    const insert = await rejectionOf(db.command({ insert: 'walk', documents: [{ _id: 9 }], bypass: true }));
    expect(insert.code).toBe(40415);
    expect(await db.collection('walk').countDocuments()).toBe(3);
  });
});
