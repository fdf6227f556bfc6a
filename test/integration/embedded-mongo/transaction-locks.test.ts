// Writes outside any transaction that reach a document an open transaction wrote wait for it, as in mongod: they
// apply after its commit or abort, on the document as it is then, or fail with MaxTimeMSExpired (50).
import type { ClientSession, Collection } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeOpMsg,
  expectMongoError,
  RawConnection,
  uniqueDbName,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

interface Account {
  _id: string;
  balance: number;
}

let fixture: ServerFixture;
/** The transactions' clock: a test moves it past the lifetime limit instead of waiting a minute. */
let nowMs = Date.now();

beforeAll(async () => {
  fixture = await withServer({ now: () => nowMs });
});

afterAll(async () => {
  await fixture?.stop();
});

async function accounts(): Promise<Collection<Account>> {
  const collection = fixture.client.db(uniqueDbName('locks')).collection<Account>('accounts');
  await collection.insertMany([
    { _id: 'a', balance: 100 },
    { _id: 'b', balance: 0 },
  ]);
  return collection;
}

/** A promise that remembers whether it has settled, so a test can see that a write is still waiting. */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const settledPromise = promise.finally(() => (done = true));
  // The test awaits `promise`; this copy only records the outcome.
  settledPromise.catch(() => undefined);
  return { promise, settled: () => done };
}

/**
 * Proves the server keeps serving other connections while the write waits: a few round trips on another client,
 * after which the write (sent before them) must still be pending.
 */
async function expectStillWaiting(write: { settled: () => boolean }, collection: Collection<Account>) {
  const other = await fixture.connect();
  const view = other.db(collection.dbName).collection<Account>(collection.collectionName);
  for (let round = 0; round < 3; round += 1) {
    expect(await view.countDocuments({})).toBeGreaterThan(0);
    await other.db('admin').command({ ping: 1 });
  }
  expect(write.settled()).toBe(false);
}

function openTransaction(): ClientSession {
  const session = fixture.client.startSession();
  session.startTransaction();
  return session;
}

