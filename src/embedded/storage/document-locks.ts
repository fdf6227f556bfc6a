// The documents open transactions hold (first writer wins), and what a write outside any transaction gets when it
// touches one: mongod makes such a write wait for the transaction, so the command layer waits and runs it again.
import type { Document } from 'bson';
import { valueKey } from '../query/index.js';
import type { Collection } from './collection.js';

/** An open transaction as the lock table sees it. */
export interface LockHolder {
  /** Resolves once the transaction has committed or aborted and no longer holds anything. */
  readonly finished: Promise<void>;
  /** True while its own commit applies its writes to the live engine (they pass the locks it holds). */
  readonly committing: boolean;
}

/** Holder of each locked document, by `lockKey`. */
export type DocumentLocks = Map<string, LockHolder>;

/** By collection UUID: a collection dropped and created again starts with no locks. */
export function lockKey(collectionUuid: string, idKey: string): string {
  return `${collectionUuid}\0${idKey}`;
}

/**
 * A unique index key a transaction's documents hold (before or after its writes): another writer putting the same
 * key in would race the commit's unique check, so it waits too, as on mongod's index entries. `\x01` after the
 * fixed-length UUID keeps these apart from document locks.
 */
export function uniqueKeyLock(collectionUuid: string, indexName: string, key: string): string {
  return `${collectionUuid}\x01${indexName}\0${key}`;
}

/**
 * Thrown by the live engine before it changes a document another transaction holds. Not a command error: it never
 * reaches a client. The dispatcher undoes the attempt, waits for `holder` and runs the command again.
 */
export class DocumentLockedError extends Error {
  constructor(
    readonly holder: LockHolder,
    namespace: string,
  ) {
    super(`a document of ${namespace} is held by an open transaction`);
    this.name = 'DocumentLockedError';
  }
}

/** The open transaction holding the document, unless it is the one applying its own commit. */
export function documentHolder(
  locks: DocumentLocks,
  collection: Collection,
  id: unknown,
): LockHolder | undefined {
  if (locks.size === 0) return undefined;
  const holder = locks.get(lockKey(collection.uuidString, valueKey(id)));
  return holder?.committing === false ? holder : undefined;
}

function uniqueKeyHolder(
  locks: DocumentLocks,
  collection: Collection,
  doc: Document,
): LockHolder | undefined {
  for (const index of collection.indexes.values()) {
    if (!index.unique) continue;
    for (const key of index.keysOf(doc).full) {
      const holder = locks.get(uniqueKeyLock(collection.uuidString, index.name, key));
      if (holder?.committing === false) return holder;
    }
  }
  return undefined;
}

/**
 * Throws DocumentLockedError when an open transaction holds the document `id`, or a unique index key of `doc` (the
 * version about to be written): the write would overwrite, or race, what the transaction has not committed yet.
 */
export function assertUnlocked(
  locks: DocumentLocks,
  collection: Collection,
  id: unknown,
  doc?: Document,
): void {
  const holder = documentHolder(locks, collection, id) ?? (doc && uniqueKeyHolder(locks, collection, doc));
  if (holder) throw new DocumentLockedError(holder, collection.fullName);
}
