// Multi-document transactions of the embedded server through the official driver: isolation, write conflicts,
// the errors and labels mongod answers with, lifetime limits, change events and durability.
import { Long, UUID, type Document } from 'bson';
import type { ChangeStreamDocument, ClientSession, Collection, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectMongoError,
  RawConnection,
  rejectionOf,
  temporaryDirectory,
  uniqueDbName,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

interface Account {
  _id: string;
  balance: number;
}

let fixture: ServerFixture;
/** The transactions' clock: tests move it forward instead of waiting out a lifetime limit. */
let nowMs = Date.now();

beforeAll(async () => {
  fixture = await withServer({ now: () => nowMs });
});

afterAll(async () => {
  await fixture?.stop();
});

async function accounts(client: MongoClient = fixture.client): Promise<Collection<Account>> {
  const collection = client.db(uniqueDbName('txn')).collection<Account>('accounts');
  await collection.insertMany([
    { _id: 'a', balance: 100 },
    { _id: 'b', balance: 0 },
  ]);
  return collection;
}

async function inSession<T>(work: (session: ClientSession) => Promise<T>): Promise<T> {
  const session = fixture.client.startSession();
  try {
    return await work(session);
  } finally {
    await session.endSession();
  }
}

/**
 * Sends one command over a raw connection with explicit session fields, as a driver in a transaction would (the
 * driver's db.command() would put its own lsid on it), and returns the reply body, ok or not.
 */
async function runInTransaction(db: string, command: Document): Promise<Document> {
  const connection = await RawConnection.open(fixture.server.port);
  try {
    return await connection.command({ ...command, $db: db });
  } finally {
    connection.destroy();
  }
}

describe('a transaction', () => {
  it('commits its writes together: visible inside at once, outside only after the commit', async () => {
    const collection = await accounts();
    await inSession(async (session) => {
      session.startTransaction();
      await collection.updateOne({ _id: 'a' }, { $inc: { balance: -30 } }, { session });
      await collection.updateOne({ _id: 'b' }, { $inc: { balance: 30 } }, { session });
      await collection.insertOne({ _id: 'c', balance: 5 }, { session });
      expect(await collection.find({}, { session }).sort({ _id: 1 }).toArray()).toEqual([
        { _id: 'a', balance: 70 },
        { _id: 'b', balance: 30 },
        { _id: 'c', balance: 5 },
      ]);
      expect(await collection.countDocuments({ balance: { $gt: 0 } }, { session })).toBe(3);
      // Another session, and a read outside any session, see none of it yet.
      expect(await collection.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 'a', balance: 100 },
        { _id: 'b', balance: 0 },
      ]);
      await session.commitTransaction();
    });
    expect(await collection.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'a', balance: 70 },
      { _id: 'b', balance: 30 },
      { _id: 'c', balance: 5 },
    ]);
  });

  it('reads from its snapshot: commits made after it started stay invisible to it', async () => {
    const collection = await accounts();
    await inSession(async (session) => {
      session.startTransaction();
      expect(await collection.findOne({ _id: 'a' }, { session })).toEqual({ _id: 'a', balance: 100 });
      await collection.updateOne({ _id: 'a' }, { $set: { balance: 1 } });
      await collection.insertOne({ _id: 'late', balance: 9 });
      await collection.deleteOne({ _id: 'b' });
      expect(await collection.find({}, { session }).sort({ _id: 1 }).toArray()).toEqual([
        { _id: 'a', balance: 100 },
        { _id: 'b', balance: 0 },
      ]);
      expect(await collection.findOne({ balance: 1 }, { session })).toBeNull();
      await session.commitTransaction();
    });
  });

  it('discards everything on abort', async () => {
    const collection = await accounts();
    await inSession(async (session) => {
      session.startTransaction();
      await collection.deleteMany({}, { session });
      await collection.insertOne({ _id: 'x', balance: 1 }, { session });
      await session.abortTransaction();
    });
    expect(await collection.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'a', balance: 100 },
      { _id: 'b', balance: 0 },
    ]);
  });

  it('keeps unique indexes: a duplicate inside the transaction fails with 11000 and aborts it', async () => {
    const collection = await accounts();
    await collection.createIndex({ balance: 1 }, { unique: true });
    await inSession(async (session) => {
      session.startTransaction();
      await collection.updateOne({ _id: 'b' }, { $set: { balance: 7 } }, { session });
      // 100 is held by 'a' in the snapshot; 0 was freed by this transaction's own update of 'b'.
      await expectMongoError(collection.insertOne({ _id: 'd', balance: 100 }, { session }), 11000);
      await expectMongoError(session.commitTransaction(), 251);
    });
    expect(await collection.countDocuments()).toBe(2);
  });

  it('refuses commands mongod refuses in a transaction (count: 263)', async () => {
    const collection = await accounts();
    await inSession(async (session) => {
      session.startTransaction();
      await expectMongoError(collection.count({}, { session }), 263);
      await session.abortTransaction();
    });
  });
});

