import { Decimal128, Int32, Long, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { MongoCommandError } from '../../../../src/embedded/errors.js';
import { compileFilter } from '../../../../src/embedded/query/index.js';
import type { Document } from '../../../../src/embedded/query/index.js';

const matches = (filter: Document, doc: Document): boolean => compileFilter(filter)(doc);

function expectError(filter: Document, message: string, code = 2): void {
  let caught: unknown;
  try {
    compileFilter(filter);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(MongoCommandError);
  expect((caught as MongoCommandError).code).toBe(code);
  expect((caught as MongoCommandError).message).toContain(message);
}

describe('compileFilter: equality', () => {
  it('matches plain equality, null as missing, and array elements', () => {
    expect(matches({ a: 1 }, { a: 1 })).toBe(true);
    expect(matches({ a: 1 }, { a: 2 })).toBe(false);
    expect(matches({ a: null }, {})).toBe(true);
    expect(matches({ a: null }, { a: 0 })).toBe(false);
    expect(matches({ tags: 'x' }, { tags: ['y', 'x'] })).toBe(true);
    expect(matches({ tags: ['y', 'x'] }, { tags: ['y', 'x'] })).toBe(true);
    expect(matches({ tags: ['x', 'y'] }, { tags: ['y', 'x'] })).toBe(false);
    expect(matches({ a: { b: 1 } }, { a: { b: 1 } })).toBe(true);
    expect(matches({ a: { b: 1 } }, { a: { b: 1, c: 2 } })).toBe(false);
  });

  it('compares numbers across BSON representations', () => {
    expect(matches({ n: 5 }, { n: Long.fromNumber(5) })).toBe(true);
    expect(matches({ n: Long.fromNumber(5) }, { n: 5 })).toBe(true);
    expect(matches({ n: Decimal128.fromString('5.0') }, { n: 5 })).toBe(true);
    expect(matches({ n: new Int32(5) }, { n: 5.0 })).toBe(true);
    expect(matches({ n: { $gt: 4 } }, { n: Long.fromString('9007199254740993') })).toBe(true);
    expect(matches({ n: { $lt: Long.fromString('9007199254740993') } }, { n: 2 ** 53 })).toBe(true);
    expect(matches({ n: { $gte: Decimal128.fromString('2.5') } }, { n: 3 })).toBe(true);
    expect(matches({ n: { $in: [Long.fromNumber(7)] } }, { n: 7 })).toBe(true);
  });

  it('matches ObjectIds and dotted paths through arrays of documents', () => {
    const id = new ObjectId();
    expect(matches({ _id: id }, { _id: new ObjectId(id.toHexString()) })).toBe(true);
    expect(matches({ _id: id }, { _id: new ObjectId() })).toBe(false);
    const doc = {
      items: [
        { sku: 'a', qty: 1 },
        { sku: 'b', qty: 5 },
      ],
    };
    expect(matches({ 'items.sku': 'b' }, doc)).toBe(true);
    expect(matches({ 'items.1.qty': 5 }, doc)).toBe(true);
    expect(matches({ 'items.0.qty': 5 }, doc)).toBe(false);
    expect(matches({ 'items.price': null }, doc)).toBe(true);
    expect(matches({ 'a.b.c': 1 }, { a: { b: { c: 1 } } })).toBe(true);
  });
});

describe('compileFilter: operators', () => {
  it('brackets comparisons by type', () => {
    expect(matches({ a: { $gt: 1 } }, { a: 'zzz' })).toBe(false);
    expect(matches({ a: { $gt: 'a' } }, { a: 'b' })).toBe(true);
    expect(matches({ a: { $gte: null } }, {})).toBe(true);
    expect(matches({ a: { $lt: 5 } }, { a: [10, 3] })).toBe(true);
    expect(matches({ a: { $gt: new Date(0) } }, { a: new Date(5) })).toBe(true);
  });

  it('supports $ne, $in, $nin, $exists and $all', () => {
    expect(matches({ a: { $ne: 1 } }, { a: [1, 2] })).toBe(false);
    expect(matches({ a: { $ne: 1 } }, {})).toBe(true);
    expect(matches({ a: { $in: [1, /^x/] } }, { a: 'xyz' })).toBe(true);
    expect(matches({ a: { $in: [null] } }, {})).toBe(true);
    expect(matches({ a: { $nin: [1, 2] } }, { a: 3 })).toBe(true);
    expect(matches({ a: { $exists: true } }, { a: null })).toBe(true);
    expect(matches({ a: { $exists: false } }, { a: null })).toBe(false);
    expect(matches({ 'a.b': { $exists: true } }, { a: [{ c: 1 }, { b: 2 }] })).toBe(true);
    expect(matches({ a: { $all: [1, 2] } }, { a: [2, 3, 1] })).toBe(true);
    expect(matches({ a: { $all: [1, 4] } }, { a: [2, 3, 1] })).toBe(false);
    expect(matches({ a: { $all: [] } }, { a: [] })).toBe(false);
  });

  it('supports $type by name and number', () => {
    expect(matches({ a: { $type: 'objectId' } }, { a: new ObjectId() })).toBe(true);
    expect(matches({ a: { $type: 7 } }, { a: new ObjectId() })).toBe(true);
    expect(matches({ a: { $type: 'string' } }, { a: new ObjectId() })).toBe(false);
    expect(matches({ a: { $type: 'long' } }, { a: Long.fromString('9007199254740993') })).toBe(true);
    expect(matches({ a: { $type: 'int' } }, { a: 5 })).toBe(true);
    expect(matches({ a: { $type: 'double' } }, { a: 5 })).toBe(false);
    expect(matches({ a: { $type: 'double' } }, { a: 5.5 })).toBe(true);
    expect(matches({ a: { $type: 'decimal' } }, { a: Decimal128.fromString('1') })).toBe(true);
    expect(matches({ a: { $type: 'timestamp' } }, { a: new Timestamp({ t: 1, i: 1 }) })).toBe(true);
    expect(matches({ a: { $type: 'number' } }, { a: Long.fromNumber(1) })).toBe(true);
    expect(matches({ a: { $type: ['string', 'null'] } }, { a: null })).toBe(true);
    expect(matches({ a: { $type: 'array' } }, { a: [] })).toBe(true);
    expect(matches({ a: { $type: 'binData' } }, { a: 'x' })).toBe(false);
  });

  it('supports $regex with options, regex literals and $not', () => {
    expect(matches({ name: { $regex: '^ab', $options: 'i' } }, { name: 'ABC' })).toBe(true);
    expect(matches({ name: /^ab/ }, { name: 'ABC' })).toBe(false);
    expect(matches({ name: { $regex: /c$/ } }, { name: ['xx', 'abc'] })).toBe(true);
    expect(matches({ name: { $not: /^a/ } }, { name: 'bcd' })).toBe(true);
    expect(matches({ n: { $not: { $gt: 5 } } }, { n: 3 })).toBe(true);
    expect(matches({ n: { $not: { $gt: 5 } } }, {})).toBe(true);
    expect(matches({ n: { $regex: 'a b # comment\n', $options: 'x' } }, { n: 'ab' })).toBe(true);
  });

  it('supports $elemMatch on documents and values, and $size', () => {
    const doc = {
      results: [
        { product: 'a', score: 8 },
        { product: 'b', score: 3 },
      ],
    };
    expect(matches({ results: { $elemMatch: { product: 'a', score: { $gte: 8 } } } }, doc)).toBe(true);
    expect(matches({ results: { $elemMatch: { product: 'b', score: { $gte: 8 } } } }, doc)).toBe(false);
    expect(matches({ scores: { $elemMatch: { $gte: 80, $lt: 85 } } }, { scores: [82, 90] })).toBe(true);
    expect(matches({ scores: { $elemMatch: { $gte: 80, $lt: 85 } } }, { scores: [79, 90] })).toBe(false);
    expect(matches({ scores: { $size: 2 } }, { scores: [79, 90] })).toBe(true);
    expect(matches({ scores: { $size: 1 } }, { scores: [79, 90] })).toBe(false);
  });

  it('supports $mod and bitwise operators', () => {
    expect(matches({ n: { $mod: [4, 1] } }, { n: 9 })).toBe(true);
    expect(matches({ n: { $mod: [4, 1] } }, { n: 10 })).toBe(false);
    expect(matches({ n: { $bitsAllSet: [0, 2] } }, { n: 5 })).toBe(true);
    expect(matches({ n: { $bitsAnyClear: 5 } }, { n: 5 })).toBe(false);
    expect(matches({ n: { $bitsAllClear: 2 } }, { n: 5 })).toBe(true);
  });

  it('supports $and, $or, $nor and $expr', () => {
    expect(matches({ $or: [{ a: 1 }, { b: 2 }] }, { b: 2 })).toBe(true);
    expect(matches({ $and: [{ a: 1 }, { b: 2 }] }, { b: 2 })).toBe(false);
    expect(matches({ $nor: [{ a: 1 }, { b: 2 }] }, { c: 3 })).toBe(true);
    expect(matches({ $expr: { $gt: ['$spent', '$budget'] } }, { spent: 10, budget: 5 })).toBe(true);
    expect(matches({ $expr: { $gt: ['$spent', '$budget'] } }, { spent: 1, budget: 5 })).toBe(false);
    expect(matches({ $expr: { $eq: ['$n', 5] } }, { n: Long.fromNumber(5) })).toBe(true);
    expect(matches({ $expr: { $eq: ['$missing', null] } }, {})).toBe(false);
    expect(matches({ $comment: 'why', a: 1 }, { a: 1 })).toBe(true);
  });

  it('does not mutate the filter or the document', () => {
    const filter = { a: { $in: [1, 2] }, 'b.c': { $regex: 'x', $options: 'i' } };
    const doc = { a: 1, b: { c: 'X' } };
    const filterCopy = structuredClone(filter);
    const docCopy = structuredClone(doc);
    expect(matches(filter, doc)).toBe(true);
    expect(filter).toEqual(filterCopy);
    expect(doc).toEqual(docCopy);
  });
});

describe('compileFilter: errors', () => {
  it('rejects malformed filters with BadValue', () => {
    expectError({ a: { $foo: 1 } }, 'unknown operator: $foo');
    expectError({ $foo: 1 }, 'unknown top level operator: $foo');
    expectError({ a: { $in: 1 } }, '$in needs an array');
    expectError({ a: { $nin: 'x' } }, '$nin needs an array');
    expectError({ $or: [] }, '$or must be a nonempty array');
    expectError({ $and: [1] }, 'entries need to be full objects');
    expectError({ a: { $type: 'nope' } }, 'Unknown type name alias: nope');
    expectError({ a: { $type: 99 } }, 'Invalid numerical type code: 99');
    expectError({ a: { $regex: 'x', $options: 'z' } }, 'invalid flag in regex options: z');
    expectError({ a: { $mod: [0, 1] } }, 'divisor cannot be 0');
    expectError({ a: { $elemMatch: 1 } }, '$elemMatch needs an Object');
    expectError({ a: { $not: 1 } }, '$not needs a regex or a document');
    expectError({ a: { $size: 'x' } }, '$size needs a number');
    expectError({ a: { $all: 1 } }, '$all needs an array');
    expectError({ $where: 'true' }, '$where');
  });
});

describe('compileFilter: NaN', () => {
  const docs = [{ x: NaN }, { x: -1 }, { x: 0 }, { x: 3 }];
  const xs = (filter: Document): number[] =>
    docs.filter((doc) => compileFilter(filter)(doc)).map((doc) => doc.x);

  it('never satisfies a range against a number', () => {
    expect(xs({ x: { $lte: 0 } })).toEqual([-1, 0]);
    expect(xs({ x: { $lt: 5 } })).toEqual([-1, 0, 3]);
    expect(xs({ x: { $gt: -5 } })).toEqual([-1, 0, 3]);
    expect(xs({ x: { $not: { $lte: 0 } } }).map(String)).toEqual(['NaN', '3']);
  });

  it('equals only NaN', () => {
    expect(xs({ x: { $gte: NaN } }).map(String)).toEqual(['NaN']);
    expect(xs({ x: { $lte: NaN } }).map(String)).toEqual(['NaN']);
    expect(xs({ x: { $gt: NaN } })).toEqual([]);
    expect(xs({ x: NaN }).map(String)).toEqual(['NaN']);
  });
});
