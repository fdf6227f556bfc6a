// Sort comparators with MongoDB's semantics: BSON order, dotted paths, arrays sorted by their min/max element.
import { MongoCommandError } from '../errors.js';
import { isPlainDocument } from './bson-type-name.js';
import { numericValue } from './bson-numbers.js';
import type { CollationSpec } from 'mingo/types';
import { collatedValueCompare } from './collation.js';
import { compareValues, type ValueCompare } from './compare-values.js';
import type { Document } from './document.js';
import { someAlongPath, splitPath } from './path-walk.js';

/** An empty array sorts before null and missing fields. */
const EMPTY_ARRAY = Symbol('empty array');

interface SortKey {
  parts: string[];
  direction: 1 | -1;
}

function parseDirection(field: string, value: unknown): 1 | -1 {
  if (isPlainDocument(value) && '$meta' in value) {
    throw new MongoCommandError(
      'BadValue',
      `$meta sort by '${String(value.$meta)}' is not supported by the embedded server`,
    );
  }
  const numeric = numericValue(value);
  if (numeric === 1 || numeric === -1) return numeric;
  throw new MongoCommandError(
    'BadValue',
    `$sort key ordering must be 1 (for ascending) or -1 (for descending) (field '${field}')`,
  );
}

function compareKeys(a: unknown, b: unknown, compare: ValueCompare): number {
  if (a === EMPTY_ARRAY || b === EMPTY_ARRAY) return a === b ? 0 : a === EMPTY_ARRAY ? -1 : 1;
  return compare(a, b);
}

/** The value a document sorts by on one path: the smallest element ascending, the largest descending. */
function sortValue(doc: Document, key: SortKey, compare: ValueCompare): unknown {
  if (key.parts.length === 1) {
    const direct = doc[key.parts[0] as string];
    if (!Array.isArray(direct)) return direct;
  }
  let best: unknown = undefined;
  let found = false;
  const consider = (candidate: unknown): void => {
    if (!found || key.direction * compareKeys(candidate, best, compare) < 0) best = candidate;
    found = true;
  };
  someAlongPath(doc, key.parts, 0, (value) => {
    if (Array.isArray(value)) {
      if (value.length === 0) consider(EMPTY_ARRAY);
      for (const element of value) consider(element);
    } else consider(value);
    return false;
  });
  return best;
}

/** A sort compiled into each document's sort values (read once per document) and their order. */
export interface SortKeys {
  /** How many values a document sorts by. */
  readonly width: number;
  valueAt(doc: Document, key: number): unknown;
  /** The order of two documents' values at `key`, its direction applied. */
  compareAt(key: number, a: unknown, b: unknown): number;
}

/** compileSort's order, for a sort that reads each document's values once instead of at every comparison. */
export function compileSortKeys(sort: Document, collation?: CollationSpec): SortKeys {
  const compare = collatedValueCompare(collation) ?? compareValues;
  const keys: SortKey[] = Object.keys(sort).map((field) => ({
    parts: splitPath(field),
    direction: parseDirection(field, sort[field]),
  }));
  return {
    width: keys.length,
    valueAt: (doc, key) => sortValue(doc, keys[key] as SortKey, compare),
    compareAt: (key, a, b) => (keys[key] as SortKey).direction * compareKeys(a, b, compare),
  };
}

/**
 * Parses a sort specification ({a: 1, 'b.c': -1}); the comparator is stable-sort friendly (0 on ties).
 * With a collation, strings sort by it.
 */
export function compileSort(sort: Document, collation?: CollationSpec): (a: Document, b: Document) => number {
  const compare = collatedValueCompare(collation) ?? compareValues;
  const keys: SortKey[] = Object.keys(sort).map((field) => ({
    parts: splitPath(field),
    direction: parseDirection(field, sort[field]),
  }));
  if (keys.length === 0) return () => 0;
  return (a, b) => {
    for (const key of keys) {
      const order = compareKeys(sortValue(a, key, compare), sortValue(b, key, compare), compare);
      if (order !== 0) return key.direction * order;
    }
    return 0;
  };
}
