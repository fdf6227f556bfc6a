// The journal is written ahead: a write whose journal write fails (a full disk, injected through the persistence
// I/O seam) leaves no trace — not in the collection, its unique index, change streams or the cluster time, nor after
// a restart — and later writes are refused while reads go on. A snapshot that fails half-way leaves the previous one
// in use, so a restart still recovers every acknowledged write.
import { readdir } from 'node:fs/promises';
import type { ChangeStream, Collection, Document, MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultyIo } from '../../unit/embedded/persistence/faulty-io.js';
import {
  expectMongoError,
  rejectionOf,
  temporaryDirectory,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

const JOURNAL_FAILURE =
  /journal write to \S+journal\.\d+ failed \(Error: ENOSPC: no space left on device, write\); writes are refused from now on/;
const DB = 'shop';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function dbpath(): Promise<string> {
  const directory = await temporaryDirectory('sagastream-journal-failure');
  cleanups.push(() => directory.remove());
  return directory.path;
}

async function start(path: string, io?: FaultyIo): Promise<ServerFixture> {
  const fixture = await withServer({
    dbpath: path,
    fsyncIntervalMs: 10,
    ...(io ? { persistenceIo: io } : {}),
  });
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await fixture.stop().catch(() => {});
  });
  return {
    ...fixture,
    stop: async () => {
      stopped = true;
      await fixture.stop();
    },
  };
}

function ordersOf(fixture: ServerFixture): Collection<Document> {
  return fixture.client.db(DB).collection('orders');
}

async function sortedOrders(orders: Collection<Document>): Promise<Document[]> {
  return orders.find().sort({ _id: 1 }).toArray();
}

/**
 * Whether the unique index on orderNo holds `orderNo`: an insert inside a transaction is checked against the live
 * index but never committed, so it probes a server that refuses writes without changing anything.
 */
async function uniqueIndexHolds(client: MongoClient, orderNo: string): Promise<boolean> {
  const session = client.startSession();
  try {
    session.startTransaction();
    await client.db(DB).collection('orders').insertOne({ orderNo }, { session });
    return false;
  } catch (error) {
    if ((error as { code?: unknown }).code === 11000) return true;
    throw error;
  } finally {
    await session.endSession();
  }
}

async function operationTime(fixture: ServerFixture): Promise<unknown> {
  const reply = await fixture.client.db(DB).command({ ping: 1 });
  return reply.operationTime;
}

interface Scenario {
  /** The write whose journal write fails. */
  fail(orders: Collection<Document>, client: MongoClient): Promise<unknown>;
  /** Keys the failed write would have put into the unique index. */
  failedKeys: string[];
}

const scenarios: Record<string, Scenario> = {
  'an insert of 100 documents': {
    fail: (orders) =>
      orders.insertMany(
        Array.from({ length: 100 }, (_, n) => ({ _id: `new-${n}`, orderNo: `M${n}` }) as never),
      ),
    failedKeys: ['M0', 'M99'],
  },
  'an update': {
    fail: (orders) =>
      orders.updateOne({ _id: 'o2' as never }, { $set: { orderNo: 'N2-changed', amount: 99 } }),
    failedKeys: ['N2-changed'],
  },
  'a delete': {
    fail: (orders) => orders.deleteOne({ _id: 'o2' as never }),
    failedKeys: [],
  },
  'a committed multi-document transaction': {
    fail: async (orders, client) => {
      const session = client.startSession();
      try {
        session.startTransaction();
        await orders.insertOne({ _id: 't1' as never, orderNo: 'T1', amount: 5 }, { session });
        await orders.updateOne({ _id: 'o1' as never }, { $set: { orderNo: 'N1-t' } }, { session });
        await orders.deleteOne({ _id: 'o3' as never }, { session });
        await session.commitTransaction();
      } finally {
        await session.endSession();
      }
    },
    failedKeys: ['T1', 'N1-t'],
  },
};

