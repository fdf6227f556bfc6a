import {
  Binary,
  BSONSymbol,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from 'bson';
import { describe, expect, it } from 'vitest';
import {
  bsonTypeName,
  cloneDocument,
  compareValues,
  valueKey,
  valuesEqual,
} from '../../../../src/embedded/query/index.js';

const big = Long.fromString('9007199254740993'); // 2^53 + 1: not representable as a double

describe('bsonTypeName', () => {
  it.each([
    [1, 'int'],
    [2 ** 31, 'double'],
    [1.5, 'double'],
    ['x', 'string'],
    [true, 'bool'],
    [null, 'null'],
    [undefined, 'undefined'],
    [[1], 'array'],
    [{ a: 1 }, 'object'],
    [new Date(0), 'date'],
    [/x/, 'regex'],
    [new ObjectId(), 'objectId'],
    [big, 'long'],
    [new Int32(1), 'int'],
    [new Double(1), 'double'],
    [Decimal128.fromString('1.5'), 'decimal'],
    [new Binary(Buffer.from('a')), 'binData'],
    [new UUID(), 'binData'],
    [new Timestamp({ t: 1, i: 1 }), 'timestamp'],
    [new MinKey(), 'minKey'],
    [new MaxKey(), 'maxKey'],
    [new Code('x'), 'javascript'],
    [new BSONSymbol('s'), 'symbol'],
  ])('names %o as %s', (value, name) => {
    expect(bsonTypeName(value)).toBe(name);
  });
});

describe('compareValues', () => {
  it('orders values of different types by MongoDB type order', () => {
    const ordered = [
      new MinKey(),
      null,
      1,
      'a',
      { a: 1 },
      [1],
      new Binary(Buffer.from('a')),
      new ObjectId('000000000000000000000001'),
      false,
      new Date(0),
      new Timestamp({ t: 1, i: 0 }),
      /a/,
      new MaxKey(),
    ];
    const shuffled = [...ordered].reverse();
    expect(shuffled.sort(compareValues)).toEqual(ordered);
  });

  it('compares numbers by value across number, Long, Int32, Double and Decimal128', () => {
    expect(compareValues(1, Long.fromNumber(1))).toBe(0);
    expect(compareValues(new Int32(2), new Double(2))).toBe(0);
    expect(compareValues(Decimal128.fromString('2.5'), 2)).toBe(1);
    expect(compareValues(big, 2 ** 53)).toBe(1);
    expect(compareValues(2 ** 53 + 0.5 * 2, big)).toBe(-1);
    expect(compareValues(Long.fromString('-9007199254740993'), -(2 ** 53))).toBe(-1);
    expect(compareValues(Number.NaN, -Infinity)).toBe(-1);
    expect(compareValues(Number.NaN, Number.NaN)).toBe(0);
  });

  it('orders ObjectIds by their bytes', () => {
    const early = new ObjectId('000000010000000000000000');
    const late = new ObjectId('ff0000000000000000000000');
    expect(compareValues(early, late)).toBe(-1);
    expect(compareValues(late, early)).toBe(1);
    expect(compareValues(late, new ObjectId(late.toHexString()))).toBe(0);
  });

  it('orders many random ObjectIds exactly as their hex strings', () => {
    const ids = Array.from(
      { length: 200 },
      () => new ObjectId(Buffer.from(Array.from({ length: 12 }, () => Math.floor(Math.random() * 256)))),
    );
    const byCompare = [...ids].sort(compareValues).map((id) => id.toHexString());
    const byHex = ids.map((id) => id.toHexString()).sort();
    expect(byCompare).toEqual(byHex);
    expect(new Set(ids.map(valueKey)).size).toBe(new Set(byHex).size);
  });

  it('compares strings by code unit and documents field by field', () => {
    expect(compareValues('B', 'a')).toBe(-1);
    expect(compareValues({ a: 1, b: 2 }, { a: 1, b: 3 })).toBe(-1);
    expect(compareValues({ a: 1 }, { a: 1, b: 0 })).toBe(-1);
    expect(compareValues({ b: 1 }, { a: 1 })).toBe(1);
    expect(compareValues([1, 2], [1, 3])).toBe(-1);
  });

  it('treats null and missing as equal and below numbers', () => {
    expect(compareValues(null, undefined)).toBe(0);
    expect(compareValues(undefined, -Infinity)).toBe(-1);
  });
});

describe('valuesEqual', () => {
  it('treats numbers of different representations as equal', () => {
    expect(valuesEqual(1, 1.0)).toBe(true);
    expect(valuesEqual(1, Long.fromNumber(1))).toBe(true);
    expect(valuesEqual(Decimal128.fromString('1.0'), new Int32(1))).toBe(true);
    expect(valuesEqual({ a: [1, Long.fromNumber(2)] }, { a: [1, 2] })).toBe(true);
  });

  it('distinguishes types and field order', () => {
    expect(valuesEqual(1, '1')).toBe(false);
    expect(valuesEqual(true, 1)).toBe(false);
    expect(valuesEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
  });
});

describe('valueKey', () => {
  it('gives equal values the same key', () => {
    expect(valueKey(1)).toBe(valueKey(Long.fromNumber(1)));
    expect(valueKey(1)).toBe(valueKey(Decimal128.fromString('1')));
    expect(valueKey(1)).toBe(valueKey(new Double(1)));
    expect(valueKey(0)).toBe(valueKey(-0));
    expect(valueKey(2 ** 60)).toBe(valueKey(Long.fromBigInt(2n ** 60n)));
    expect(valueKey(null)).toBe(valueKey(undefined));
    const id = new ObjectId();
    expect(valueKey(id)).toBe(valueKey(new ObjectId(id.toHexString())));
    expect(valueKey(new Date(5))).toBe(valueKey(new Date(5)));
    expect(valueKey({ a: 1, b: [Long.fromNumber(2)] })).toBe(valueKey({ a: 1.0, b: [2] }));
  });

  it('gives different values different keys', () => {
    const keys = [
      valueKey(1),
      valueKey('1'),
      valueKey(true),
      valueKey(big),
      valueKey(2 ** 53),
      valueKey({ a: 1, b: 2 }),
      valueKey({ b: 2, a: 1 }),
      valueKey([1, 2]),
      valueKey(['1,2']),
      valueKey(new Date(1)),
      valueKey(null),
      valueKey(new ObjectId('000000000000000000000001')),
      valueKey(new Binary(Buffer.from('a'), 0)),
      valueKey(new Binary(Buffer.from('a'), 4)),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('cloneDocument', () => {
  it('copies plain structure deeply and keeps bson instances', () => {
    const id = new ObjectId();
    const original = { _id: id, nested: { list: [1, { x: 2 }] }, at: new Date(3), n: big };
    const copy = cloneDocument(original);
    expect(copy).toEqual(original);
    expect(copy.nested).not.toBe(original.nested);
    expect(copy.nested.list[1]).not.toBe(original.nested.list[1]);
    expect(copy.at).not.toBe(original.at);
    expect(copy._id).toBe(id);
    expect(copy.n).toBe(big);
    copy.nested.list.push(3);
    expect(original.nested.list).toHaveLength(2);
  });
});
