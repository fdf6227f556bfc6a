// Oplog entries of every kind, holding the BSON value types the engine keeps in documents.
import { Binary, Decimal128, Long, ObjectId, Timestamp, UUID } from 'bson';
import type { InsertEntry, OplogEntry } from '../../../../src/embedded/storage/oplog-entry.js';

const ns = { db: 'shop', coll: 'orders' };

/** Cluster times in strictly increasing order, as Oplog.nextTimestamp() hands them out. */
export function clock(startSeconds = 1_700_000_000): () => Timestamp {
  let i = 0;
  return () => new Timestamp({ t: startSeconds, i: ++i });
}

export function insertEntry(ts: Timestamp, document: Record<string, unknown>): InsertEntry {
  return {
    op: 'insert',
    ts,
    wallTime: new Date(1_700_000_000_000),
    ns,
    documentKey: { _id: document._id },
    document,
  };
}

/** One entry of each kind; `next` supplies their timestamps. */
export function everyEntryKind(next: () => Timestamp): OplogEntry[] {
  const id = new ObjectId('65a1b2c3d4e5f60718293a4b');
  const rich = {
    _id: id,
    total: 12.5,
    count: 7,
    big: Long.fromString('9007199254740993'),
    price: Decimal128.fromString('19.99'),
    blob: new Binary(Buffer.from([0, 1, 2, 255]), 0),
    ref: new UUID('0e4f9a3c-8b1d-4c2e-9f00-1a2b3c4d5e6f'),
    at: new Date('2024-01-02T03:04:05.678Z'),
    pattern: /^ab+c$/i,
    'dotted.key': 'kept as one key',
    nested: { deep: { list: [1, 'two', { three: [3] }, [4, 5]], empty: {} } },
    nothing: null,
    flag: true,
    seen: new Timestamp({ t: 42, i: 7 }),
  };
  return [
    {
      op: 'create',
      ts: next(),
      wallTime: new Date(1),
      ns,
      options: { changeStreamPreAndPostImages: { enabled: true } },
      uuid: 'c0ffee00-0000-4000-8000-000000000001',
    },
    {
      op: 'createIndexes',
      ts: next(),
      wallTime: new Date(2),
      ns,
      indexes: [
        {
          name: 'status_1',
          key: { status: 1 },
          unique: true,
          partialFilterExpression: { status: { $exists: true } },
        },
      ],
    },
    {
      ...insertEntry(next(), rich),
      lsid: { id: new UUID('11111111-2222-4333-8444-555555555555') },
      txnNumber: 3,
    },
    {
      op: 'update',
      ts: next(),
      wallTime: new Date(4),
      ns,
      documentKey: { _id: id },
      updateDescription: {
        updatedFields: { 'nested.deep.list.0': 9, $weird: 1 },
        removedFields: ['flag'],
        truncatedArrays: [{ field: 'nested.deep.list', newSize: 1 }],
      },
      postImage: { ...rich, flag: undefined, count: 8 },
      preImage: rich,
      imagesEnabled: true,
    },
    {
      op: 'replace',
      ts: next(),
      wallTime: new Date(5),
      ns,
      documentKey: { _id: id },
      postImage: { _id: id, replaced: [new Date(0)] },
    },
    { op: 'delete', ts: next(), wallTime: new Date(6), ns, documentKey: { _id: id } },
    { op: 'dropIndexes', ts: next(), wallTime: new Date(7), ns, names: ['status_1'] },
    {
      op: 'modify',
      ts: next(),
      wallTime: new Date(8),
      ns,
      options: { validator: { $jsonSchema: { required: ['a'] } } },
    },
    {
      op: 'rename',
      ts: next(),
      wallTime: new Date(9),
      ns,
      to: { db: 'shop', coll: 'archive' },
      dropTarget: false,
    },
    { op: 'drop', ts: next(), wallTime: new Date(10), ns: { db: 'shop', coll: 'archive' } },
    { op: 'dropDatabase', ts: next(), wallTime: new Date(11), ns: { db: 'shop' } },
  ];
}

/** What the entry looks like after BSON: fields left `undefined` are absent. */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withoutUndefined(item)) as T;
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype)
    return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => [key, withoutUndefined(item)]),
  ) as T;
}

/** The inserted document of an insert entry (the tests' recovered entries are inserts). */
export function insertedDocument(entry: OplogEntry | undefined): Record<string, unknown> {
  if (entry?.op !== 'insert') throw new Error(`expected an insert entry, got ${entry?.op ?? 'nothing'}`);
  return entry.document;
}

/** `_id`s of the documents inserted by `entries`, in order. */
export function insertedIds(entries: readonly OplogEntry[]): unknown[] {
  return entries.map((entry) => insertedDocument(entry)._id);
}
