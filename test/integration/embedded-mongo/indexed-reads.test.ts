// Reads served by an index (counts from its keys, walks in its key order for sorts and ranges) answer exactly what a
// collection scan answers, also after the writes that follow the index order being built; explain shows the plan.
import type { Collection, Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, uniqueDbName, withServer, type ServerFixture } from './embedded-server-fixture.js';

interface Saga {
  _id: string;
  saga: string;
  status: string | string[];
  createdAt: Date;
  updatedAt: Date;
  n: number;
}

const STATUSES = ['running', 'compensating', 'completed', 'failed'];
const DOCUMENTS = 3_000;
const random = seededRandom(23);

function sagaDocument(i: number): Saga {
  return {
    _id: `saga-${String(i).padStart(6, '0')}`,
    saga: i % 3 === 0 ? 'orders' : 'refunds',
    status: STATUSES[Math.floor(random() * STATUSES.length)]!,
    createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1_000),
    updatedAt: new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * DOCUMENTS) * 1_000),
    n: i,
  };
}

let fixture: ServerFixture;
let db: Db;
/** With the saga store's indexes. */
let indexed: Collection<Saga>;
/** The same documents without indexes: every read is a scan, the reference. */
let plain: Collection<Saga>;

/** The same write on both collections. */
async function onBoth(write: (collection: Collection<Saga>) => Promise<unknown>): Promise<void> {
  await write(indexed);
  await write(plain);
}

beforeAll(async () => {
  fixture = await withServer();
  db = fixture.client.db(uniqueDbName('indexed_reads'));
  indexed = db.collection<Saga>('indexed');
  plain = db.collection<Saga>('plain');
  await indexed.createIndexes([
    { key: { saga: 1, status: 1, createdAt: -1 }, name: 'saga_status_createdAt' },
    { key: { status: 1, updatedAt: -1 }, name: 'status_updatedAt' },
    { key: { createdAt: -1 }, name: 'createdAt' },
  ]);
  const documents = Array.from({ length: DOCUMENTS }, (_, i) => sagaDocument(i));
  await onBoth((collection) => collection.insertMany(documents.map((doc) => ({ ...doc }))));
});

afterAll(async () => {
  await fixture.stop();
});

const cutoff = new Date(Date.UTC(2026, 0, 1) + (DOCUMENTS / 2) * 1_000);
const lastId = `saga-${String(DOCUMENTS / 3).padStart(6, '0')}`;

/** Reads whose answers must not depend on indexes: sorts on unique keys, so that ties cannot reorder them. */
const reads: [string, (collection: Collection<Saga>) => Promise<unknown>][] = [
  ['newest page', (c) => c.find({}).sort({ createdAt: -1 }).limit(25).toArray()],
  ['oldest page, skipped', (c) => c.find({}).sort({ createdAt: 1 }).skip(10).limit(25).toArray()],
  ['page by _id', (c) => c.find({}).sort({ _id: -1 }).limit(30).toArray()],
  [
    'page after a cursor',
    (c) =>
      c
        .find({ _id: { $lt: lastId } })
        .sort({ _id: -1 })
        .limit(30)
        .toArray(),
  ],
  ['ids in a range', (c) => c.find({ _id: { $gte: 'saga-000100', $lt: 'saga-000200' } }).toArray()],
  [
    'one status by update time',
    (c) => c.find({ status: 'failed' }).sort({ updatedAt: -1, _id: 1 }).toArray(),
  ],
  ['recent of one status', (c) => c.countDocuments({ status: 'completed', updatedAt: { $gte: cutoff } })],
  [
    'saga and status by creation',
    (c) => c.find({ saga: 'orders', status: 'running' }).sort({ createdAt: -1 }).toArray(),
  ],
  ['live count', (c) => c.countDocuments({ status: { $in: ['running', 'compensating'] } })],
  ['one status count', (c) => c.countDocuments({ status: 'failed' })],
  ['count command', (c) => db.command({ count: c.collectionName, query: { status: 'running' } })],
  ['$count', (c) => c.aggregate([{ $match: { status: { $in: ['failed'] } } }, { $count: 'n' }]).toArray()],
  ['skipped count', (c) => c.countDocuments({ status: 'completed' }, { skip: 5, limit: 100 })],
  ['none', (c) => c.countDocuments({ status: 'nonexistent' })],
  [
    'groups by status',
    async (c) =>
      (await c.aggregate([{ $group: { _id: '$status', n: { $sum: 1 } } }]).toArray()).sort((a, b) =>
        String(a._id).localeCompare(String(b._id)),
      ),
  ],
];

