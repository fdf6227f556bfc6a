// Long reads share the server: other connections are answered while one runs, a write landing mid-read is either
// wholly seen or wholly not (the read sees the collection as it was when it started), and maxTimeMS stops it.
import type { Collection } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMongoError, uniqueDbName, withServer, type ServerFixture } from './embedded-server-fixture.js';

/** Numbered and named documents: the driver's default Document type would want ObjectId `_id`s. */
interface TestDocument {
  _id: number | string;
  [field: string]: unknown;
}

const DOCUMENTS = 30_000;
/** A maxTimeMS far beyond any test: it only makes the server read its clock when a read starts. */
const NO_LIMIT_MS = 600_000;

/** The server's clock: real time, plus a hook told each time a read starts (its deadline is computed). */
const clock = {
  onRead: undefined as (() => void) | undefined,
  now: (): number => {
    const hook = clock.onRead;
    clock.onRead = undefined;
    hook?.();
    return Date.now();
  },
};

/** Resolves when the server begins the next read that has a maxTimeMS. */
function nextReadStarts(): Promise<void> {
  return new Promise((resolve) => (clock.onRead = resolve));
}

let fixture: ServerFixture;
let docs: Collection<TestDocument>;

beforeAll(async () => {
  fixture = await withServer({ now: () => clock.now() });
  docs = fixture.client.db(uniqueDbName('long_reads')).collection<TestDocument>('docs');
  for (let from = 0; from < DOCUMENTS; from += 5_000) {
    await docs.insertMany(
      Array.from({ length: 5_000 }, (_, at) => ({
        _id: from + at,
        group: 'a',
        v: 0,
        note: `note ${from + at} ${'x'.repeat(100)}`,
      })),
    );
  }
});

afterAll(async () => {
  await fixture.stop();
});

