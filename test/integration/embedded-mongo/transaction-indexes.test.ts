// createIndexes inside a transaction, as mongod ≥ 4.4 allows it: on a collection that does not exist yet or that
// the transaction created and that holds no documents; anything else is OperationNotSupportedInTransaction (263).
import type { ClientSession, Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectMongoError,
  temporaryDirectory,
  uniqueDbName,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

interface User {
  _id: number;
  email: string;
}

let fixture: ServerFixture;

beforeAll(async () => {
  fixture = await withServer();
});

afterAll(async () => {
  await fixture?.stop();
});

async function inTransaction<T>(
  work: (session: ClientSession) => Promise<T>,
  end: 'commit' | 'abort' = 'commit',
): Promise<T> {
  const session = fixture.client.startSession();
  try {
    session.startTransaction();
    const result = await work(session);
    if (end === 'commit') await session.commitTransaction();
    else await session.abortTransaction();
    return result;
  } finally {
    await session.endSession();
  }
}

async function indexNames(db: Db, collection: string): Promise<string[]> {
  return (await db.collection(collection).listIndexes().toArray())
    .map((index) => String((index as { name: unknown }).name))
    .sort();
}

async function collectionNames(db: Db): Promise<string[]> {
  return (await db.listCollections({}, { nameOnly: true }).toArray()).map((info) => info.name).sort();
}

describe('createIndexes in a transaction', () => {
  it('creates a new collection and its index, enforced inside the transaction, visible after the commit', async () => {
    const db = fixture.client.db(uniqueDbName('txnidx'));
    const reply = await inTransaction(async (session) => {
      const created = await db.command(
        { createIndexes: 'users', indexes: [{ key: { email: 1 }, name: 'email_1', unique: true }] },
        { session },
      );
      await db.collection<User>('users').insertOne({ _id: 1, email: 'a@x' }, { session });
      // Nobody outside the transaction sees the collection yet.
      expect(await collectionNames(db)).toEqual([]);
      return created;
    });
    expect(reply).toMatchObject({
      createdCollectionAutomatically: true,
      numIndexesBefore: 1,
      numIndexesAfter: 2,
    });
    expect(await indexNames(db, 'users')).toEqual(['_id_', 'email_1']);
    expect(await db.collection<User>('users').find().toArray()).toEqual([{ _id: 1, email: 'a@x' }]);
    await expectMongoError(db.collection<User>('users').insertOne({ _id: 2, email: 'a@x' }), 11000);
  });

  it('keeps a unique index it built for the writes that follow in the same transaction', async () => {
    const db = fixture.client.db(uniqueDbName('txnidx'));
    const session = fixture.client.startSession();
    try {
      session.startTransaction();
      await db.collection<User>('users').createIndex({ email: 1 }, { unique: true, session });
      await db.collection<User>('users').insertOne({ _id: 1, email: 'a@x' }, { session });
      await expectMongoError(
        db.collection<User>('users').insertOne({ _id: 2, email: 'a@x' }, { session }),
        11000,
      );
      // The failed statement aborted the transaction, as in mongod.
      await expectMongoError(session.commitTransaction(), 251);
    } finally {
      await session.endSession();
    }
    expect(await collectionNames(db)).toEqual([]);
  });

  it('works on a collection created by `create` earlier in the transaction', async () => {
    const db = fixture.client.db(uniqueDbName('txnidx'));
    await inTransaction(async (session) => {
      await db.createCollection('orders', { session });
      await db.collection('orders').createIndex({ placedAt: -1 }, { name: 'recent', session });
    });
    expect(await indexNames(db, 'orders')).toEqual(['_id_', 'recent']);
  });

  it('abort undoes the collection and its index', async () => {
    const db = fixture.client.db(uniqueDbName('txnidx'));
    await inTransaction(async (session) => {
      await db.collection('drafts').createIndex({ title: 1 }, { session });
      await db.collection('drafts').insertOne({ title: 'x' }, { session });
    }, 'abort');
    expect(await collectionNames(db)).toEqual([]);
    // Created again outside: it starts with only the _id index.
    await db.collection('drafts').insertOne({ title: 'y' });
    expect(await indexNames(db, 'drafts')).toEqual(['_id_']);
  });

  it('is refused (263) on an existing collection, and on one the transaction created and already wrote to', async () => {
    const db = fixture.client.db(uniqueDbName('txnidx'));
    await db.collection('existing').insertOne({ a: 1 });
    const session = fixture.client.startSession();
    try {
      session.startTransaction();
      const existing = await expectMongoError(
        db.collection('existing').createIndex({ a: 1 }, { session }),
        263,
      );
      expect(existing.message).toMatch(/existing collection/);
      await session.abortTransaction().catch(() => undefined);
      session.startTransaction();
      await db.collection('fresh').insertOne({ a: 1 }, { session });
      const nonEmpty = await expectMongoError(db.collection('fresh').createIndex({ a: 1 }, { session }), 263);
      expect(nonEmpty.message).toMatch(/non-empty collection/);
      await session.abortTransaction().catch(() => undefined);
    } finally {
      await session.endSession();
    }
    expect(await indexNames(db, 'existing')).toEqual(['_id_']);
    expect(await collectionNames(db)).toEqual(['existing']);
  });

  it('a committed index survives a restart with --dbpath (journaled with the transaction)', async () => {
    const directory = await temporaryDirectory('txn-index-dbpath');
    const name = uniqueDbName('txnidx');
    try {
      const first = await withServer({ dbpath: directory.path });
      try {
        const db = first.client.db(name);
        const session = first.client.startSession();
        try {
          await session.withTransaction(async () => {
            await db.collection<User>('users').createIndex({ email: 1 }, { unique: true, session });
            await db.collection<User>('users').insertOne({ _id: 1, email: 'a@x' }, { session });
          });
        } finally {
          await session.endSession();
        }
      } finally {
        await first.stop();
      }
      const second = await withServer({ dbpath: directory.path });
      try {
        const db = second.client.db(name);
        expect(await indexNames(db, 'users')).toEqual(['_id_', 'email_1']);
        expect(await db.collection<User>('users').find().toArray()).toEqual([{ _id: 1, email: 'a@x' }]);
        await expectMongoError(db.collection<User>('users').insertOne({ _id: 2, email: 'a@x' }), 11000);
      } finally {
        await second.stop();
      }
    } finally {
      await directory.remove();
    }
  });
});
