// What a filter says about one field in terms an index can use: the values it pins by equality, and the range
// its comparison operators bound.
import { isPlainDocument } from '../query/index.js';

/**
 * The values a filter condition pins a field to by plain equality (`v`, `{$eq: v}`, `{$in: [..]}`), or
 * undefined when it does not. Arrays, regexes, null and sub-documents are left to a scan: their matching rules
 * (element match, missing fields) do not map to one index key.
 */
export function equalityValues(condition: unknown): unknown[] | undefined {
  if (condition === undefined) return undefined;
  if (isIndexableScalar(condition)) return [condition];
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) return undefined;
  const operators = Object.keys(condition);
  if (operators.length !== 1) return undefined;
  const record = condition as Record<string, unknown>;
  if ('$eq' in record && isIndexableScalar(record.$eq)) return [record.$eq];
  if ('$in' in record && Array.isArray(record.$in) && record.$in.every(isIndexableScalar))
    return record.$in as unknown[];
  return undefined;
}

function isIndexableScalar(value: unknown): boolean {
  if (value === null || value === undefined || Array.isArray(value) || value instanceof RegExp) return false;
  if (typeof value !== 'object') return true;
  if (value instanceof Date) return true;
  // BSON value classes (ObjectId, Long, Decimal128, UUID...) are scalars; plain objects are sub-documents.
  return typeof (value as { _bsontype?: unknown })._bsontype === 'string';
}

/** One end of a range: the bound and whether it is included. */
export interface RangeEnd {
  readonly value: unknown;
  readonly inclusive: boolean;
}

export interface FieldRange {
  readonly lower?: RangeEnd;
  readonly upper?: RangeEnd;
}

/**
 * The range `{$gt | $gte | $lt | $lte: v}` (any of them, on scalars) puts on a field, or undefined when the condition
 * is anything else. Index order is BSON comparison order across types, so the range may hold values of other types
 * than the bounds' (MongoDB's ranges only match their own type): the caller still applies the filter.
 */
export function rangeOf(condition: unknown): FieldRange | undefined {
  if (!isPlainDocument(condition)) return undefined;
  const operators = Object.keys(condition);
  if (operators.length === 0 || operators.length > 2) return undefined;
  let lower: RangeEnd | undefined;
  let upper: RangeEnd | undefined;
  for (const operator of operators) {
    const value: unknown = condition[operator];
    if (!isIndexableScalar(value)) return undefined;
    if (operator === '$gt' || operator === '$gte') {
      if (lower) return undefined;
      lower = { value, inclusive: operator === '$gte' };
    } else if (operator === '$lt' || operator === '$lte') {
      if (upper) return undefined;
      upper = { value, inclusive: operator === '$lte' };
    } else return undefined;
  }
  return { ...(lower ? { lower } : {}), ...(upper ? { upper } : {}) };
}
