import { Decimal128, Long, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { MongoCommandError } from '../../../../src/embedded/errors.js';
import { applyUpdate, upsertSeed } from '../../../../src/embedded/query/index.js';
import type { ApplyUpdateOptions, Document } from '../../../../src/embedded/query/index.js';

const update = (doc: Document, spec: Document | Document[], options: ApplyUpdateOptions = {}): Document =>
  applyUpdate(doc, spec, options).document;

function expectError(
  doc: Document,
  spec: Document | Document[],
  code: number,
  message: string,
  options: ApplyUpdateOptions = {},
): void {
  let caught: unknown;
  try {
    applyUpdate(doc, spec, options);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(MongoCommandError);
  expect((caught as MongoCommandError).code).toBe(code);
  expect((caught as MongoCommandError).message).toContain(message);
}

describe('applyUpdate: field operators', () => {
  it('$set creates nested paths and never mutates the input', () => {
    const doc = { _id: 1, a: { b: 1 } };
    const result = applyUpdate(doc, { $set: { 'a.c': 2, 'x.y.z': 3 } });
    expect(result.document).toEqual({ _id: 1, a: { b: 1, c: 2 }, x: { y: { z: 3 } } });
    expect(doc).toEqual({ _id: 1, a: { b: 1 } });
    expect(result.modified).toBe(true);
  });

  it('applies fields in path order so new fields appear sorted', () => {
    expect(Object.keys(update({ _id: 1 }, { $set: { b: 1, a: 1 } }))).toEqual(['_id', 'a', 'b']);
  });

  it('$set of an identical value is not a modification', () => {
    const result = applyUpdate({ _id: 1, a: 1 }, { $set: { a: 1 } });
    expect(result.modified).toBe(false);
    expect(result.updateDescription).toEqual({ updatedFields: {}, removedFields: [], truncatedArrays: [] });
  });

  it('$unset removes fields and nulls array elements', () => {
    expect(update({ _id: 1, a: 1, b: [1, 2] }, { $unset: { a: '', 'b.0': '', 'missing.x': '' } })).toEqual({
      _id: 1,
      b: [null, 2],
    });
  });

  it('$inc and $mul handle numbers, Long and Decimal128', () => {
    expect(update({ _id: 1, n: 1 }, { $inc: { n: 2, m: 5 } })).toEqual({ _id: 1, n: 3, m: 5 });
    const big = update({ _id: 1, n: Long.fromNumber(Number.MAX_SAFE_INTEGER) }, { $inc: { n: 2 } }).n;
    expect(big).toBeInstanceOf(Long);
    expect((big as Long).toString()).toBe('9007199254740993');
    const decimal = update({ _id: 1, n: Decimal128.fromString('1.5') }, { $inc: { n: 1 } }).n;
    expect(decimal).toBeInstanceOf(Decimal128);
    expect(String(decimal)).toBe('2.5');
    expect(update({ _id: 1, n: 3 }, { $mul: { n: 2, z: 4 } })).toEqual({ _id: 1, n: 6, z: 0 });
  });

  it('$inc on a non-number is TypeMismatch', () => {
    expectError(
      { _id: 1, s: 'x' },
      { $inc: { s: 1 } },
      14,
      'Cannot apply $inc to a value of non-numeric type',
    );
    expectError({ _id: 1 }, { $inc: { n: 'x' } }, 14, 'Cannot increment with non-numeric argument');
  });

  it('$min and $max compare with BSON order', () => {
    const result = update({ _id: 1, lo: 5, hi: 5 }, { $min: { lo: 3 }, $max: { hi: Long.fromNumber(9) } });
    expect(result.lo).toBe(3);
    expect(String(result.hi)).toBe('9');
    expect(update({ _id: 1, hi: Long.fromNumber(10) }, { $max: { hi: 9 } }).hi).toEqual(Long.fromNumber(10));
    expect(applyUpdate({ _id: 1, lo: 5 }, { $min: { lo: 7 } }).modified).toBe(false);
  });

  it('$rename moves a field, including into nested paths', () => {
    expect(update({ _id: 1, a: 1, b: 2 }, { $rename: { a: 'c.d' } })).toEqual({ _id: 1, b: 2, c: { d: 1 } });
    expect(applyUpdate({ _id: 1 }, { $rename: { a: 'b' } }).modified).toBe(false);
  });

  it('$push supports $each, $position, $sort and $slice', () => {
    expect(update({ _id: 1 }, { $push: { a: 1 } })).toEqual({ _id: 1, a: [1] });
    expect(update({ _id: 1, a: [1, 2] }, { $push: { a: { $each: [0], $position: 0 } } }).a).toEqual([
      0, 1, 2,
    ]);
    expect(update({ _id: 1, a: [3, 1] }, { $push: { a: { $each: [2], $sort: 1, $slice: 2 } } }).a).toEqual([
      1, 2,
    ]);
    expect(update({ _id: 1, a: [1, 2, 3] }, { $push: { a: { $each: [4], $slice: -2 } } }).a).toEqual([3, 4]);
    const docs = update(
      { _id: 1, a: [{ s: 2 }, { s: 1 }] },
      { $push: { a: { $each: [{ s: 3 }], $sort: { s: -1 } } } },
    );
    expect(docs.a).toEqual([{ s: 3 }, { s: 2 }, { s: 1 }]);
    expectError({ _id: 1, a: 1 }, { $push: { a: 2 } }, 2, 'must be an array');
  });

  it('$addToSet adds only missing values, with numeric equality', () => {
    expect(
      update({ _id: 1, a: [1, 2] }, { $addToSet: { a: { $each: [Long.fromNumber(2), 3, 3] } } }).a,
    ).toEqual([1, 2, 3]);
    expect(applyUpdate({ _id: 1, a: [1] }, { $addToSet: { a: 1 } }).modified).toBe(false);
  });

  it('$pull, $pullAll and $pop remove elements', () => {
    expect(update({ _id: 1, a: [1, 5, 8] }, { $pull: { a: { $gte: 5 } } }).a).toEqual([1]);
    expect(update({ _id: 1, a: [{ x: 1 }, { x: 2 }] }, { $pull: { a: { x: 2 } } }).a).toEqual([{ x: 1 }]);
    expect(update({ _id: 1, a: [1, 2, 1, 3] }, { $pullAll: { a: [1, 3] } }).a).toEqual([2]);
    expect(update({ _id: 1, a: [1, 2, 3] }, { $pop: { a: 1 } }).a).toEqual([1, 2]);
    expect(update({ _id: 1, a: [1, 2, 3] }, { $pop: { a: -1 } }).a).toEqual([2, 3]);
  });

  it('$bit and $currentDate', () => {
    expect(update({ _id: 1, f: 0b1100 }, { $bit: { f: { and: 0b1010 } } }).f).toBe(0b1000);
    expect(update({ _id: 1, f: 0b1100 }, { $bit: { f: { or: 1 } } }).f).toBe(0b1101);
    const dated = update({ _id: 1 }, { $currentDate: { at: true, ts: { $type: 'timestamp' } } });
    expect(dated.at).toBeInstanceOf(Date);
    expect(dated.ts).toBeInstanceOf(Timestamp);
  });

  it('$setOnInsert applies only to upsert inserts', () => {
    expect(update({ _id: 1 }, { $set: { a: 1 }, $setOnInsert: { created: true } })).toEqual({ _id: 1, a: 1 });
    expect(
      update({ _id: 1 }, { $set: { a: 1 }, $setOnInsert: { created: true } }, { isUpsertInsert: true }),
    ).toEqual({
      _id: 1,
      a: 1,
      created: true,
    });
  });
});

describe('applyUpdate: array positions', () => {
  it('positional $ updates the element the query matched', () => {
    const doc = { _id: 1, grades: [80, 85, 90] };
    expect(update(doc, { $set: { 'grades.$': 82 } }, { query: { grades: 85 } }).grades).toEqual([80, 82, 90]);
    const nested = {
      _id: 1,
      items: [
        { sku: 'a', qty: 1 },
        { sku: 'b', qty: 1 },
      ],
    };
    expect(update(nested, { $inc: { 'items.$.qty': 2 } }, { query: { 'items.sku': 'b' } }).items).toEqual([
      { sku: 'a', qty: 1 },
      { sku: 'b', qty: 3 },
    ]);
    const elem = update(
      nested,
      { $set: { 'items.$.qty': 9 } },
      { query: { items: { $elemMatch: { sku: 'a' } } } },
    );
    expect(elem.items).toEqual([
      { sku: 'a', qty: 9 },
      { sku: 'b', qty: 1 },
    ]);
    expectError(doc, { $set: { 'grades.$': 1 } }, 2, 'positional operator did not find the match', {
      query: { _id: 1 },
    });
  });

  it('$[] updates every element and $[id] the ones arrayFilters select', () => {
    expect(update({ _id: 1, a: [1, 2, 3] }, { $inc: { 'a.$[]': 10 } }).a).toEqual([11, 12, 13]);
    const doc = { _id: 1, a: [{ v: 1 }, { v: 5 }, { v: 9 }] };
    const result = update(
      doc,
      { $set: { 'a.$[big].flag': true } },
      { arrayFilters: [{ 'big.v': { $gt: 4 } }] },
    );
    expect(result.a).toEqual([{ v: 1 }, { v: 5, flag: true }, { v: 9, flag: true }]);
    expect(
      update({ _id: 1, a: [1, 5] }, { $set: { 'a.$[x]': 0 } }, { arrayFilters: [{ x: { $lt: 3 } }] }).a,
    ).toEqual([0, 5]);
  });

  it('rejects missing and unused array filters', () => {
    expectError({ _id: 1, a: [1] }, { $set: { 'a.$[x]': 0 } }, 2, "No array filter found for identifier 'x'");
    expectError({ _id: 1, a: [1] }, { $set: { a: [] } }, 9, "identifier 'y' was not used", {
      arrayFilters: [{ y: 1 }],
    });
  });
});

describe('applyUpdate: replacement and pipeline updates', () => {
  it('replaces the document keeping _id first', () => {
    expect(update({ _id: 1, a: 1 }, { b: 2 })).toEqual({ _id: 1, b: 2 });
    expect(Object.keys(update({ _id: 1, a: 1 }, { b: 2, _id: 1 }))).toEqual(['_id', 'b']);
    expect(update({ _id: 1, a: 1 }, {})).toEqual({ _id: 1 });
  });

  it('applies pipeline updates', () => {
    const result = update({ _id: 1, a: 2, b: 3, c: 1 }, [
      { $set: { sum: { $add: ['$a', '$b'] } } },
      { $unset: 'c' },
    ]);
    expect(result).toEqual({ _id: 1, a: 2, b: 3, sum: 5 });
    expect(update({ _id: 1, n: { x: 1 } }, [{ $replaceWith: '$n' }])).toEqual({ _id: 1, x: 1 });
    expectError({ _id: 1 }, [{ $group: { _id: null } }], 40324, "Unrecognized pipeline stage name: '$group'");
  });
});

describe('applyUpdate: errors', () => {
  it('refuses to change _id', () => {
    expectError(
      { _id: 1 },
      { $set: { _id: 2 } },
      66,
      "Performing an update on the path '_id' would modify the immutable field '_id'",
    );
    expectError({ _id: 1 }, { _id: 2, a: 1 }, 66, "immutable) field '_id'");
    expectError({ _id: 1 }, [{ $set: { _id: 2 } }], 66, 'immutable field');
    expect(update({ _id: 1 }, { $set: { _id: 1, a: 1 } })).toEqual({ _id: 1, a: 1 });
  });

  it('detects conflicting paths', () => {
    expectError(
      { _id: 1 },
      { $set: { a: 1 }, $inc: { a: 1 } },
      40,
      "Updating the path 'a' would create a conflict at 'a'",
    );
    expectError({ _id: 1 }, { $set: { 'a.b': 1 }, $unset: { a: '' } }, 40, "conflict at 'a'");
    expectError({ _id: 1 }, { $set: { a: 1 }, $setOnInsert: { 'a.b': 1 } }, 40, 'conflict');
  });

  it('rejects unknown operators and mixed documents', () => {
    expectError({ _id: 1 }, { $foo: { a: 1 } }, 9, 'Unknown modifier: $foo');
    expectError({ _id: 1 }, { $set: { a: 1 }, b: 2 }, 9, 'Unknown modifier: b');
    expectError({ _id: 1 }, { b: 2, $set: { a: 1 } }, 9, 'Unknown modifier: b');
    expectError({ _id: 1 }, { $set: 1 }, 9, 'Modifiers operate on fields');
  });

  it('refuses to create fields inside scalars', () => {
    expectError({ _id: 1, a: 5 }, { $set: { 'a.b': 1 } }, 28, "Cannot create field 'b'");
  });
});

describe('applyUpdate: updateDescription', () => {
  const describeUpdate = (doc: Document, spec: Document | Document[], options: ApplyUpdateOptions = {}) =>
    applyUpdate(doc, spec, options).updateDescription;

  it('reports dotted paths of changed fields and removed fields', () => {
    expect(
      describeUpdate({ _id: 1, a: { b: 0, c: 1 }, d: 1 }, { $set: { 'a.b': 1 }, $unset: { d: '' } }),
    ).toEqual({
      updatedFields: { 'a.b': 1 },
      removedFields: ['d'],
      truncatedArrays: [],
    });
  });

  it('reports pushed elements by index', () => {
    expect(describeUpdate({ _id: 1, arr: [1, 2, 3] }, { $push: { arr: 4 } }).updatedFields).toEqual({
      'arr.3': 4,
    });
    expect(describeUpdate({ _id: 1 }, { $push: { arr: 4 } }).updatedFields).toEqual({ arr: [4] });
  });

  it('reports shrunk arrays as truncation or as the whole array', () => {
    expect(describeUpdate({ _id: 1, arr: [1, 2, 3] }, { $pop: { arr: 1 } })).toEqual({
      updatedFields: {},
      removedFields: [],
      truncatedArrays: [{ field: 'arr', newSize: 2 }],
    });
    expect(describeUpdate({ _id: 1, arr: [1, 2, 3] }, { $pull: { arr: 2 } }).updatedFields).toEqual({
      arr: [1, 3],
    });
  });

  it('applies one update object to several documents, and again with other arrayFilters', () => {
    const spec = { $set: { 'items.$[hit].seen': true }, $inc: { n: 1 } };
    const docs = [
      { _id: 1, n: 0, items: [{ k: 'a' }, { k: 'b' }] },
      { _id: 2, n: 5, items: [{ k: 'b' }] },
    ];
    const onB = docs.map((doc) => update(doc, spec, { arrayFilters: [{ 'hit.k': 'b' }] }));
    expect(onB).toEqual([
      { _id: 1, n: 1, items: [{ k: 'a' }, { k: 'b', seen: true }] },
      { _id: 2, n: 6, items: [{ k: 'b', seen: true }] },
    ]);
    expect(update(docs[0]!, spec, { arrayFilters: [{ 'hit.k': 'a' }] })).toEqual({
      _id: 1,
      n: 1,
      items: [{ k: 'a', seen: true }, { k: 'b' }],
    });
  });

  it('computes the description on first read and keeps it', () => {
    const result = applyUpdate({ _id: 1, a: 1, tags: ['x'] }, { $set: { a: 2 }, $push: { tags: 'y' } });
    expect(result.modified).toBe(true);
    const description = result.updateDescription;
    expect(description).toEqual({
      updatedFields: { a: 2, 'tags.1': 'y' },
      removedFields: [],
      truncatedArrays: [],
    });
    expect(result.updateDescription).toBe(description);
  });

  it('counts a replacement that only reorders fields as a modification with an empty description', () => {
    const result = applyUpdate({ _id: 1, a: 1, b: 2 }, { b: 2, a: 1 });
    expect(result.modified).toBe(true);
    expect(result.updateDescription).toEqual({ updatedFields: {}, removedFields: [], truncatedArrays: [] });
  });

  it('describes replacements as a diff', () => {
    expect(describeUpdate({ _id: 1, a: 1, b: 2 }, { a: 5 })).toEqual({
      updatedFields: { a: 5 },
      removedFields: ['b'],
      truncatedArrays: [],
    });
  });
});

describe('upsertSeed', () => {
  it('takes equality fields, nesting dotted paths and reading $and', () => {
    expect(upsertSeed({ _id: 7, a: 1, 'b.c': 2, n: { $gt: 1 }, $and: [{ d: 3 }], $or: [{ e: 1 }] })).toEqual({
      _id: 7,
      a: 1,
      b: { c: 2 },
      d: 3,
    });
    expect(upsertSeed({ a: { $eq: 4 }, r: /x/ })).toEqual({ a: 4 });
  });

  it('feeds applyUpdate for upsert inserts', () => {
    const seed = upsertSeed({ key: 'k1', attempts: { $lt: 3 } });
    const result = applyUpdate(
      seed,
      { $inc: { attempts: 1 }, $setOnInsert: { createdAt: 1 } },
      { isUpsertInsert: true },
    );
    expect(result.document).toEqual({ key: 'k1', attempts: 1, createdAt: 1 });
  });
});
