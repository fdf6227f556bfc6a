// BSON number types through the driver: a whole-number double stays a double (not int32), `$type` tells double,
// int, long and decimal apart, and Decimal128 and Long keep their types through insert, update, find, aggregate
// and a restart from the --dbpath journal.
import { Decimal128, Double, Int32, Long, type Collection, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bsonTypeOf,
  temporaryDirectory,
  uniqueDbName,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

/** Reads without promotion so each value shows the BSON type the server sent. */
const RAW = { promoteValues: false, promoteLongs: false } as const;

function typesOf(doc: Document | null): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(doc ?? {})
      .filter(([key]) => key !== '_id' && key !== 'list')
      .map(([key, value]) => [key, bsonTypeOf(value)]),
  );
}

const sample = (): Document => ({
  _id: 1,
  price: new Double(120),
  two: new Double(2),
  half: 2.5,
  count: new Int32(3),
  small: Long.fromNumber(5),
  amount: Decimal128.fromString('10'),
  list: [new Double(1), 1],
});

const sampleTypes = {
  price: 'Double',
  two: 'Double',
  half: 'Double',
  count: 'Int32',
  small: 'Long',
  amount: 'Decimal128',
};

let fixture: ServerFixture;
let counter = 0;
const fresh = (): Collection => fixture.client.db(uniqueDbName('numbers')).collection(`n${++counter}`);

beforeAll(async () => {
  fixture = await withServer();
});

afterAll(async () => {
  await fixture?.stop();
});