describe('a long read', () => {
  it('lets a ping on another connection answer before it does', async () => {
    const other = await fixture.connect();
    await other.db('admin').command({ ping: 1 });
    const answered: string[] = [];
    const started = nextReadStarts();
    const aggregate = docs
      .aggregate(
        [{ $match: { note: { $regex: 'note \\d+ x' } } }, { $group: { _id: '$group', n: { $sum: 1 } } }],
        { maxTimeMS: NO_LIMIT_MS },
      )
      .toArray()
      .then((result) => {
        answered.push('aggregate');
        return result;
      });
    // Sent once the server is inside the aggregate: without yielding, it could only be read after its reply.
    await started;
    const ping = other
      .db('admin')
      .command({ ping: 1 })
      .then(() => answered.push('ping'));
    const [grouped] = await Promise.all([aggregate, ping]);
    expect(answered).toEqual(['ping', 'aggregate']);
    expect(grouped).toEqual([{ _id: 'a', n: DOCUMENTS }]);
  });

  it('lets a ping answer before a pipeline whose stages mingo runs', async () => {
    const other = await fixture.connect();
    await other.db('admin').command({ ping: 1 });
    const pipelines: Array<{ pipeline: Record<string, unknown>[]; expected: unknown[] }> = [
      {
        pipeline: [{ $group: { _id: '$group', average: { $avg: '$v' } } }],
        expected: [{ _id: 'a', average: 0 }],
      },
      {
        // The greatest note in string order is 'note 9999 …'.
        pipeline: [{ $sort: { note: -1 } }, { $project: { v: 1 } }, { $limit: 1 }],
        expected: [{ _id: 9_999, v: 0 }],
      },
      {
        // Half-way keys: none falls on a boundary.
        pipeline: [{ $bucket: { groupBy: { $add: ['$_id', 0.5] }, boundaries: [0, 10_000, DOCUMENTS] } }],
        expected: [
          { _id: 0, count: 10_000 },
          { _id: 10_000, count: DOCUMENTS - 10_000 },
        ],
      },
      {
        pipeline: [{ $facet: { counted: [{ $count: 'n' }], byGroup: [{ $sortByCount: '$group' }] } }],
        expected: [{ counted: [{ n: DOCUMENTS }], byGroup: [{ _id: 'a', count: DOCUMENTS }] }],
      },
    ];
    for (const { pipeline, expected } of pipelines) {
      const answered: string[] = [];
      const started = nextReadStarts();
      const aggregate = docs
        .aggregate(pipeline, { maxTimeMS: NO_LIMIT_MS })
        .toArray()
        .then((result) => {
          answered.push('aggregate');
          return result;
        });
      await started;
      const ping = other
        .db('admin')
        .command({ ping: 1 })
        .then(() => answered.push('ping'));
      const [result] = await Promise.all([aggregate, ping]);
      expect(answered, JSON.stringify(pipeline)).toEqual(['ping', 'aggregate']);
      expect(result).toEqual(expected);
    }
  });

  it('lets a ping answer before a find, count or aggregate of a view, whose pipeline runs in slices too', async () => {
    const other = await fixture.connect();
    await other.db('admin').command({ ping: 1 });
    await docs.db.createCollection('averages', {
      viewOn: docs.collectionName,
      pipeline: [{ $group: { _id: '$group', average: { $avg: '$v' } } }],
    });
    const view = docs.db.collection<TestDocument>('averages');
    const reads: Array<{ read: () => Promise<unknown>; expected: unknown }> = [
      {
        read: () => view.find({}, { maxTimeMS: NO_LIMIT_MS }).toArray(),
        expected: [{ _id: 'a', average: 0 }],
      },
      {
        read: () => docs.db.command({ count: 'averages', maxTimeMS: NO_LIMIT_MS }),
        expected: expect.objectContaining({ n: 1 }),
      },
      {
        read: () => view.aggregate([{ $project: { average: 1 } }], { maxTimeMS: NO_LIMIT_MS }).toArray(),
        expected: [{ _id: 'a', average: 0 }],
      },
    ];
    for (const { read, expected } of reads) {
      const answered: string[] = [];
      const started = nextReadStarts();
      const reading = read().then((result) => {
        answered.push('read');
        return result;
      });
      await started;
      const ping = other
        .db('admin')
        .command({ ping: 1 })
        .then(() => answered.push('ping'));
      const [result] = await Promise.all([reading, ping]);
      expect(answered).toEqual(['ping', 'read']);
      expect(result).toEqual(expected);
    }
  });

  it('reads the collections a $lookup and a $unionWith join as they were when it started', async () => {
    const others = docs.db.collection<TestDocument>('others');
    await others.insertMany([
      { _id: 1, group: 'a' },
      { _id: 2, group: 'a' },
    ]);
    const writer = await fixture.connect();
    const started = nextReadStarts();
    let readDone = false;
    const read = docs
      .aggregate(
        [
          { $group: { _id: '$group', average: { $avg: '$v' } } },
          { $lookup: { from: 'others', pipeline: [{ $count: 'n' }], as: 'joined' } },
          { $unionWith: 'others' },
        ],
        { maxTimeMS: NO_LIMIT_MS },
      )
      .toArray()
      .finally(() => (readDone = true));
    await started;
    await writer.db(docs.dbName).collection<TestDocument>('others').insertOne({ _id: 3, group: 'a' });
    const landedMidRead = !readDone;
    const joined = await read;
    expect(landedMidRead, 'the insert was applied while the aggregate was running').toBe(true);
    expect(joined).toEqual([
      { _id: 'a', average: 0, joined: [{ n: 2 }] },
      { _id: 1, group: 'a' },
      { _id: 2, group: 'a' },
    ]);
  });

  it('sees a write that lands while it runs either wholly or not at all', async () => {
    const writer = await fixture.connect();
    const namespace = docs.namespace;
    const started = nextReadStarts();
    let readDone = false;
    const read = docs
      .find({ note: { $regex: 'x{90}y|x{100}|late' } }, { maxTimeMS: NO_LIMIT_MS, batchSize: DOCUMENTS + 10 })
      .toArray()
      .finally(() => (readDone = true));
    await started;
    // One write batch (one bulkWrite command) touching the first and the last document of the scan, plus an insert
    // and a delete.
    await writer.bulkWrite<Record<string, TestDocument>>([
      {
        name: 'updateMany',
        namespace,
        filter: { _id: { $in: [0, DOCUMENTS - 1] } },
        update: { $set: { v: 1 } },
      },
      { name: 'insertOne', namespace, document: { _id: DOCUMENTS, group: 'a', v: 1, note: 'late' } },
      { name: 'deleteOne', namespace, filter: { _id: 1 } },
    ]);
    const landedMidRead = !readDone;
    const seen = await read;
    expect(landedMidRead, 'the write was applied while the read was running').toBe(true);
    const byId = new Map(seen.map((doc) => [doc._id as number, doc]));
    // The snapshot rule: the read sees the collection as it was when it started.
    expect(byId.get(0)?.v).toBe(0);
    expect(byId.get(DOCUMENTS - 1)?.v).toBe(0);
    expect(byId.has(1)).toBe(true);
    expect(byId.has(DOCUMENTS)).toBe(false);
    expect(seen).toHaveLength(DOCUMENTS);
    // Undo, so the other tests see the original collection.
    await writer.bulkWrite<Record<string, TestDocument>>([
      {
        name: 'updateMany',
        namespace,
        filter: { _id: { $in: [0, DOCUMENTS - 1] } },
        update: { $set: { v: 0 } },
      },
      { name: 'deleteOne', namespace, filter: { _id: DOCUMENTS } },
      {
        name: 'insertOne',
        namespace,
        document: { _id: 1, group: 'a', v: 0, note: `note 1 ${'x'.repeat(100)}` },
      },
    ]);
  });
});

