// A command's `hint`, resolved against the collection's indexes: one naming no index is refused as mongod's planner
// refuses it, and the resolved index serves find's returnKey and min/max.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { compareValues } from '../query/index.js';
import type { Collection } from '../storage/collection.js';
import type { IndexSpec } from '../storage/oplog-entry.js';
import { isView } from './readable-documents.js';

export type ResolvedHint = { kind: 'natural'; direction: 1 | -1 } | { kind: 'index'; spec: IndexSpec };

/** mongod's planner message (query_planner.cpp), with its code BadValue (2). */
export const UNKNOWN_HINT_MESSAGE = 'hint provided does not correspond to an existing index';

/**
 * The index (or natural order) a hint names, or undefined when there is no hint. A missing collection or a view has
 * no plan to hint, so mongod answers without checking; so does this. An empty hint (`{}`, `''`) is no hint.
 */
export function resolveHint(collection: Collection | undefined, hint: unknown): ResolvedHint | undefined {
  if (hint === undefined || hint === null || hint === '') return undefined;
  if (typeof hint !== 'string' && (typeof hint !== 'object' || Array.isArray(hint))) {
    throw new MongoCommandError('FailedToParse', 'Hint must be either a string or nested object');
  }
  if (typeof hint === 'object' && Object.keys(hint).length === 0) return undefined;
  if (typeof hint === 'object' && '$natural' in hint) {
    const direction = compareValues((hint as Document).$natural, 0) < 0 ? -1 : 1;
    return { kind: 'natural', direction };
  }
  if (!collection || isView(collection)) return undefined;
  const spec = collection
    .indexSpecs()
    .find((candidate) =>
      typeof hint === 'string' ? candidate.name === hint : sameKeyPattern(candidate.key, hint),
    );
  if (!spec) throw new MongoCommandError('BadValue', UNKNOWN_HINT_MESSAGE);
  return { kind: 'index', spec };
}

/** Same fields in the same order with equal values (`{a: 1}` matches `{a: 1.0}`, `{a: 'hashed'}` only itself). */
function sameKeyPattern(key: Document, hint: Document): boolean {
  const keyFields = Object.keys(key);
  const hintFields = Object.keys(hint);
  if (keyFields.length !== hintFields.length) return false;
  return keyFields.every(
    (field, position) => hintFields[position] === field && compareValues(key[field], hint[field]) === 0,
  );
}
