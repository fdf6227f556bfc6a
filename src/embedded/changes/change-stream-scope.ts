// Which namespaces a change stream watches: one collection, one database, or the whole cluster.
import { MongoCommandError } from '../errors.js';

/** `{}` = whole cluster, `{db}` = one database, `{db, coll}` = one collection. */
export interface ChangeStreamScope {
  db?: string;
  coll?: string;
}

/** Databases whose traffic is internal: database and cluster streams never show it (as in MongoDB). */
const INTERNAL_DATABASES = new Set(['admin', 'config', 'local']);

function isSystemCollection(coll: string): boolean {
  return coll.startsWith('system.');
}

/**
 * The scope of `aggregate` with `$changeStream` run on `db`: `target` is the collection name, or 1 for a
 * database (or, on `admin` with allChangesForCluster, cluster) stream. Rejects what MongoDB rejects.
 */
export function resolveChangeStreamScope(
  db: string,
  target: string | number,
  allChangesForCluster: boolean,
): ChangeStreamScope {
  const coll = typeof target === 'string' ? target : undefined;
  if (allChangesForCluster) {
    if (db !== 'admin' || coll !== undefined) {
      throw new MongoCommandError(
        'InvalidOptions',
        "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, and " +
          `with no collection name; found ${coll === undefined ? db : `${db}.${coll}`}`,
      );
    }
    return {};
  }
  if (INTERNAL_DATABASES.has(db)) {
    throw new MongoCommandError(
      'InvalidNamespace',
      `$changeStream may not be opened on the internal ${db} database`,
    );
  }
  if (coll === undefined) return { db };
  if (isSystemCollection(coll)) {
    throw new MongoCommandError(
      'InvalidNamespace',
      `$changeStream may not be opened on the internal ${db}.${coll} collection`,
    );
  }
  return { db, coll };
}

/** The `cursor.ns` MongoDB reports for a change stream of this scope. */
export function cursorNamespace(scope: ChangeStreamScope): string {
  if (scope.db === undefined) return 'admin.$cmd.aggregate';
  return scope.coll === undefined ? `${scope.db}.$cmd.aggregate` : `${scope.db}.${scope.coll}`;
}

/** True when changes to collection `coll` of `db` (or to the database itself, coll omitted) are in scope. */
export function scopeIncludes(scope: ChangeStreamScope, db: string, coll?: string): boolean {
  if (scope.db === undefined) {
    return !INTERNAL_DATABASES.has(db) && (coll === undefined || !isSystemCollection(coll));
  }
  if (scope.db !== db) return false;
  if (scope.coll === undefined) return coll === undefined || !isSystemCollection(coll);
  return scope.coll === coll;
}