describe('maxTimeMS', () => {
  /** A server whose clock moves a second every time it is read: any long read outlives a few seconds' limit. */
  let slowClock: ServerFixture;
  let slowDocs: Collection<TestDocument>;

  beforeAll(async () => {
    let now = 0;
    slowClock = await withServer({ now: () => (now += 1_000) });
    slowDocs = slowClock.client.db(uniqueDbName('max_time')).collection<TestDocument>('docs');
    await slowDocs.insertMany(Array.from({ length: 5_000 }, (_, at) => ({ _id: at, k: at % 7 })));
    await slowDocs.insertMany(Array.from({ length: 3 }, (_, at) => ({ _id: `small-${at}`, k: 100 })));
  });

  afterAll(async () => {
    await slowClock.stop();
  });

  it('stops find, count, distinct and aggregate with MaxTimeMSExpired (50) once passed', async () => {
    const db = slowClock.client.db(slowDocs.dbName);
    const expired = [
      () => slowDocs.find({ k: { $gte: 0 } }, { maxTimeMS: 3_000 }).toArray(),
      () => db.command({ count: 'docs', query: { k: { $gte: 0 } }, maxTimeMS: 3_000 }),
      () => db.command({ distinct: 'docs', key: 'k', query: { k: { $gte: 0 } }, maxTimeMS: 3_000 }),
      () => slowDocs.aggregate([{ $match: { k: { $gte: 0 } } }], { maxTimeMS: 3_000 }).toArray(),
      () => slowDocs.countDocuments({ k: { $gte: 0 } }, { maxTimeMS: 3_000 }),
    ];
    for (const operation of expired) {
      const error = await expectMongoError(operation(), 50);
      expect(error.codeName).toBe('MaxTimeMSExpired');
      expect(error.message).toBe('operation exceeded time limit');
    }
  });

  it('stops a pipeline whose stages mingo runs with MaxTimeMSExpired (50)', async () => {
    const pipelines = [
      [{ $group: { _id: '$k', average: { $avg: '$_id' } } }],
      [{ $sort: { k: -1 } }, { $project: { k: 1 } }],
      [{ $bucket: { groupBy: '$k', boundaries: [0, 7, 200] } }],
      [{ $facet: { byK: [{ $sortByCount: '$k' }] } }],
    ];
    for (const pipeline of pipelines) {
      const error = await expectMongoError(slowDocs.aggregate(pipeline, { maxTimeMS: 3_000 }).toArray(), 50);
      expect(error.codeName).toBe('MaxTimeMSExpired');
    }
  });

  it('lets a read that ends within its time answer', async () => {
    // Three documents found by _id: the read ends before it ever looks at the clock again.
    const ids = ['small-0', 'small-1', 'small-2'];
    const small = await slowDocs.find({ _id: { $in: ids } }, { maxTimeMS: 3_000 }).toArray();
    expect(small.map((doc) => doc._id)).toEqual(['small-0', 'small-1', 'small-2']);
  });
});