async function expectSameAnswers(): Promise<void> {
  for (const [name, read] of reads) {
    expect(await read(indexed), name).toEqual(await read(plain));
  }
}

describe('indexed reads', () => {
  it('answer what a collection scan answers, before and after writes to the built index order', async () => {
    await expectSameAnswers();
    // Rounds of changes: the index order merges its pending lists in on the first, folds them into its base later.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 400; i++) {
        const id = `saga-${String(Math.floor(random() * DOCUMENTS)).padStart(6, '0')}`;
        const status = STATUSES[Math.floor(random() * STATUSES.length)]!;
        const updatedAt = new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * DOCUMENTS) * 1_000);
        await onBoth((c) => c.updateOne({ _id: id }, { $set: { status, updatedAt } }));
      }
      const removed = `saga-${String(round * 7 + 1).padStart(6, '0')}`;
      await onBoth((c) => c.deleteOne({ _id: removed }));
      const added = sagaDocument(DOCUMENTS + round);
      await onBoth((c) => c.insertOne({ ...added }));
      await expectSameAnswers();
    }
  });

  it('stop counting from index keys once a document holds an array there (multikey)', async () => {
    const db2 = fixture.client.db(uniqueDbName('multikey'));
    const tagged = db2.collection<{ _id: number; status: string | string[] }>('tagged');
    await tagged.createIndex({ status: 1 });
    await tagged.insertMany([
      { _id: 1, status: 'a' },
      { _id: 2, status: 'b' },
    ]);
    expect(await tagged.countDocuments({ status: { $in: ['a', 'b'] } })).toBe(2);
    await tagged.insertOne({ _id: 3, status: ['a', 'b'] });
    // Counted from keys, document 3 would be counted twice.
    expect(await tagged.countDocuments({ status: { $in: ['a', 'b'] } })).toBe(3);
    expect(await tagged.find({}).sort({ status: 1 }).toArray()).toHaveLength(3);
  });

  it('see only what a transaction sees inside it, not the live index', async () => {
    const session = fixture.client.startSession();
    try {
      await session.withTransaction(async () => {
        await indexed.insertOne({ ...sagaDocument(DOCUMENTS + 100), status: 'in-txn' }, { session });
        expect(await indexed.countDocuments({ status: 'in-txn' }, { session })).toBe(1);
        const newest = await indexed.find({}, { session }).sort({ createdAt: -1 }).limit(1).toArray();
        expect(newest[0]?.status).toBe('in-txn');
        expect(await indexed.countDocuments({ status: 'in-txn' })).toBe(0);
      });
    } finally {
      await session.endSession();
    }
    await indexed.deleteOne({ status: 'in-txn' });
  });
});

