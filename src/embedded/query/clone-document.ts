import { Double, Long } from 'bson';
import { isPlainDocument } from './bson-type-name.js';

/**
 * Deep copy of plain objects, arrays, Dates and byte arrays. bson class instances (ObjectId, Long, Binary, ...)
 * are shared: they are treated as immutable values throughout the server.
 */
export function cloneDocument<T>(doc: T): T {
  return cloneValue(doc) as T;
}

function cloneValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneValue);
  if (isPlainDocument(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) copy[key] = cloneValue(value[key]);
    return copy;
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Uint8Array) return value.slice();
  return value;
}

/**
 * Deep copy for mingo's expression operators, which treat a Long as an object ($add fails, $sum skips it):
 * Longs within ±2^53 become numbers there, as promoted Longs always were; larger ones stay Long.
 */
export function cloneForExpressions<T>(doc: T): T {
  return cloneExpressionValue(doc) as T;
}

function cloneExpressionValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneExpressionValue);
  if (isPlainDocument(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) copy[key] = cloneExpressionValue(value[key]);
    return copy;
  }
  // mingo's operators see a bson Double as an object; in expressions it is just its number.
  if (value instanceof Double) return value.value;
  if (value instanceof Long) {
    return value.lessThanOrEqual(Number.MAX_SAFE_INTEGER) && value.greaterThanOrEqual(Number.MIN_SAFE_INTEGER)
      ? value.toNumber()
      : value;
  }
  return cloneValue(value);
}