describe('a journal write that fails', () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    it(`refuses ${name} without a trace, refuses later writes, answers reads, and recovers on restart`, async () => {
      const path = await dbpath();
      const io = new FaultyIo();
      const first = await start(path, io);
      const orders = ordersOf(first);
      await orders.createIndex({ orderNo: 1 }, { unique: true });
      await orders.insertMany([
        { _id: 'o1', orderNo: 'N1', amount: 10 },
        { _id: 'o2', orderNo: 'N2', amount: 20 },
        { _id: 'o3', orderNo: 'N3', amount: 30 },
      ] as never[]);
      const acknowledged = await sortedOrders(orders);
      const stream: ChangeStream = orders.watch([], { maxAwaitTimeMS: 100 });
      cleanups.push(() => stream.close());
      expect(await stream.tryNext()).toBeNull();
      const resumeToken = stream.resumeToken;
      const timeBefore = await operationTime(first);

      // Half a record reaches the file before the disk is full.
      io.failJournalWrites(9);
      const failure = await expectMongoError(scenario.fail(orders, first.client), 1);
      expect(failure.message).toMatch(JOURNAL_FAILURE);
      expect(io.journalFailures).toBe(1);

      // Nothing of it is visible: documents, unique index, change stream, cluster time.
      expect(await sortedOrders(orders)).toEqual(acknowledged);
      expect(await orders.countDocuments()).toBe(3);
      for (const key of scenario.failedKeys) expect(await uniqueIndexHolds(first.client, key)).toBe(false);
      for (const key of ['N1', 'N2', 'N3']) expect(await uniqueIndexHolds(first.client, key)).toBe(true);
      expect(await stream.tryNext()).toBeNull();
      expect(await operationTime(first)).toEqual(timeBefore);

      // Later writes are refused with the same message, before they touch anything; reads and ping answer.
      const refused = await expectMongoError(orders.insertOne({ _id: 'later' as never, orderNo: 'L1' }), 1);
      expect(refused.message).toMatch(JOURNAL_FAILURE);
      await expectMongoError(orders.updateOne({ _id: 'o1' as never }, { $inc: { amount: 1 } }), 1);
      expect(io.journalFailures).toBe(1);
      expect(await first.client.db(DB).command({ ping: 1 })).toMatchObject({ ok: 1 });
      expect(await orders.findOne({ orderNo: 'N2' })).toEqual(acknowledged[1]);
      expect(await stream.tryNext()).toBeNull();
      // The shutdown snapshot is refused too; the journal holds everything acknowledged.
      expect((await rejectionOf(first.stop())).message).toMatch(JOURNAL_FAILURE);

      io.heal();
      const second = await start(path);
      const recovered = ordersOf(second);
      expect(await sortedOrders(recovered)).toEqual(acknowledged);
      for (const key of scenario.failedKeys) expect(await uniqueIndexHolds(second.client, key)).toBe(false);
      const resumed = recovered.watch([], { resumeAfter: resumeToken, maxAwaitTimeMS: 100 });
      cleanups.push(() => resumed.close());
      expect(await resumed.tryNext()).toBeNull();
      await recovered.insertOne({ _id: 'after-restart' as never, orderNo: 'R1' });
      const next = (await resumed.next()) as Document;
      expect([next.operationType, (next.documentKey as Document)._id]).toEqual(['insert', 'after-restart']);
      await second.stop();
    });
  }
});

describe('a snapshot write that fails half-way', () => {
  it('leaves the previous snapshot in use, so a restart recovers every acknowledged write', async () => {
    const path = await dbpath();
    const io = new FaultyIo();
    const first = await start(path, io);
    await ordersOf(first).insertMany([
      { _id: 'a1', orderNo: 'A1' },
      { _id: 'a2', orderNo: 'A2' },
    ] as never[]);
    await first.stop();
    expect(await readdir(path)).toContain('snapshot.bson');

    const second = await start(path, io);
    const orders = ordersOf(second);
    await orders.insertMany([
      { _id: 'b1', orderNo: 'B1' },
      { _id: 'b2', orderNo: 'B2' },
    ] as never[]);
    await orders.updateOne({ _id: 'a1' as never }, { $set: { amount: 7 } });
    await orders.deleteOne({ _id: 'a2' as never });
    io.failSnapshotWrites(1);
    expect((await rejectionOf(second.stop())).message).toMatch(/ENOSPC/);
    expect(io.snapshotFailures).toBe(1);
    expect(await readdir(path)).toEqual(expect.arrayContaining(['snapshot.bson', 'snapshot.bson.tmp']));

    io.heal();
    const third = await start(path);
    expect(await sortedOrders(ordersOf(third))).toEqual([
      { _id: 'a1', orderNo: 'A1', amount: 7 },
      { _id: 'b1', orderNo: 'B1' },
      { _id: 'b2', orderNo: 'B2' },
    ]);
    expect(await readdir(path)).not.toContain('snapshot.bson.tmp');
    await third.stop();
  });
});
