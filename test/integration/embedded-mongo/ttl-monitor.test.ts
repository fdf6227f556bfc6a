// The TTL monitor: expired documents of a TTL index (date field or array of dates, partial filter respected) are
// deleted on the monitor's pass, with a delete change event and a journal entry, on an injected clock; the interval
// is 60 s by default, and an option or setParameter sets it.
import type { ChangeStreamDocument, Collection, Db, Timestamp } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  temporaryDirectory,
  uniqueDbName,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

interface Session {
  _id: number;
  at?: Date | Date[] | string;
  kind?: string;
}

const START = Date.parse('2030-01-01T00:00:00Z');
let now = START;
let fixture: ServerFixture;
let db: Db;

beforeAll(async () => {
  fixture = await withServer({ ttlMonitorSleepSecs: 0.05, now: () => now });
  db = fixture.client.db(uniqueDbName('ttl'));
});

afterAll(async () => {
  await fixture?.stop();
});

const ids = async (collection: Collection<Session>): Promise<number[]> =>
  (await collection.find({}, { sort: { _id: 1 } }).toArray()).map((doc) => doc._id);

describe('TTL monitor', () => {
  it('deletes documents once their date plus expireAfterSeconds has passed, with delete events', async () => {
    now = START;
    const sessions = db.collection<Session>('sessions');
    await sessions.createIndex({ at: 1 }, { expireAfterSeconds: 60 });
    await sessions.insertMany([
      { _id: 1, at: new Date(START - 30_000) },
      { _id: 2, at: new Date(START + 120_000) },
      // An array expires with its earliest date.
      { _id: 3, at: [new Date(START + 600_000), new Date(START - 10_000)] },
      // Not a date: never expires.
      { _id: 4, at: '2000-01-01' },
      { _id: 5 },
    ]);
    // From the cluster time of the inserts (inclusive): the deletes the monitor makes afterwards are all seen.
    const { operationTime } = await db.command({ ping: 1 });
    const stream = sessions.watch([{ $match: { operationType: 'delete' } }], {
      startAtOperationTime: operationTime as Timestamp,
    });
    const events: ChangeStreamDocument<Session>[] = [];
    const collecting = (async () => {
      for await (const event of stream) events.push(event);
    })().catch(() => undefined); // closing the stream ends the loop with an error

    now = START + 55_000; // _id 1 expires at START+30s, _id 3 at START+50s
    await expect.poll(() => ids(sessions)).toEqual([2, 4, 5]);
    await expect
      .poll(() => events.map((event) => (event.operationType === 'delete' ? event.documentKey._id : null)))
      .toEqual([1, 3]);

    now = START + 180_000;
    await expect.poll(() => ids(sessions)).toEqual([4, 5]);
    await stream.close();
    await collecting;
  });

  it('reads a sparse single-date index in key order: past dates go, later, missing and non-dates stay', async () => {
    now = START;
    const leases = db.collection<Session>('leases');
    await leases.createIndex({ at: 1 }, { expireAfterSeconds: 0, sparse: true });
    await leases.insertMany([
      { _id: 1, at: new Date(START - 1_000) },
      { _id: 2, at: new Date(START + 60_000) },
      { _id: 3, at: '1999-01-01' },
      { _id: 4, kind: 'no date' },
      { _id: 5, at: new Date(START + 30_000) },
    ]);
    await expect.poll(() => ids(leases)).toEqual([2, 3, 4, 5]);
    // Moved after the index's order was built: the order follows the update.
    await leases.updateOne({ _id: 2 }, { $set: { at: new Date(START + 10_000) } });
    await leases.updateOne({ _id: 4 }, { $set: { at: new Date(START + 20_000) } });

    now = START + 25_000;
    await expect.poll(() => ids(leases)).toEqual([3, 5]);
  });

  it('respects a partial filter', async () => {
    now = START;
    const logins = db.collection<Session>('logins');
    await logins.createIndex(
      { at: 1 },
      { expireAfterSeconds: 0, partialFilterExpression: { kind: 'guest' } },
    );
    await logins.insertMany([
      { _id: 1, at: new Date(START - 1), kind: 'guest' },
      { _id: 2, at: new Date(START - 1), kind: 'member' },
    ]);
    now = START + 1_000;
    await expect.poll(() => ids(logins)).toEqual([2]);
  });

  it('leaves a document an open transaction holds for a pass after the transaction ends', async () => {
    now = START;
    const carts = db.collection<Session>('carts');
    await carts.createIndex({ at: 1 }, { expireAfterSeconds: 0 });
    await carts.insertMany([
      { _id: 1, at: new Date(START + 500) },
      { _id: 2, at: new Date(START + 500) },
    ]);
    const session = fixture.client.startSession();
    try {
      session.startTransaction();
      await carts.updateOne({ _id: 1 }, { $set: { kind: 'held' } }, { session });
      now = START + 1_000;
      // The other expired document goes on the next passes; the held one stays until the commit.
      await expect.poll(() => ids(carts)).toEqual([1]);
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    await expect.poll(() => ids(carts)).toEqual([]);
  });

  it('reports and sets ttlMonitorSleepSecs (integer seconds of at least 1, as mongod)', async () => {
    const admin = fixture.client.db('admin');
    expect((await admin.command({ getParameter: 1, ttlMonitorSleepSecs: 1 })).ttlMonitorSleepSecs).toBe(0.05);
    await expect(admin.command({ setParameter: 1, ttlMonitorSleepSecs: 0 })).rejects.toMatchObject({
      code: 2,
    });
    expect(await admin.command({ setParameter: 1, ttlMonitorSleepSecs: 3600 })).toMatchObject({ was: 0.05 });
    expect((await admin.command({ getParameter: 1, ttlMonitorSleepSecs: 1 })).ttlMonitorSleepSecs).toBe(3600);
  });

  it("runs every 60 s unless told otherwise, as mongod's does", async () => {
    const defaults = await withServer();
    try {
      const admin = defaults.client.db('admin');
      expect((await admin.command({ getParameter: 1, ttlMonitorSleepSecs: 1 })).ttlMonitorSleepSecs).toBe(60);
    } finally {
      await defaults.stop();
    }
  });

  it('journals its deletes: an expired document stays deleted after a restart on the same dbpath', async () => {
    const directory = await temporaryDirectory('sagastream-ttl');
    let clock = START;
    const options = { dbpath: directory.path, ttlMonitorSleepSecs: 0.05, now: () => clock };
    let running = await withServer(options);
    try {
      const dbName = uniqueDbName('ttl_journal');
      const tokens = running.client.db(dbName).collection<Session>('tokens');
      await tokens.createIndex({ at: 1 }, { expireAfterSeconds: 0 });
      await tokens.insertMany([
        { _id: 1, at: new Date(START + 1_000) },
        { _id: 2, at: new Date(START + 600_000) },
      ]);
      clock = START + 2_000;
      await expect.poll(() => ids(tokens)).toEqual([2]);
      await running.stop();

      // Restarted with the clock back before the expiry: only the journal can say that _id 1 was deleted.
      clock = START;
      running = await withServer(options);
      expect(await ids(running.client.db(dbName).collection<Session>('tokens'))).toEqual([2]);
    } finally {
      await running.stop();
      await directory.remove();
    }
  });
});
