// A collection as one transaction sees it: the live collection at the transaction's snapshot (earlier versions
// from the VersionHistory) with the transaction's own uncommitted writes laid over it. Writes never touch the live
// collection; they wait in `writes` until the commit applies them.
import type { Document, Timestamp } from 'bson';
import { valueKey } from '../query/index.js';
import type { CollectionIndex } from './collection-index.js';
import { DuplicateKeyError } from './collection-index.js';
import { Collection, ID_INDEX_NAME } from './collection.js';
import { valuesAtPath } from './document-paths.js';
import type { VersionHistory } from './version-history.js';

export interface TransactionSnapshot {
  readonly history: VersionHistory;
  readonly ts: Timestamp;
}

/**
 * Throws WriteConflict when this transaction may not write the document (another writer came first); also claims
 * the unique index keys of the versions it replaces or writes (`versions`).
 */
export type ClaimDocument = (
  collection: TransactionCollection,
  idKey: string,
  versions: readonly (Document | undefined)[],
) => void;

export class TransactionCollection extends Collection {
  /** id key → the transaction's version of the document (null: deleted), in order of first write. */
  readonly writes = new Map<string, Document | null>();

  constructor(
    /** The live collection, or an unregistered empty one for a collection the transaction creates. */
    readonly base: Collection,
    private readonly snapshot: TransactionSnapshot,
    private readonly claim: ClaimDocument,
  ) {
    super(base.ns, base.uuid, base.options);
    // Shared read-only: a transaction checks uniqueness through them and never adds to them.
    for (const [name, index] of base.indexes) this.indexes.set(name, index);
  }

  /** The document under `idKey` in this transaction's view. */
  private view(idKey: string): Document | undefined {
    const written = this.writes.get(idKey);
    if (written !== undefined) return written ?? undefined;
    const version = this.snapshot.history.versionAt(this.base.uuidString, idKey, this.snapshot.ts);
    return version.changed ? version.document : this.base.documents.get(idKey);
  }

  /** Ids whose view may differ from the live collection: written by others since the snapshot, or by us. */
  private divergentIds(): Set<string> {
    const ids = new Set(this.snapshot.history.changedIds(this.base.uuidString, this.snapshot.ts));
    for (const idKey of this.writes.keys()) ids.add(idKey);
    return ids;
  }

  override get size(): number {
    let count = 0;
    for (const _ of this.allDocuments()) count += 1;
    return count;
  }

  override findById(id: unknown): Document | undefined {
    return this.view(valueKey(id));
  }

  override *allDocuments(): Iterable<Document> {
    const divergent = this.divergentIds();
    for (const [idKey, doc] of this.base.documents) {
      if (!divergent.has(idKey)) {
        yield doc;
        continue;
      }
      divergent.delete(idKey);
      const seen = this.view(idKey);
      if (seen) yield seen;
    }
    // Deleted from the live collection since the snapshot, or inserted by this transaction.
    for (const idKey of divergent) {
      const seen = this.view(idKey);
      if (seen) yield seen;
    }
  }

  override candidates(filter: Document): Iterable<Document> {
    const divergent = this.divergentIds();
    if (divergent.size === 0) return this.base.candidates(filter);
    // The live candidates cover every unchanged document that may match; divergent ones are shown as this view
    // sees them, in place (natural order), and those the live collection lacks come last.
    const found: Document[] = [];
    for (const doc of this.base.candidates(filter)) {
      const idKey = valueKey(doc._id);
      if (!divergent.has(idKey)) {
        found.push(doc);
        continue;
      }
      divergent.delete(idKey);
      const seen = this.view(idKey);
      if (seen) found.push(seen);
    }
    for (const idKey of divergent) {
      const seen = this.view(idKey);
      if (seen) found.push(seen);
    }
    return found;
  }

  /** The live indexes do not show this view's writes or its snapshot: its documents are read instead. */
  override countByIndex(): undefined {
    return undefined;
  }

  override orderedCandidates(): undefined {
    return undefined;
  }

  override checkInsert(doc: Document): void {
    const idKey = valueKey(doc._id);
    if (this.view(idKey)) {
      throw new DuplicateKeyError(this.fullName, ID_INDEX_NAME, { _id: 1 }, { _id: doc._id as unknown });
    }
    this.checkUniqueIndexes(doc, idKey);
  }

  override insert(doc: Document): void {
    const idKey = valueKey(doc._id);
    this.claim(this, idKey, [doc]);
    this.checkInsert(doc);
    this.writes.set(idKey, doc);
  }

  override replace(previous: Document, next: Document): void {
    const idKey = valueKey(next._id);
    this.claim(this, idKey, [previous, next]);
    this.checkUniqueIndexes(next, idKey);
    this.writes.set(idKey, next);
  }

  override remove(doc: Document): void {
    const idKey = valueKey(doc._id);
    this.claim(this, idKey, [doc]);
    this.writes.set(idKey, null);
  }

  override addIndex(): void {
    throw new Error('indexes are not built inside a transaction');
  }

  private checkUniqueIndexes(doc: Document, idKey: string): void {
    let divergent: Set<string> | undefined;
    for (const index of this.indexes.values()) {
      if (!index.unique) continue;
      for (const key of index.keysOf(doc).full) {
        divergent ??= this.divergentIds();
        if (this.keyHeldByAnother(index, key, idKey, divergent)) {
          const keyValue: Document = {};
          for (const field of index.fields) keyValue[field] = valuesAtPath(doc, field)[0] ?? null;
          throw new DuplicateKeyError(this.fullName, index.name, index.spec.key, keyValue);
        }
      }
    }
  }

  private keyHeldByAnother(
    index: CollectionIndex,
    key: string,
    idKey: string,
    divergent: ReadonlySet<string>,
  ): boolean {
    // Unchanged documents hold the keys the live index lists; divergent ones are checked as this view sees them.
    for (const holder of index.holders(key)) if (holder !== idKey && !divergent.has(holder)) return true;
    for (const other of divergent) {
      if (other === idKey) continue;
      const seen = this.view(other);
      if (seen && index.keysOf(seen).full.includes(key)) return true;
    }
    return false;
  }
}