describe('write conflicts', () => {
  it('the first writer wins; the second gets WriteConflict (112) labelled TransientTransactionError', async () => {
    const collection = await accounts();
    const first = fixture.client.startSession();
    const second = fixture.client.startSession();
    try {
      first.startTransaction();
      second.startTransaction();
      await collection.updateOne({ _id: 'a' }, { $inc: { balance: 1 } }, { session: first });
      const conflict = await expectMongoError(
        collection.updateOne({ _id: 'a' }, { $inc: { balance: 10 } }, { session: second }),
        112,
      );
      expect(conflict.codeName).toBe('WriteConflict');
      expect(conflict.errorLabels).toEqual(['TransientTransactionError']);
      await first.commitTransaction();
      // The conflict aborted the second transaction on the server.
      const gone = await expectMongoError(second.commitTransaction(), 251);
      expect(gone.errorLabels).toContain('TransientTransactionError');
    } finally {
      await first.endSession();
      await second.endSession();
    }
    expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', balance: 101 });
  });

  it('a document committed by someone else after the snapshot cannot be written (112)', async () => {
    const collection = await accounts();
    await inSession(async (session) => {
      session.startTransaction();
      await collection.findOne({ _id: 'a' }, { session });
      await collection.updateOne({ _id: 'a' }, { $set: { balance: 5 } });
      await expectMongoError(collection.updateOne({ _id: 'a' }, { $inc: { balance: 1 } }, { session }), 112);
    });
    expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', balance: 5 });
  });

  it('withTransaction retries a conflicting transaction until it applies: no lost update', async () => {
    const collection = await accounts();
    const transfer = (amount: number): Promise<unknown> =>
      inSession((session) =>
        session.withTransaction(async () => {
          const account = await collection.findOne({ _id: 'a' }, { session });
          await collection.updateOne(
            { _id: 'a' },
            { $set: { balance: account!.balance - amount } },
            { session },
          );
          await collection.updateOne({ _id: 'b' }, { $inc: { balance: amount } }, { session });
        }),
      );
    await Promise.all([transfer(10), transfer(20), transfer(30)]);
    expect(await collection.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'a', balance: 40 },
      { _id: 'b', balance: 60 },
    ]);
  });
});

describe('transaction numbers and states, as mongod answers them', () => {
  const lsid = (): Document => ({ id: new UUID() });

  it('commit is idempotent; abort after commit is TransactionCommitted (256); unknown numbers are 251', async () => {
    const collection = await accounts();
    const db = collection.dbName;
    const session = lsid();
    const txn = (n: number): Document => ({
      lsid: session,
      txnNumber: Long.fromNumber(n),
      autocommit: false,
    });
    expect(
      await runInTransaction(db, {
        insert: 'accounts',
        documents: [{ _id: 'c', balance: 1 }],
        ...txn(3),
        startTransaction: true,
      }),
    ).toMatchObject({ ok: 1, n: 1 });
    expect(await runInTransaction('admin', { commitTransaction: 1, ...txn(3) })).toMatchObject({ ok: 1 });
    // A retried commit (the reply was lost) succeeds again and applies nothing twice.
    expect(await runInTransaction('admin', { commitTransaction: 1, ...txn(3) })).toMatchObject({ ok: 1 });
    expect(await runInTransaction('admin', { abortTransaction: 1, ...txn(3) })).toMatchObject({
      ok: 0,
      code: 256,
      codeName: 'TransactionCommitted',
    });
    expect(await runInTransaction('admin', { commitTransaction: 1, ...txn(4) })).toMatchObject({
      ok: 0,
      code: 251,
      codeName: 'NoSuchTransaction',
      errorLabels: ['TransientTransactionError'],
    });
    expect(await runInTransaction(db, { find: 'accounts', ...txn(2), startTransaction: true })).toMatchObject(
      { ok: 0, code: 225, codeName: 'TransactionTooOld' },
    );
    expect(await collection.countDocuments({ _id: 'c' })).toBe(1);
  });

  it('a commit with a write concern one member cannot satisfy is applied and reports UnsatisfiableWriteConcern', async () => {
    const collection = await accounts();
    const txn = { lsid: lsid(), txnNumber: Long.fromNumber(1), autocommit: false };
    expect(
      await runInTransaction(collection.dbName, {
        delete: 'accounts',
        deletes: [{ q: { _id: 'b' }, limit: 1 }],
        ...txn,
        startTransaction: true,
      }),
    ).toMatchObject({ ok: 1, n: 1 });
    const reply = await runInTransaction('admin', { commitTransaction: 1, ...txn, writeConcern: { w: 3 } });
    expect(reply).toMatchObject({
      ok: 1,
      writeConcernError: { code: 100, codeName: 'UnsatisfiableWriteConcern' },
    });
    expect(await collection.countDocuments()).toBe(1);
  });
});