describe('a write outside a transaction, on a document the transaction wrote', () => {
  it('waits for the commit, then applies to the committed document (no lost update, no WriteConflict)', async () => {
    const collection = await accounts();
    const session = openTransaction();
    try {
      await collection.updateOne({ _id: 'a' }, { $inc: { balance: -30 } }, { session });
      const outside = tracked(collection.updateOne({ _id: 'a' }, { $inc: { balance: 5 } }));
      await expectStillWaiting(outside, collection);
      // The uncommitted write was not overwritten: the transaction still sees its own value and commits.
      expect(await collection.findOne({ _id: 'a' }, { session })).toEqual({ _id: 'a', balance: 70 });
      await session.commitTransaction();
      expect(await outside.promise).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    } finally {
      await session.endSession();
    }
    expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', balance: 75 });
  });

  it('waits for an abort, then applies to the document as it was before the transaction', async () => {
    const collection = await accounts();
    const session = openTransaction();
    try {
      await collection.updateOne({ _id: 'a' }, { $set: { balance: 1 } }, { session });
      const outside = tracked(collection.updateOne({ _id: 'a' }, { $inc: { balance: 5 } }));
      await expectStillWaiting(outside, collection);
      await session.abortTransaction();
      await outside.promise;
    } finally {
      await session.endSession();
    }
    expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', balance: 105 });
  });

  it('deletes and findAndModify wait too, and read the document as the commit left it', async () => {
    const collection = await accounts();
    const session = openTransaction();
    try {
      await collection.updateOne({ _id: 'a' }, { $set: { balance: 7 } }, { session });
      await collection.deleteOne({ _id: 'b' }, { session });
      const modified = tracked(
        collection.findOneAndUpdate({ _id: 'a' }, { $inc: { balance: 1 } }, { returnDocument: 'after' }),
      );
      const deleted = tracked(collection.deleteOne({ _id: 'b' }));
      await expectStillWaiting(modified, collection);
      expect(deleted.settled()).toBe(false);
      await session.commitTransaction();
      expect(await modified.promise).toEqual({ _id: 'a', balance: 8 });
      // The transaction deleted it first: nothing left to delete.
      expect(await deleted.promise).toMatchObject({ deletedCount: 0 });
    } finally {
      await session.endSession();
    }
    expect(await collection.find().toArray()).toEqual([{ _id: 'a', balance: 8 }]);
  });

  it('an insert racing an uncommitted insert of the same _id waits: duplicate after commit, inserted after abort', async () => {
    const collection = await accounts();
    const committed = openTransaction();
    try {
      await collection.insertOne({ _id: 'c', balance: 1 }, { session: committed });
      const racing = tracked(collection.insertOne({ _id: 'c', balance: 2 }));
      await expectStillWaiting(racing, collection);
      await committed.commitTransaction();
      await expectMongoError(racing.promise, 11000);
    } finally {
      await committed.endSession();
    }
    const aborted = openTransaction();
    try {
      await collection.insertOne({ _id: 'd', balance: 1 }, { session: aborted });
      const racing = tracked(
        collection.insertMany([
          { _id: 'e', balance: 3 },
          { _id: 'd', balance: 2 },
        ]),
      );
      await expectStillWaiting(racing, collection);
      await aborted.abortTransaction();
      expect(await racing.promise).toMatchObject({ insertedCount: 2 });
    } finally {
      await aborted.endSession();
    }
    expect(
      await collection
        .find({ _id: { $in: ['c', 'd', 'e'] } })
        .sort({ _id: 1 })
        .toArray(),
    ).toEqual([
      { _id: 'c', balance: 1 },
      { _id: 'd', balance: 2 },
      { _id: 'e', balance: 3 },
    ]);
  });

  it('an insert racing an uncommitted unique key waits: duplicate after commit, inserted after abort', async () => {
    const collection = await accounts();
    await collection.createIndex({ balance: 1 }, { unique: true });
    const committed = openTransaction();
    try {
      await collection.insertOne({ _id: 'c', balance: 7 }, { session: committed });
      const racing = tracked(collection.insertOne({ _id: 'd', balance: 7 }));
      await expectStillWaiting(racing, collection);
      await committed.commitTransaction();
      const duplicate = await expectMongoError(racing.promise, 11000);
      expect(duplicate.message).toMatch(/balance_1/);
    } finally {
      await committed.endSession();
    }
    const aborted = openTransaction();
    try {
      await collection.updateOne({ _id: 'c' }, { $set: { balance: 8 } }, { session: aborted });
      // Another transaction writing the same key conflicts at once, as in mongod.
      const other = openTransaction();
      try {
        await expectMongoError(collection.insertOne({ _id: 'x', balance: 8 }, { session: other }), 112);
      } finally {
        await other.endSession();
      }
      const racing = tracked(collection.insertOne({ _id: 'e', balance: 8 }));
      await expectStillWaiting(racing, collection);
      await aborted.abortTransaction();
      await racing.promise;
    } finally {
      await aborted.endSession();
    }
    expect(
      await collection
        .find({ _id: { $in: ['c', 'e'] } })
        .sort({ _id: 1 })
        .toArray(),
    ).toEqual([
      { _id: 'c', balance: 7 },
      { _id: 'e', balance: 8 },
    ]);
  });

  it('an upsert that would insert the document a transaction inserted updates it once that commits', async () => {
    const collection = await accounts();
    const session = openTransaction();
    try {
      await collection.insertOne({ _id: 'c', balance: 10 }, { session });
      const upsert = tracked(collection.updateOne({ _id: 'c' }, { $inc: { balance: 1 } }, { upsert: true }));
      await expectStillWaiting(upsert, collection);
      await session.commitTransaction();
      expect(await upsert.promise).toMatchObject({ matchedCount: 1, upsertedCount: 0 });
    } finally {
      await session.endSession();
    }
    expect(await collection.findOne({ _id: 'c' })).toEqual({ _id: 'c', balance: 11 });
  });

  it('gives up after its maxTimeMS with MaxTimeMSExpired (50), changing nothing', async () => {
    const collection = await accounts();
    const session = openTransaction();
    try {
      await collection.updateOne({ _id: 'a' }, { $set: { balance: 1 } }, { session });
      const expired = await expectMongoError(
        collection.updateOne({ _id: 'a' }, { $set: { balance: 999 } }, { maxTimeMS: 50 }),
        50,
      );
      expect(expired.codeName).toBe('MaxTimeMSExpired');
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', balance: 1 });
  });

  it('is released when the transaction outlives transactionLifetimeLimitSeconds and is aborted', async () => {
    const collection = await accounts();
    const session = openTransaction();
    try {
      await collection.updateOne({ _id: 'a' }, { $set: { balance: 0 } }, { session });
      const outside = tracked(collection.updateOne({ _id: 'a' }, { $inc: { balance: 1 } }));
      await expectStillWaiting(outside, collection);
      // No command of the transaction's comes: the server's sweep aborts it once its clock says it is too old.
      nowMs += 61_000;
      await outside.promise;
      await expectMongoError(session.commitTransaction(), 251);
    } finally {
      await session.endSession();
    }
    expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', balance: 101 });
  });

  it('is dropped when its client disconnects while it waits: it does not apply after the commit', async () => {
    const collection = await accounts();
    const session = openTransaction();
    try {
      await collection.updateOne({ _id: 'a' }, { $set: { balance: 1 } }, { session });
      const raw = await RawConnection.open(fixture.server.port);
      await raw.write(
        encodeOpMsg({
          update: collection.collectionName,
          updates: [{ q: { _id: 'a' }, u: { $inc: { balance: 1000 } } }],
          $db: collection.dbName,
        }),
      );
      await expectStillWaiting({ settled: () => raw.isClosed }, collection);
      const connected = fixture.server.connectionCount;
      raw.destroy();
      // The server has seen the socket close (nothing else here closes a connection).
      await expect.poll(() => fixture.server.connectionCount).toBeLessThan(connected);
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    // A later write to the same document goes through, and nothing of the abandoned one shows.
    await collection.updateOne({ _id: 'a' }, { $inc: { balance: 1 } });
    expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', balance: 2 });
  });

  it('writes to documents the transaction did not touch do not wait', async () => {
    const collection = await accounts();
    const session = openTransaction();
    try {
      await collection.updateOne({ _id: 'a' }, { $set: { balance: 1 } }, { session });
      await collection.updateOne({ _id: 'b' }, { $set: { balance: 2 } });
      await collection.insertOne({ _id: 'c', balance: 3 });
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    expect(await collection.find().toArray()).toEqual([
      { _id: 'a', balance: 1 },
      { _id: 'b', balance: 2 },
      { _id: 'c', balance: 3 },
    ]);
  });

  it('$merge into a document the transaction wrote waits for it as well', async () => {
    const collection = await accounts();
    const source = collection.db.collection<Account>('source');
    await source.insertOne({ _id: 'a', balance: 42 });
    const session = openTransaction();
    try {
      await collection.updateOne({ _id: 'a' }, { $set: { balance: 1 } }, { session });
      const merge = tracked(
        source
          .aggregate([{ $merge: { into: 'accounts', whenMatched: 'merge', whenNotMatched: 'insert' } }])
          .toArray(),
      );
      await expectStillWaiting(merge, collection);
      await session.commitTransaction();
      await merge.promise;
    } finally {
      await session.endSession();
    }
    expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', balance: 42 });
  });
});