describe('a $group that counts or sums', () => {
  it('answers as MongoDB does, and leaves doubles, int32 overflow and arrays to the general path', async () => {
    const sums = db.collection<{ _id: number; g?: unknown; a?: unknown }>('sums');
    await sums.insertMany([
      { _id: 1, g: 'x', a: { b: 5 } },
      { _id: 2, g: 'x', a: { b: -2 } },
      { _id: 3, g: 'y', a: { b: 'not a number' } },
      { _id: 4, a: { b: 7 } },
      { _id: 5, g: null },
      { _id: 6, g: 'y', a: [{ b: 1 }] },
    ]);
    const byKey = (docs: Record<string, unknown>[]) =>
      docs.sort((left, right) => String(left._id).localeCompare(String(right._id)));
    const group = { $group: { _id: '$g', total: { $sum: '$a.b' }, n: { $sum: 1 } } };
    // Documents 1 to 5 hold plain keys and int32s (or no number): run natively. A missing key groups with null.
    expect(byKey(await sums.aggregate([{ $match: { _id: { $lte: 5 } } }, group]).toArray())).toEqual([
      { _id: null, total: 7, n: 2 },
      { _id: 'x', total: 3, n: 2 },
      { _id: 'y', total: 0, n: 1 },
    ]);
    // Document 6 has an array on a.b's path, left to the general path: $sum ignores it (not a number).
    expect(byKey(await sums.aggregate([group]).toArray())).toEqual([
      { _id: null, total: 7, n: 2 },
      { _id: 'x', total: 3, n: 2 },
      { _id: 'y', total: 0, n: 2 },
    ]);
    await sums.insertOne({ _id: 7, g: 'x', a: { b: 0.5 } });
    const withDouble = await sums
      .aggregate([{ $match: { g: 'x' } }, { $group: { _id: '$g', total: { $sum: '$a.b' } } }])
      .toArray();
    expect(withDouble).toEqual([{ _id: 'x', total: 3.5 }]);
    await sums.insertMany([
      { _id: 8, g: 'big', a: { b: 2 ** 31 - 1 } },
      { _id: 9, g: 'big', a: { b: 1 } },
    ]);
    const overflow = await sums
      .aggregate([{ $match: { g: 'big' } }, { $group: { _id: '$g', total: { $sum: '$a.b' } } }], {
        useBigInt64: true,
      })
      .toArray();
    // int32 overflow makes a Long (int64), as in MongoDB.
    expect(overflow).toEqual([{ _id: 'big', total: 2n ** 31n }]);
    const arrayKeys = await sums
      .aggregate([{ $match: { _id: { $in: [10, 11] } } }, { $group: { _id: '$g', n: { $sum: 1 } } }])
      .toArray();
    expect(arrayKeys).toEqual([]);
    await sums.insertMany([
      { _id: 10, g: ['p', 'q'] },
      { _id: 11, g: ['p', 'q'] },
    ]);
    expect(
      await sums
        .aggregate([{ $match: { _id: { $in: [10, 11] } } }, { $group: { _id: '$g', n: { $sum: 1 } } }])
        .toArray(),
    ).toEqual([{ _id: ['p', 'q'], n: 2 }]);
  });
});

describe('explain', () => {
  /** The stages of a winning plan, outermost first. */
  function stagesOf(plan: Record<string, unknown>): string[] {
    const stages: string[] = [];
    let current: Record<string, unknown> | undefined = plan;
    while (current) {
      stages.push(String(current.stage));
      current = current.inputStage as Record<string, unknown> | undefined;
    }
    return stages;
  }

  async function winningPlan(explain: Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
    const explained = await explain;
    return (explained.queryPlanner as { winningPlan: Record<string, unknown> }).winningPlan;
  }

  it('reports the index a find, a count or an aggregate reads, and a scan where none serves', async () => {
    const sortedPage = await winningPlan(indexed.find({}).sort({ createdAt: -1 }).limit(5).explain());
    expect(stagesOf(sortedPage)).toEqual(['FETCH', 'IXSCAN']);
    expect(sortedPage.inputStage).toMatchObject({ indexName: 'createdAt', direction: 'forward' });

    const byStatus = await winningPlan(indexed.find({ status: 'failed' }).sort({ updatedAt: 1 }).explain());
    expect(byStatus.inputStage).toMatchObject({ indexName: 'status_updatedAt', direction: 'backward' });

    const live = await winningPlan(
      db.command({ explain: { count: 'indexed', query: { status: { $in: ['running', 'compensating'] } } } }),
    );
    expect(stagesOf(live)).toEqual(['COUNT', 'COUNT_SCAN']);

    const counted = await indexed
      .aggregate([{ $match: { status: 'running' } }, { $group: { _id: 1, n: { $sum: 1 } } }])
      .explain();
    expect(stagesOf((counted.queryPlanner as { winningPlan: Record<string, unknown> }).winningPlan)).toEqual([
      'COUNT',
      'COUNT_SCAN',
    ]);

    const update = await winningPlan(
      db.command({
        explain: { update: 'indexed', updates: [{ q: { _id: 'saga-000001' }, u: { $set: { n: 1 } } }] },
      }),
    );
    expect(stagesOf(update)).toEqual(['UPDATE', 'FETCH', 'IXSCAN']);

    const unindexed = await winningPlan(indexed.find({ n: 5 }).sort({ n: 1 }).explain());
    expect(stagesOf(unindexed)).toEqual(['SORT', 'COLLSCAN']);
  });
});