describe('transactionLifetimeLimitSeconds', () => {
  it('is 60 by default and settable with setParameter', async () => {
    const admin = fixture.client.db('admin');
    expect(await admin.command({ getParameter: 1, transactionLifetimeLimitSeconds: 1 })).toMatchObject({
      transactionLifetimeLimitSeconds: 60,
    });
    expect(await admin.command({ setParameter: 1, transactionLifetimeLimitSeconds: 30 })).toMatchObject({
      was: 60,
    });
    try {
      expect(await admin.command({ getParameter: 1, transactionLifetimeLimitSeconds: 1 })).toMatchObject({
        transactionLifetimeLimitSeconds: 30,
      });
    } finally {
      await admin.command({ setParameter: 1, transactionLifetimeLimitSeconds: 60 });
    }
  });

  it('aborts a transaction older than the limit: it gets NoSuchTransaction and its documents are free', async () => {
    const collection = await accounts();
    const old = fixture.client.startSession();
    try {
      old.startTransaction();
      await collection.updateOne({ _id: 'a' }, { $set: { balance: 0 } }, { session: old });
      nowMs += 61_000;
      // The document the expired transaction held can be written by a new transaction right away.
      await inSession((session) =>
        session.withTransaction(() =>
          collection.updateOne({ _id: 'a' }, { $inc: { balance: 1 } }, { session }),
        ),
      );
      const expired = await expectMongoError(
        collection.updateOne({ _id: 'b' }, { $set: { balance: 1 } }, { session: old }),
        251,
      );
      expect(expired.message).toMatch(/transactionLifetimeLimitSeconds/);
      await old.abortTransaction().catch(() => undefined);
    } finally {
      await old.endSession();
    }
    expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', balance: 101 });
  });
});

describe('change events of transactions', () => {
  it('a committed transaction yields one event per write, each with lsid and txnNumber; an aborted one none', async () => {
    const collection = await accounts();
    const stream = collection.watch<Account, ChangeStreamDocument<Account>>();
    try {
      await stream.tryNext();
      let sessionId: unknown;
      await inSession(async (session) => {
        sessionId = session.id;
        session.startTransaction();
        await collection.insertOne({ _id: 'aborted', balance: 1 }, { session });
        await session.abortTransaction();
        await session.withTransaction(async () => {
          await collection.insertOne({ _id: 'c', balance: 1 }, { session });
          await collection.updateOne({ _id: 'a' }, { $inc: { balance: -1 } }, { session });
          await collection.deleteOne({ _id: 'b' }, { session });
        });
      });
      await collection.insertOne({ _id: 'after', balance: 0 });
      const events: ChangeStreamDocument<Account>[] = [];
      while (events.length < 4) events.push(await stream.next());
      expect(events.map((event) => event.operationType)).toEqual(['insert', 'update', 'delete', 'insert']);
      const [insert, update, remove, after] = events as (Document & ChangeStreamDocument<Account>)[];
      for (const event of [insert, update, remove]) {
        expect(event!.lsid).toEqual(sessionId);
        // A NumberLong on the wire; the driver promotes it to a number.
        expect(event!.txnNumber).toBe(insert!.txnNumber);
        expect(Number(event!.txnNumber)).toBeGreaterThan(0);
      }
      expect(insert!.documentKey).toEqual({ _id: 'c' });
      // Every event of the transaction has its own cluster time, in commit order, before the later write's.
      expect(after!.documentKey).toEqual({ _id: 'after' });
      expect(after!.txnNumber).toBeUndefined();
    } finally {
      await stream.close();
    }
  });
});

describe('durability', () => {
  it('a committed transaction survives a restart with --dbpath; an aborted one leaves nothing', async () => {
    const directory = await temporaryDirectory('txn-dbpath');
    try {
      const first = await withServer({ dbpath: directory.path });
      const db = uniqueDbName('durable');
      try {
        const collection = first.client.db(db).collection<Account>('accounts');
        await collection.insertOne({ _id: 'a', balance: 10 });
        const session = first.client.startSession();
        await session.withTransaction(async () => {
          await collection.insertOne({ _id: 'b', balance: 5 }, { session });
          await collection.updateOne({ _id: 'a' }, { $inc: { balance: -5 } }, { session });
        });
        session.startTransaction();
        await collection.insertOne({ _id: 'never', balance: 0 }, { session });
        await session.abortTransaction();
        await session.endSession();
      } finally {
        await first.stop();
      }
      const second = await withServer({ dbpath: directory.path });
      try {
        const collection = second.client.db(db).collection<Account>('accounts');
        expect(await collection.find().sort({ _id: 1 }).toArray()).toEqual([
          { _id: 'a', balance: 5 },
          { _id: 'b', balance: 5 },
        ]);
      } finally {
        await second.stop();
      }
    } finally {
      await directory.remove();
    }
  });

  it('rejects nothing it should not: a transaction that conflicts at commit leaves the data as it was', async () => {
    const collection = await accounts();
    const error = await rejectionOf(
      inSession(async (session) => {
        session.startTransaction();
        await collection.updateOne({ _id: 'a' }, { $set: { balance: 1 } }, { session });
        await collection.insertOne({ _id: 'c', balance: 2 }, { session });
        // DDL does not wait for the transaction's documents: the collection it wrote is replaced under it.
        await collection.drop();
        await collection.insertOne({ _id: 'a', balance: 50 });
        await session.commitTransaction();
      }),
    );
    expect(error.code).toBe(112);
    expect(await collection.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 'a', balance: 50 }]);
  });
});
