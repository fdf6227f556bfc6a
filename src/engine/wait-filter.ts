// The filter a wait step's `match` returned, checked before it is stored: a plain document with at least one
// top-level equality field, which is how a changed document finds the wait (model/wait-keys.ts).
import { SagastreamError } from '../errors/index.js';
import { waitKeysOfFilter } from '../model/wait-keys.js';

/**
 * The wait keys of `filter` on namespace `ns`.
 * @throws SagastreamError `INVALID_WAIT_FILTER` when `filter` is not a document or has no equality field.
 */
export function checkedWaitKeys(ns: string, filter: unknown, step: string): string[] {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw new SagastreamError(
      'INVALID_WAIT_FILTER',
      `wait "${step}": match must return a MongoDB filter document, got ${Array.isArray(filter) ? 'an array' : typeof filter}`,
    );
  }
  const keys = waitKeysOfFilter(ns, filter);
  if (keys.length === 0) {
    throw new SagastreamError(
      'INVALID_WAIT_FILTER',
      `wait "${step}": match must compare at least one top-level field for equality (like { orderId: ctx.input.orderId }), so the wait can be found through an index`,
    );
  }
  return keys;
}
