// The documents open transactions hold (first writer wins), and what a write outside any transaction gets when it
// touches one: mongod makes such a write wait for the transaction, so the command layer waits and runs it again.

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
