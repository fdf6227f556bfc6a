import { Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { MongoCommandError } from '../../../../src/embedded/errors.js';
import { applyProjection, compileSort } from '../../../../src/embedded/query/index.js';
import type { Document } from '../../../../src/embedded/query/index.js';

const doc = {
  _id: 1,
  a: 1,
  b: { c: 2, d: 3 },
  list: [1, 2, 3, 4],
  items: [
    { x: 1, y: 2 },
    { x: 5, y: 6 },
  ],
};

function codeOf(action: () => unknown): number | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof MongoCommandError ? error.code : -1;
  }
  return undefined;
}

describe('applyProjection', () => {
  it('never writes into the projected document, whether kept values are shared or copied', () => {
    const doc = { _id: 1, a: { b: [1, 2, 3], c: { d: 1 } }, history: [{ type: 'x' }], n: 5 };
    const before = structuredClone(doc);
    const excluded = applyProjection(doc, { history: 0 });
    expect(excluded).toEqual({ _id: 1, a: { b: [1, 2, 3], c: { d: 1 } }, n: 5 });
    const sliced = applyProjection(doc, { history: 0, 'a.b': { $slice: 1 } });
    expect(sliced).toEqual({ _id: 1, a: { b: [1], c: { d: 1 } }, n: 5 });
    const computed = applyProjection(doc, { a: 1, 'a.c.e': { $add: ['$n', 1] } });
    expect(computed).toEqual({ _id: 1, a: { b: [1, 2, 3], c: { d: 1, e: 6 } } });
    expect(doc).toEqual(before);
  });

  it('keeps only _id for {_id: 1} alone, and everything but _id for {_id: 0}', () => {
    expect(applyProjection(doc, { _id: 1 })).toEqual({ _id: 1 });
    expect(applyProjection(doc, { _id: true })).toEqual({ _id: 1 });
    expect(applyProjection(doc, { _id: 0 })).toEqual({
      a: 1,
      b: { c: 2, d: 3 },
      list: [1, 2, 3, 4],
      items: doc.items,
    });
    expect(applyProjection(doc, { _id: 1, b: 0, list: 0, items: 0 })).toEqual({ _id: 1, a: 1 });
  });

  it('returns the document for an empty or missing projection', () => {
    expect(applyProjection(doc, undefined)).toEqual(doc);
    expect(applyProjection(doc, {})).toEqual(doc);
  });

  it('includes fields, dotted paths and _id unless excluded', () => {
    expect(applyProjection(doc, { a: 1, 'b.c': 1 })).toEqual({ _id: 1, a: 1, b: { c: 2 } });
    expect(applyProjection(doc, { a: 1, _id: 0 })).toEqual({ a: 1 });
    expect(applyProjection(doc, { 'items.x': 1 })).toEqual({ _id: 1, items: [{ x: 1 }, { x: 5 }] });
    expect(applyProjection(doc, { b: { d: true } })).toEqual({ _id: 1, b: { d: 3 } });
  });

  it('excludes fields', () => {
    expect(applyProjection(doc, { list: 0, items: 0, 'b.c': 0 })).toEqual({ _id: 1, a: 1, b: { d: 3 } });
    expect(applyProjection({ _id: 1, a: 1 }, { _id: 0 })).toEqual({ a: 1 });
  });

  it('supports $slice, $elemMatch and positional projections', () => {
    expect(applyProjection(doc, { list: { $slice: 2 } }).list).toEqual([1, 2]);
    expect(applyProjection(doc, { list: { $slice: -1 } }).list).toEqual([4]);
    expect(applyProjection(doc, { list: { $slice: [1, 2] } }).list).toEqual([2, 3]);
    expect(applyProjection(doc, { items: { $elemMatch: { x: { $gt: 2 } } } })).toEqual({
      _id: 1,
      items: [{ x: 5, y: 6 }],
    });
    expect(applyProjection(doc, { 'items.$': 1 }, { 'items.x': 5 })).toEqual({
      _id: 1,
      items: [{ x: 5, y: 6 }],
    });
  });

  it('computes fields from expressions', () => {
    expect(applyProjection(doc, { total: { $add: ['$a', '$b.c'] }, a: 1 })).toEqual({
      _id: 1,
      a: 1,
      total: 3,
    });
    expect(applyProjection(doc, { alias: '$b.d', _id: 0 })).toEqual({ alias: 3 });
  });

  it('rejects mixing inclusion and exclusion', () => {
    expect(codeOf(() => applyProjection(doc, { a: 1, b: 0 }))).toBe(31254);
    expect(codeOf(() => applyProjection(doc, { b: 0, a: 1 }))).toBe(31253);
    expect(codeOf(() => applyProjection(doc, { a: 1, _id: 0 }))).toBeUndefined();
  });

  it('does not mutate the input', () => {
    const copy = structuredClone(doc);
    const projected = applyProjection(doc, { b: 1 });
    (projected.b as Document).c = 99;
    expect(doc).toEqual(copy);
  });
});

describe('compileSort', () => {
  const sortBy = (docs: Document[], spec: Document): unknown[] =>
    [...docs].sort(compileSort(spec)).map((d) => d._id);

  it('sorts across BSON types and number representations', () => {
    const docs = [
      { _id: 'str', v: 'a' },
      { _id: 'long', v: Long.fromString('9007199254740993') },
      { _id: 'missing' },
      { _id: 'small', v: 1 },
      { _id: 'null', v: null },
      { _id: 'big', v: 2 ** 53 },
    ];
    expect(sortBy(docs, { v: 1 })).toEqual(['missing', 'null', 'small', 'big', 'long', 'str']);
    expect(sortBy(docs, { v: -1 })).toEqual(['str', 'long', 'big', 'small', 'missing', 'null']);
  });

  it('sorts ObjectIds by creation order and uses later keys for ties', () => {
    const first = new ObjectId('000000010000000000000000');
    const second = new ObjectId('000000020000000000000000');
    expect(
      sortBy(
        [
          { _id: 2, o: second },
          { _id: 1, o: first },
        ],
        { o: 1 },
      ),
    ).toEqual([1, 2]);
    expect(
      sortBy(
        [
          { _id: 1, g: 1, n: 1 },
          { _id: 2, g: 1, n: 2 },
          { _id: 3, g: 0, n: 0 },
        ],
        { g: 1, n: -1 },
      ),
    ).toEqual([3, 2, 1]);
  });

  it('sorts arrays by their smallest element ascending and largest descending', () => {
    const docs = [
      { _id: 'A', v: [1, 10] },
      { _id: 'B', v: [5, 6] },
    ];
    expect(sortBy(docs, { v: 1 })).toEqual(['A', 'B']);
    expect(sortBy(docs, { v: -1 })).toEqual(['A', 'B']);
    expect(
      sortBy(
        [
          { _id: 'x', a: [{ b: 3 }, { b: 1 }] },
          { _id: 'y', a: { b: 2 } },
        ],
        { 'a.b': 1 },
      ),
    ).toEqual(['x', 'y']);
  });

  it('rejects invalid directions', () => {
    expect(codeOf(() => compileSort({ a: 2 }))).toBe(2);
    expect(codeOf(() => compileSort({ a: { $meta: 'textScore' } }))).toBe(2);
  });
});
