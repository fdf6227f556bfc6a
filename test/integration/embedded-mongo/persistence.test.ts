// --dbpath durability through the official driver: documents, indexes, collection options and change-stream
// history survive a stop and a start on the same directory; a second server on a busy dbpath is refused.
import {
  Decimal128,
  Long,
  ObjectId,
  type ChangeStream,
  type ChangeStreamDocument,
  type Document,
  type ResumeToken,
} from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedMongoServer } from '../../../src/embedded/index.js';
import {
  expectMongoError,
  quietLogger,
  rejectionOf,
  temporaryDirectory,
  uniqueDbName,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

const EVENT_TIMEOUT_MS = 10_000;

async function nextChange(stream: ChangeStream): Promise<ChangeStreamDocument> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no change event within ${EVENT_TIMEOUT_MS} ms`)),
      EVENT_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([stream.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function nextKeys(stream: ChangeStream, count: number): Promise<unknown[]> {
  const keys: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const event = (await nextChange(stream)) as Document;
    keys.push([event.operationType, (event.documentKey as Document | undefined)?._id]);
  }
  return keys;
}

describe('a server with --dbpath', () => {
  let directory: { path: string; remove(): Promise<void> };
  let running: ServerFixture | undefined;
  const dbName = uniqueDbName('persist');
  const objectId = new ObjectId();
  let savedToken: ResumeToken;

  beforeAll(async () => {
    directory = await temporaryDirectory('sagastream-persist');
  });

  afterAll(async () => {
    await running?.stop();
    await directory?.remove();
  });

  async function start(): Promise<ServerFixture> {
    running = await withServer({ dbpath: directory.path, fsyncIntervalMs: 10 });
    return running;
  }

  async function stop(): Promise<void> {
    await running?.stop();
    running = undefined;
  }

  it('keeps documents, indexes, options and change history across a restart', async () => {
    const first = await start();
    const db = first.client.db(dbName);
    const items = db.collection('items');
    await db.createCollection('imaged', { changeStreamPreAndPostImages: { enabled: true } });
    await items.createIndex({ email: 1 }, { unique: true });
    await items.createIndex({ group: 1, rank: -1 }, { name: 'by_group' });

    const stream = items.watch([], { maxAwaitTimeMS: 200 });
    expect(await stream.tryNext()).toBeNull();
    await items.insertOne({ _id: 'a' as never, email: 'a@x', group: 1, rank: 1 });
    const eventA = await nextChange(stream);
    savedToken = eventA._id;
    await stream.close();

    // Written after the saved token, some right before the stop.
    await items.insertMany([
      {
        _id: 'b',
        email: 'b@x',
        group: 1,
        rank: 2,
        big: Long.fromString('9007199254740993'),
        price: Decimal128.fromString('19.99'),
        when: new Date('2030-01-02T03:04:05.006Z'),
        ref: objectId,
        nested: { list: [1, { deep: true }] },
      },
      { _id: 'c', email: 'c@x', group: 2, rank: 1 },
      { _id: 'd', email: 'd@x', group: 2, rank: 2 },
    ] as never[]);
    await items.updateOne({ _id: 'c' as never }, { $set: { rank: 5 } });
    await items.deleteOne({ _id: 'd' as never });
    await db.collection('imaged').insertOne({ _id: 1 as never, v: 1 });
    await stop();

    const second = await start();
    const db2 = second.client.db(dbName);
    const items2 = db2.collection('items');
    const stored = await items2.find().sort({ _id: 1 }).toArray();
    expect(stored.map((doc) => doc._id)).toEqual(['a', 'b', 'c']);
    const b = await items2.findOne({ _id: 'b' as never }, { promoteLongs: false });
    expect(String(b!.big)).toBe('9007199254740993');
    expect(String(b!.price)).toBe('19.99');
    expect(b!.when).toEqual(new Date('2030-01-02T03:04:05.006Z'));
    expect((b!.ref as ObjectId).equals(objectId)).toBe(true);
    expect(b!.nested).toEqual({ list: [1, { deep: true }] });
    expect((await items2.findOne({ _id: 'c' as never }))!.rank).toBe(5);

    expect(await items2.listIndexes().toArray()).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { email: 1 }, name: 'email_1', unique: true },
      { v: 2, key: { group: 1, rank: -1 }, name: 'by_group' },
    ]);
    await expectMongoError(items2.insertOne({ email: 'a@x' }), 11000);
    expect(await items2.countDocuments({ group: 1 })).toBe(2);

    const [imaged] = await db2.listCollections({ name: 'imaged' }).toArray();
    expect((imaged as Document).options).toEqual({ changeStreamPreAndPostImages: { enabled: true } });

    // The saved token resumes with exactly the events after it, including those just before the stop.
    const resumed = items2.watch([], { resumeAfter: savedToken, maxAwaitTimeMS: 200 });
    try {
      expect(await nextKeys(resumed, 5)).toEqual([
        ['insert', 'b'],
        ['insert', 'c'],
        ['insert', 'd'],
        ['update', 'c'],
        ['delete', 'd'],
      ]);
      expect(await resumed.tryNext()).toBeNull();
      // A write after the restart reaches the resumed stream.
      await items2.insertOne({ _id: 'e' as never, email: 'e@x' });
      expect(await nextKeys(resumed, 1)).toEqual([['insert', 'e']]);
    } finally {
      await resumed.close();
    }

    // Pre-images still work on the collection whose option was persisted.
    const imagedStream = db2.collection('imaged').watch([], {
      fullDocumentBeforeChange: 'required',
      maxAwaitTimeMS: 200,
    });
    try {
      expect(await imagedStream.tryNext()).toBeNull();
      await db2.collection('imaged').updateOne({ _id: 1 as never }, { $set: { v: 2 } });
      const update = (await nextChange(imagedStream)) as Document;
      expect(update.fullDocumentBeforeChange).toEqual({ _id: 1, v: 1 });
    } finally {
      await imagedStream.close();
    }
  });

  it('keeps writes made after a restart through another restart', async () => {
    await stop();
    const third = await start();
    const items = third.client.db(dbName).collection('items');
    expect((await items.find().sort({ _id: 1 }).toArray()).map((doc) => doc._id)).toEqual([
      'a',
      'b',
      'c',
      'e',
    ]);
    await items.insertOne({ _id: 'f' as never, email: 'f@x' });
    await items.updateOne({ _id: 'a' as never }, { $set: { touched: 3 } });
    await stop();

    const fourth = await start();
    const items4 = fourth.client.db(dbName).collection('items');
    expect((await items4.find().sort({ _id: 1 }).toArray()).map((doc) => doc._id)).toEqual([
      'a',
      'b',
      'c',
      'e',
      'f',
    ]);
    expect((await items4.findOne({ _id: 'a' as never }))!.touched).toBe(3);
    await expectMongoError(items4.insertOne({ email: 'f@x' }), 11000);
    // The history from the very first run is still there.
    const resumed = items4.watch([], { resumeAfter: savedToken, maxAwaitTimeMS: 200 });
    try {
      expect(await nextKeys(resumed, 8)).toEqual([
        ['insert', 'b'],
        ['insert', 'c'],
        ['insert', 'd'],
        ['update', 'c'],
        ['delete', 'd'],
        ['insert', 'e'],
        ['insert', 'f'],
        ['update', 'a'],
      ]);
      expect(await resumed.tryNext()).toBeNull();
    } finally {
      await resumed.close();
    }
  });

  it('keeps dropped and renamed collections dropped and renamed', async () => {
    const server = running ?? (await start());
    const db = server.client.db(dbName);
    await db.collection('temp').insertOne({ x: 1 });
    await db.collection('to_rename').insertOne({ y: 1 });
    await db.collection('temp').drop();
    await db.collection('to_rename').rename('renamed');
    await stop();
    const next = await start();
    const names = (await next.client.db(dbName).listCollections().toArray()).map((info) => info.name).sort();
    expect(names).toEqual(['imaged', 'items', 'renamed']);
    expect(await next.client.db(dbName).collection('renamed').countDocuments({ y: 1 })).toBe(1);
  });

  it('refuses a second server on the same dbpath with a clear error', async () => {
    const server = running ?? (await start());
    const error = await rejectionOf(
      startEmbeddedMongoServer({ dbpath: directory.path, logger: quietLogger }),
    );
    expect(error.message).toMatch(/in use|lock/i);
    expect(error.message).toContain(directory.path.split('/').pop()!);
    // The first server is unaffected.
    expect(await server.client.db(dbName).collection('items').countDocuments()).toBe(5);
  });
});
