import { Long } from 'bson';
import { describe, expect, it } from 'vitest';
import { MongoCommandError } from '../../../../src/embedded/errors.js';
import { runPipeline } from '../../../../src/embedded/query/index.js';

const orders = [
  { _id: 1, item: 'a', qty: 2, price: 10, tags: ['x', 'y'] },
  { _id: 2, item: 'b', qty: 1, price: Long.fromNumber(20), tags: ['y'] },
  { _id: 3, item: 'a', qty: 5, price: 10, tags: [] },
];

describe('runPipeline', () => {
  it('runs $match with BSON-aware comparisons and $sort with BSON order', () => {
    expect(runPipeline(orders, [{ $match: { price: 20 } }]).map((d) => d._id)).toEqual([2]);
    expect(runPipeline(orders, [{ $sort: { price: -1, qty: 1 } }]).map((d) => d._id)).toEqual([2, 1, 3]);
  });

  it('rounds integers to negative places half to even, keeping int32 and Long', () => {
    const values = [
      { _id: 1, v: 25 },
      { _id: 2, v: 35 },
      { _id: 3, v: -25 },
      { _id: 4, v: Long.fromString('9007199254740995') },
      { _id: 5, v: 2_147_483_647 },
    ];
    const rounded = runPipeline(values, [{ $project: { _id: 0, r: { $round: ['$v', -1] } } }]);
    expect(rounded.map((doc) => String(doc.r))).toEqual([
      '20',
      '40',
      '-20',
      '9007199254741000',
      '2147483650',
    ]);
    // An int32 that rounds out of range becomes a Long, as MongoDB widens overflowing ints.
    expect(rounded.map((doc) => (doc.r instanceof Long ? 'Long' : typeof doc.r))).toEqual([
      'number',
      'number',
      'number',
      'Long',
      'Long',
    ]);
  });

  it('groups, counts, unwinds and projects', () => {
    expect(
      runPipeline(orders, [{ $group: { _id: '$item', total: { $sum: '$qty' } } }, { $sort: { _id: 1 } }]),
    ).toEqual([
      { _id: 'a', total: 7 },
      { _id: 'b', total: 1 },
    ]);
    expect(runPipeline(orders, [{ $match: { item: 'a' } }, { $count: 'n' }])).toEqual([{ n: 2 }]);
    expect(runPipeline(orders, [{ $unwind: '$tags' }, { $project: { _id: 0, tags: 1 } }])).toEqual([
      { tags: 'x' },
      { tags: 'y' },
      { tags: 'y' },
    ]);
    expect(
      runPipeline(orders, [
        { $skip: 1 },
        { $limit: 1 },
        { $addFields: { double: { $multiply: ['$qty', 2] } } },
      ]),
      // mingo stages see safe-range Longs as numbers (so arithmetic works); a field passed through keeps its Long.
    ).toEqual([{ ...orders[1], double: 2 }]);
  });

  it('looks up other collections through resolveCollection', () => {
    const items = [{ _id: 'a', name: 'Apple' }];
    const result = runPipeline(
      orders.slice(0, 1),
      [{ $lookup: { from: 'items', localField: 'item', foreignField: '_id', as: 'info' } }],
      { resolveCollection: (name) => (name === 'items' ? items : []) },
    );
    expect(result[0]?.info).toEqual(items);
  });

  it('supports $lookup sub-pipelines with let variables and command variables in $expr', () => {
    const stock = [
      { _id: 'a', units: 1 },
      { _id: 'b', units: 10 },
    ];
    const result = runPipeline(
      orders.slice(0, 2),
      [
        {
          $lookup: {
            from: 'stock',
            let: { wanted: '$qty', sku: '$item' },
            pipeline: [
              { $match: { $expr: { $and: [{ $eq: ['$_id', '$$sku'] }, { $gte: ['$units', '$$wanted'] }] } } },
            ],
            as: 'available',
          },
        },
      ],
      { resolveCollection: () => stock },
    );
    expect(result.map((doc) => (doc.available as unknown[]).length)).toEqual([0, 1]);
    const limited = runPipeline(orders, [{ $match: { $expr: { $gt: ['$qty', '$$limit'] } } }], {
      variables: { limit: 1 },
    });
    expect(limited.map((doc) => doc._id)).toEqual([1, 3]);
  });

  it('runs $facet and $sortByCount', () => {
    expect(
      runPipeline(orders, [
        {
          $facet: {
            count: [{ $count: 'n' }],
            many: [{ $match: { qty: { $gte: 5 } } }, { $project: { _id: 1 } }],
          },
        },
      ]),
    ).toEqual([{ count: [{ n: 3 }], many: [{ _id: 3 }] }]);
    expect(runPipeline(orders, [{ $sortByCount: '$item' }])).toEqual([
      { _id: 'a', count: 2 },
      { _id: 'b', count: 1 },
    ]);
  });

  it('does not mutate the input documents', () => {
    const docs = [{ _id: 1, a: { b: 1 } }];
    runPipeline(docs, [{ $set: { 'a.c': 2 } }, { $unset: 'a.b' }]);
    expect(docs).toEqual([{ _id: 1, a: { b: 1 } }]);
    const matched = runPipeline(docs, [{ $match: { _id: 1 } }]);
    expect(matched).toEqual(docs);
    expect(matched[0]).not.toBe(docs[0]);
  });

  it('rejects unknown stages with 40324', () => {
    let caught: unknown;
    try {
      runPipeline(orders, [{ $frobnicate: {} }]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MongoCommandError);
    expect((caught as MongoCommandError).code).toBe(40324);
    expect((caught as MongoCommandError).codeName).toBe('Location40324');
    expect((caught as MongoCommandError).message).toBe("Unrecognized pipeline stage name: '$frobnicate'");
  });

  it('reports bad $match filters as BadValue', () => {
    let caught: unknown;
    try {
      runPipeline(orders, [{ $match: { a: { $bogus: 1 } } }]);
    } catch (error) {
      caught = error;
    }
    expect((caught as MongoCommandError).code).toBe(2);
  });

  it('projects what an inclusion $project names from copies of only what it reads, and keeps the rest otherwise', () => {
    const docs = [{ _id: 1, a: Long.fromNumber(5), b: { c: 2, d: 3 }, e: [1, 2] }];
    // Inclusion: only _id, the kept fields and what the expressions read.
    expect(runPipeline(docs, [{ $project: { b: { d: 1 }, n: { $add: ['$a', 1] } } }])).toEqual([
      { _id: 1, b: { d: 3 }, n: Long.fromNumber(6) },
    ]);
    // $$ROOT reads the whole document (the copy mingo computes on: a safe-range Long is a number there).
    expect(runPipeline(docs, [{ $project: { whole: '$$ROOT' } }])).toEqual([
      { _id: 1, whole: { _id: 1, a: 5, b: { c: 2, d: 3 }, e: [1, 2] } },
    ]);
    // Exclusion, also of _id alone or of a nested field: every other field passes through.
    expect(runPipeline(docs, [{ $project: { _id: 0 } }])).toEqual([
      { a: Long.fromNumber(5), b: { c: 2, d: 3 }, e: [1, 2] },
    ]);
    expect(runPipeline(docs, [{ $project: { 'b.d': 0 } }])).toEqual([
      { _id: 1, a: Long.fromNumber(5), b: { c: 2 }, e: [1, 2] },
    ]);
  });
});