describe('numeric types', () => {
  it('stores and returns a whole-number double as a double; $type tells the types apart', async () => {
    const items = fresh();
    await items.insertOne(sample());
    const raw = await items.findOne({}, RAW);
    expect(typesOf(raw)).toEqual(sampleTypes);
    expect((raw!.list as unknown[]).map(bsonTypeOf)).toEqual(['Double', 'Int32']);
    const count = (filter: Document) => items.countDocuments(filter);
    expect(await count({ two: { $type: 'double' } })).toBe(1);
    expect(await count({ two: { $type: 'int' } })).toBe(0);
    expect(await count({ count: { $type: 'int' } })).toBe(1);
    expect(await count({ count: { $type: 'double' } })).toBe(0);
    expect(await count({ small: { $type: 'long' } })).toBe(1);
    expect(await count({ amount: { $type: 'decimal' } })).toBe(1);
    expect(await count({ list: { $type: 'double' } })).toBe(1);
    // Equal by value across types, as MongoDB compares numbers, in $expr too.
    expect(await count({ two: 2, price: { $gte: 120 }, count: new Double(3) })).toBe(1);
    expect(await count({ $expr: { $eq: [{ $add: ['$two', '$small', '$price'] }, 127] } })).toBe(1);
  });

  it('keeps the types through $inc, $mul and $set, with MongoDB type promotion', async () => {
    const items = fresh();
    await items.insertOne(sample());
    await items.updateOne(
      { _id: 1 as never },
      {
        $inc: { price: 1, count: new Double(1), small: 1, amount: 1 },
        $mul: { two: 2 },
        $set: { added: new Double(7), half: 0.5 },
      },
    );
    const raw = await items.findOne({}, RAW);
    expect(typesOf(raw)).toMatchObject({
      price: 'Double', // double + int = double
      count: 'Double', // int + double = double
      small: 'Long', // long + int = long
      amount: 'Decimal128',
      two: 'Double',
      added: 'Double',
      half: 'Double',
    });
    const promoted = await items.findOne({});
    expect(promoted).toMatchObject({ price: 121, count: 4, two: 4, added: 7 });
    expect(String(raw!.small)).toBe('6');
    expect(String(raw!.amount)).toBe('11');
    // int + int stays int; int32 overflow becomes a long.
    await items.updateOne({ _id: 1 as never }, { $set: { i: 2147483647, j: 1 } });
    await items.updateOne({ _id: 1 as never }, { $inc: { i: 1, j: 1 } });
    expect(typesOf(await items.findOne({}, { ...RAW, projection: { i: 1, j: 1 } }))).toEqual({
      i: 'Long',
      j: 'Int32',
    });
  });

  it('keeps Double, Decimal128 and Long through an aggregate $match/$sort and a change event', async () => {
    const items = fresh();
    const stream = items.watch([], { promoteValues: false });
    await stream.tryNext();
    await items.insertOne(sample());
    const [found] = await items.aggregate([{ $match: { two: 2 } }, { $sort: { _id: 1 } }], RAW).toArray();
    expect(typesOf(found!)).toEqual(sampleTypes);
    const event = (await stream.next()) as { fullDocument?: Document };
    expect(bsonTypeOf(event.fullDocument!.two)).toBe('Double');
    await stream.close();
  });

  it('gives $group $sum and $avg the type MongoDB gives them', async () => {
    const items = fresh();
    const docs: Document[] = [
      { _id: 1, g: 'longs', v: Long.fromNumber(2) },
      { _id: 2, g: 'longs', v: Long.fromNumber(3) },
      { _id: 3, g: 'doubles', v: new Double(1.5) },
      { _id: 4, g: 'doubles', v: new Double(2.5) },
      { _id: 5, g: 'wholeDoubles', v: new Double(2) },
      { _id: 6, g: 'wholeDoubles', v: new Double(3) },
      { _id: 7, g: 'ints', v: 2 },
      { _id: 8, g: 'ints', v: 4 },
      { _id: 9, g: 'overflow', v: 2_147_483_647 },
      { _id: 10, g: 'overflow', v: 1 },
      { _id: 11, g: 'mixed', v: 1 },
      { _id: 12, g: 'mixed', v: Long.fromNumber(2) },
      { _id: 13, g: 'mixed', v: 'not a number' },
    ];
    await items.insertMany(docs);
    const groups = await items
      .aggregate(
        [
          { $group: { _id: '$g', sum: { $sum: '$v' }, avg: { $avg: '$v' }, n: { $sum: 1 } } },
          { $sort: { _id: 1 } },
        ],
        RAW,
      )
      .toArray();
    const shown = Object.fromEntries(
      groups.map((group) => [
        String(group._id),
        {
          sum: `${bsonTypeOf(group.sum)} ${String(group.sum)}`,
          avg: `${bsonTypeOf(group.avg)} ${String(group.avg)}`,
        },
      ]),
    );
    expect(shown).toEqual({
      doubles: { sum: 'Double 4', avg: 'Double 2' },
      ints: { sum: 'Int32 6', avg: 'Double 3' },
      longs: { sum: 'Long 5', avg: 'Double 2.5' },
      mixed: { sum: 'Long 3', avg: 'Double 1.5' },
      overflow: { sum: 'Long 2147483648', avg: 'Double 1073741824' },
      wholeDoubles: { sum: 'Double 5', avg: 'Double 2.5' },
    });
    expect(groups.map((group) => bsonTypeOf(group.n))).toEqual(Array(6).fill('Int32'));
  });

  it('gives $first, $last, $min and $max in $group the stored type of the value they pick', async () => {
    const items = fresh();
    const docs: Document[] = [
      { _id: 1, g: 'a', v: Long.fromNumber(7) },
      { _id: 2, g: 'a', v: new Double(2) },
      { _id: 3, g: 'a', v: 5 },
      { _id: 4, g: 'a', v: Decimal128.fromString('9') },
      { _id: 5, g: 'b', v: 5 },
      { _id: 6, g: 'b', v: Long.fromNumber(5) },
    ];
    await items.insertMany(docs);
    const groups = await items
      .aggregate(
        [
          { $sort: { _id: 1 } },
          {
            $group: {
              _id: '$g',
              first: { $first: '$v' },
              last: { $last: '$v' },
              min: { $min: '$v' },
              max: { $max: '$v' },
            },
          },
          { $sort: { _id: 1 } },
        ],
        RAW,
      )
      .toArray();
    const shown = groups.map((group) =>
      ['first', 'last', 'min', 'max'].map((key) => `${bsonTypeOf(group[key])} ${String(group[key])}`),
    );
    expect(shown).toEqual([
      ['Long 7', 'Decimal128 9', 'Double 2', 'Decimal128 9'],
      // Equal values of two types: $last is the last document's.
      ['Int32 5', 'Long 5', 'Int32 5', 'Int32 5'],
    ]);
  });

  it('keeps the input type through $round and $abs, and through a field renamed in $project', async () => {
    const items = fresh();
    await items.insertOne({
      ...sample(),
      negLong: Long.fromNumber(-5),
      negWhole: new Double(-2),
      negDecimal: Decimal128.fromString('-3.5'),
      intMin: -2_147_483_648,
      big: 1234,
      nested: { deep: Long.fromNumber(8) },
    });
    const [projected] = await items
      .aggregate(
        [
          {
            $project: {
              roundWhole: { $round: ['$two'] },
              roundHalf: { $round: ['$half', 0] },
              roundInt: { $round: ['$count', 0] },
              roundIntTens: { $round: ['$big', -1] },
              roundLong: { $round: ['$small', 1] },
              roundDecimal: { $round: ['$amount', 0] },
              absLong: { $abs: '$negLong' },
              absWhole: { $abs: '$negWhole' },
              absInt: { $abs: '$count' },
              absDecimal: { $abs: '$negDecimal' },
              absIntMin: { $abs: '$intMin' },
              firstOfList: { $first: '$list' },
              maxOf: { $max: ['$count', '$small'] },
              minOf: { $min: ['$price', '$small'] },
              renamedLong: '$small',
              renamedDouble: '$price',
              renamedDeep: '$nested.deep',
              inner: { copy: '$two' },
            },
          },
        ],
        RAW,
      )
      .toArray();
    const shown = Object.fromEntries(
      Object.entries(projected!)
        .filter(([key]) => key !== '_id')
        .map(([key, value]) => [
          key,
          key === 'inner'
            ? `${bsonTypeOf((value as Document).copy)} ${String((value as Document).copy)}`
            : `${bsonTypeOf(value)} ${String(value)}`,
        ]),
    );
    expect(shown).toEqual({
      roundWhole: 'Double 2',
      roundHalf: 'Double 2',
      roundInt: 'Int32 3',
      roundIntTens: 'Int32 1230',
      roundLong: 'Long 5',
      roundDecimal: 'Decimal128 10',
      absLong: 'Long 5',
      absWhole: 'Double 2',
      absInt: 'Int32 3',
      absDecimal: 'Decimal128 3.5',
      absIntMin: 'Long 2147483648',
      firstOfList: 'Double 1',
      maxOf: 'Long 5',
      minOf: 'Long 5',
      renamedLong: 'Long 5',
      renamedDouble: 'Double 120',
      renamedDeep: 'Long 8',
      inner: 'Double 2',
    });
    await expect(
      items.aggregate([{ $project: { x: { $abs: { $literal: Long.MIN_VALUE } } } }]).toArray(),
    ).rejects.toMatchObject({ code: 28680 });
  });

  it('gives $project and $addFields arithmetic the type MongoDB gives it, stage after stage', async () => {
    const items = fresh();
    const doc: Document = {
      _id: 1,
      long: Long.fromNumber(10),
      whole: new Double(4),
      half: 0.5,
      int: 2_000_000_000,
      list: [Long.fromNumber(1), Long.fromNumber(2)],
    };
    await items.insertOne(doc);
    const [projected] = await items
      .aggregate(
        [
          {
            $project: {
              long: 1,
              whole: 1,
              longPlusInt: { $add: ['$long', 1] },
              longTimesInt: { $multiply: ['$long', 3] },
              longMinusInt: { $subtract: ['$long', 4] },
              wholePlusInt: { $add: ['$whole', 1] },
              halves: { $add: ['$half', '$half'] },
              intOverflow: { $add: ['$int', '$int'] },
              intProduct: { $multiply: ['$int', 1] },
              nested: { $multiply: [{ $add: ['$long', 1] }, 2] },
              sumOfList: { $sum: '$list' },
              avgOfInts: { $avg: [2, 4] },
              rounded: { $round: [{ $add: ['$whole', 0.25] }, 1] },
            },
          },
          { $addFields: { next: { $add: ['$longPlusInt', 1] }, plain: { $abs: '$longPlusInt' } } },
        ],
        RAW,
      )
      .toArray();
    expect(typesOf(projected!)).toEqual({
      long: 'Long',
      whole: 'Double',
      longPlusInt: 'Long',
      longTimesInt: 'Long',
      longMinusInt: 'Long',
      wholePlusInt: 'Double',
      halves: 'Double',
      intOverflow: 'Long',
      intProduct: 'Int32',
      nested: 'Long',
      sumOfList: 'Long',
      avgOfInts: 'Double',
      rounded: 'Double',
      next: 'Long',
      plain: 'Long',
    });
    expect(String(projected!.intOverflow)).toBe('4000000000');
    expect(String(projected!.nested)).toBe('22');
    expect(String(projected!.next)).toBe('12');
  });

  it('keeps the types inside $facet sub-pipelines, and groups equal numbers of different types together', async () => {
    const items = fresh();
    const docs: Document[] = [
      { _id: 1, v: Long.fromNumber(2) },
      { _id: 2, v: 2 },
      { _id: 3, v: new Double(2) },
    ];
    await items.insertMany(docs);
    const [facets] = await items
      .aggregate(
        [
          {
            $facet: {
              stats: [
                { $group: { _id: null, sum: { $sum: '$v' }, avg: { $avg: '$v' } } },
                { $project: { sum: 1, avg: 1, rounded: { $round: ['$avg', 0] } } },
              ],
              byValue: [{ $group: { _id: { $add: ['$v', 0] }, n: { $sum: 1 } } }],
            },
          },
        ],
        RAW,
      )
      .toArray();
    const [stats] = facets!.stats as Document[];
    // A stock operator ($round) gets the typed average as a plain number: it computes, where a Double would fail it.
    expect(typesOf(stats!)).toMatchObject({ sum: 'Double', avg: 'Double' });
    expect([String(stats!.sum), String(stats!.avg), String(stats!.rounded)]).toEqual(['6', '2', '2']);
    expect((facets!.byValue as Document[]).map((group) => [String(group._id), String(group.n)])).toEqual([
      ['2', '3'],
    ]);
  });

  it('keeps the types across a restart from the --dbpath journal', async () => {
    const directory = await temporaryDirectory('sagastream-numbers');
    try {
      const first = await withServer({ dbpath: directory.path, fsyncIntervalMs: 10 });
      const dbName = uniqueDbName('journal');
      await first.client.db(dbName).collection('items').insertOne(sample());
      await first.client
        .db(dbName)
        .collection('items')
        .updateOne({ _id: 1 as never }, { $set: { later: new Double(3) } });
      await first.stop();
      const second = await withServer({ dbpath: directory.path });
      try {
        const raw = await second.client.db(dbName).collection('items').findOne({}, RAW);
        expect(typesOf(raw)).toEqual({ ...sampleTypes, later: 'Double' });
      } finally {
        await second.stop();
      }
    } finally {
      await directory.remove();
    }
  });
});
