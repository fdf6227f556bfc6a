// The checks mongod makes before a DDL operation changes anything: valid namespaces, and whether a requested
// index is new, already there, or conflicts with an existing one.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { ID_INDEX_NAME, type Collection } from './collection.js';
import type { IndexSpec, Namespace } from './oplog-entry.js';

const INVALID_DB_CHARS = /[/\\. "$\0]/;

export function assertValidNamespace(ns: Namespace): void {
  if (ns.db.length === 0 || INVALID_DB_CHARS.test(ns.db) || ns.db.length > 63) {
    throw new MongoCommandError('InvalidNamespace', `Invalid database name: '${ns.db}'`);
  }
  if (ns.coll.length === 0 || ns.coll.includes('\0') || ns.coll.startsWith('$') || ns.coll.startsWith('.')) {
    throw new MongoCommandError('InvalidNamespace', `Invalid collection name: '${ns.coll}'`);
  }
}

/**
 * True when `spec` names an index `collection` lacks; false when the same index exists (or it is the `_id` index);
 * throws IndexKeySpecsConflict / IndexOptionsConflict when it clashes with an existing one.
 */
export function needsNewIndex(collection: Collection, spec: IndexSpec): boolean {
  if (spec.name === ID_INDEX_NAME || isIdKey(spec.key)) return false;
  const sameName = collection.indexes.get(spec.name);
  if (sameName) {
    if (JSON.stringify(sameName.spec.key) !== JSON.stringify(spec.key)) {
      throw new MongoCommandError(
        'IndexKeySpecsConflict',
        `An existing index has the same name as the requested index but different keys. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`,
      );
    }
    if (!sameOptions(sameName.spec, spec)) {
      throw new MongoCommandError(
        'IndexOptionsConflict',
        `An existing index has the same name as the requested index but different options. Requested index: ${JSON.stringify(spec)}`,
      );
    }
    return false;
  }
  const sameKey = [...collection.indexes.values()].find(
    (index) => JSON.stringify(index.spec.key) === JSON.stringify(spec.key),
  );
  if (sameKey) {
    throw new MongoCommandError(
      'IndexOptionsConflict',
      `Index already exists with a different name: ${sameKey.spec.name}`,
    );
  }
  return true;
}

function isIdKey(key: Document): boolean {
  const fields = Object.keys(key);
  return fields.length === 1 && fields[0] === '_id';
}

function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  return (
    Boolean(a.unique) === Boolean(b.unique) &&
    Boolean(a.sparse) === Boolean(b.sparse) &&
    JSON.stringify(a.partialFilterExpression ?? null) === JSON.stringify(b.partialFilterExpression ?? null) &&
    (a.expireAfterSeconds ?? null) === (b.expireAfterSeconds ?? null)
  );
}
