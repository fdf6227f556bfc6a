// One multi-document transaction: a snapshot of the live engine, the writes it made (applied to its own views
// only), the documents it holds, and the commit that applies everything to the live engine as one atomic batch.
import type { Document, Timestamp } from 'bson';
import { MongoCommandError } from '../errors.js';
import { Collection } from './collection.js';
import { assertValidNamespace, needsNewIndex } from './ddl-checks.js';
import { lockKey, uniqueKeyLock, type DocumentLocks, type LockHolder } from './document-locks.js';
import type { Engine } from './engine.js';
import type { CollectionOptions, IndexSpec, Namespace, UpdateDescription } from './oplog-entry.js';
import { TransactionCollection } from './transaction-collection.js';
import { TransactionEngine } from './transaction-engine.js';

/** A write as the transaction made it, replayed on the live engine in this order at commit. */
export type TransactionOperation =
  | { kind: 'create'; ns: Namespace; options: CollectionOptions; implicit: boolean }
  | { kind: 'createIndexes'; ns: Namespace; specs: IndexSpec[] }
  | { kind: 'insert'; ns: Namespace; document: Document }
  | { kind: 'replace'; ns: Namespace; next: Document; describe: (() => UpdateDescription) | null }
  | { kind: 'delete'; ns: Namespace; id: unknown };

export interface TransactionIdentity {
  /** Unique per server, names the transaction's snapshot in the VersionHistory. */
  readonly id: number;
  readonly lsid: Document;
  readonly txnNumber: number;
}

const CONFLICT_MESSAGE =
  'Caused by :: Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.';

function writeConflict(message: string, cause?: unknown): MongoCommandError {
  return new MongoCommandError('WriteConflict', message, {
    labels: ['TransientTransactionError'],
    ...(cause === undefined ? {} : { cause }),
  });
}

export class Transaction implements LockHolder {
  /** Cluster time of the snapshot: the transaction sees every commit at or before it, and none after. */
  readonly snapshotTs: Timestamp;
  /** What the transaction's commands run against instead of the live engine. */
  readonly engine: TransactionEngine;
  readonly operations: TransactionOperation[] = [];
  private readonly views = new Map<string, TransactionCollection>();
  private readonly held: string[] = [];
  /** Namespaces (`db.coll`) this transaction created: their views start empty and unregistered. */
  private readonly created = new Set<string>();
  private released = false;
  /** Resolves when the transaction ends: writes outside it that wait for its documents go on then. */
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;
  /** Set while the commit applies the writes, which pass the locks this transaction holds. */
  committing = false;

  constructor(
    private readonly live: Engine,
    private readonly locks: DocumentLocks,
    readonly identity: TransactionIdentity,
  ) {
    this.snapshotTs = live.oplog.clusterTime;
    live.history.openSnapshot(identity.id, this.snapshotTs);
    this.engine = new TransactionEngine(live, this);
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  /** The transaction's view of `ns`, or undefined when the collection exists neither live nor in it. */
  view(ns: Namespace): TransactionCollection | undefined {
    const key = `${ns.db}.${ns.coll}`;
    const known = this.views.get(key);
    if (known) return known;
    const base = this.live.getCollection(ns);
    if (!base) return undefined;
    const view = new TransactionCollection(base, this.snapshot, this.claim);
    this.views.set(key, view);
    return view;
  }

  /** Creates a collection inside the transaction; others see it once the transaction commits. */
  createView(ns: Namespace, options: CollectionOptions, implicit: boolean): TransactionCollection {
    assertValidNamespace(ns);
    const view = new TransactionCollection(
      new Collection({ ...ns }, undefined, options),
      this.snapshot,
      this.claim,
    );
    const key = `${ns.db}.${ns.coll}`;
    this.views.set(key, view);
    this.created.add(key);
    this.operations.push({ kind: 'create', ns: { ...ns }, options, implicit });
    return view;
  }

  /**
   * createIndexes inside the transaction, as mongod ≥ 4.4 allows it: on a collection that does not exist yet (created
   * here, implicitly) or that this transaction created and that holds no documents. Built on the transaction's own
   * collection (its unique indexes hold for the writes that follow), applied to the live engine at commit.
   */
  createIndexes(
    ns: Namespace,
    specs: IndexSpec[],
  ): { before: number; after: number; createdCollection: boolean } {
    const key = `${ns.db}.${ns.coll}`;
    const existing = this.view(ns);
    if (existing && !this.created.has(key)) {
      throw new MongoCommandError(
        'OperationNotSupportedInTransaction',
        `Cannot create new indexes on existing collection ${key} in a multi-document transaction.`,
      );
    }
    if (existing && existing.size > 0) {
      throw new MongoCommandError(
        'OperationNotSupportedInTransaction',
        `Cannot create new indexes on non-empty collection ${key} in a multi-document transaction.`,
      );
    }
    const view = existing ?? this.createView(ns, {}, true);
    const before = view.indexes.size + 1;
    const built: IndexSpec[] = [];
    for (const spec of specs) {
      if (!needsNewIndex(view, spec)) continue;
      // The view's base is the transaction's own unregistered (and empty) collection: nobody else sees it.
      view.base.addIndex(spec);
      view.indexes.set(spec.name, view.base.indexes.get(spec.name)!);
      built.push(spec);
    }
    if (built.length > 0) this.operations.push({ kind: 'createIndexes', ns: { ...ns }, specs: built });
    return { before, after: view.indexes.size + 1, createdCollection: existing === undefined };
  }

  private get snapshot(): { history: Engine['history']; ts: Timestamp } {
    return { history: this.live.history, ts: this.snapshotTs };
  }

  /**
   * First writer wins, as in mongod: a document another open transaction wrote, or that anyone committed after
   * this snapshot, cannot be written here (WriteConflict, which the driver's withTransaction retries).
   */
  private readonly claim = (
    collection: TransactionCollection,
    idKey: string,
    versions: readonly (Document | undefined)[],
  ): void => {
    const uuid = collection.base.uuidString;
    const key = lockKey(uuid, idKey);
    const holder = this.locks.get(key);
    if (holder !== this) {
      if (holder !== undefined || this.live.history.changedSince(uuid, idKey, this.snapshotTs)) {
        throw writeConflict(CONFLICT_MESSAGE);
      }
      this.take(key);
    }
    // Unique keys too: two writers of one key race the unique check, so one of them waits or conflicts.
    for (const index of collection.indexes.values()) {
      if (!index.unique) continue;
      for (const version of versions) {
        if (!version) continue;
        for (const indexKey of index.keysOf(version).full) {
          const uniqueKey = uniqueKeyLock(uuid, index.name, indexKey);
          const keyHolder = this.locks.get(uniqueKey);
          if (keyHolder === this) continue;
          if (keyHolder !== undefined) throw writeConflict(CONFLICT_MESSAGE);
          this.take(uniqueKey);
        }
      }
    }
  };

  private take(key: string): void {
    this.locks.set(key, this);
    this.held.push(key);
  }

  /**
   * Applies every write to the live engine in one atomic batch (one journal record, change events carrying the
   * session and txnNumber). Writes outside any transaction wait for the documents it holds, but DDL (a drop and
   * re-create) does not: when a document it wrote changed since, nothing is applied and the commit fails with
   * WriteConflict.
   */
  commit(): void {
    try {
      for (const [key, view] of this.views) {
        // Dropped (or renamed away) and perhaps created again since: its documents are not the ones written here.
        if (
          view.writes.size > 0 &&
          !this.created.has(key) &&
          this.live.getCollection(view.ns) !== view.base
        ) {
          throw writeConflict(`collection ${key} was dropped while this transaction wrote to it`);
        }
        for (const idKey of view.writes.keys()) {
          if (this.live.history.changedSince(view.base.uuidString, idKey, this.snapshotTs)) {
            throw writeConflict('a document this transaction wrote was written by another operation first');
          }
        }
      }
      if (this.operations.length === 0) return;
      const { lsid, txnNumber } = this.identity;
      this.committing = true;
      try {
        this.live.writeAtomically(
          () => {
            for (const operation of this.operations) this.apply(operation);
          },
          { lsid, txnNumber },
        );
      } catch (error) {
        if (!(error instanceof MongoCommandError)) throw error;
        throw writeConflict(`the transaction conflicts with a concurrent write: ${error.message}`, error);
      }
    } finally {
      this.release();
    }
  }

  /** Drops the transaction's writes and frees what it held. */
  abort(): void {
    this.release();
  }

  private apply(operation: TransactionOperation): void {
    const live = this.live;
    switch (operation.kind) {
      case 'create':
        if (operation.implicit) live.ensureCollection(operation.ns);
        else live.createCollection(operation.ns, operation.options);
        return;
      case 'createIndexes':
        live.createIndexes(operation.ns, operation.specs);
        return;
      case 'insert':
        live.insertDocument(live.ensureCollection(operation.ns), operation.document);
        return;
      case 'replace': {
        const collection = live.requireCollection(operation.ns);
        const current = collection.findById(operation.next._id);
        if (!current) throw new MongoCommandError('NoMatchingDocument', 'the document was deleted meanwhile');
        live.replaceDocument(collection, current, operation.next, operation.describe);
        return;
      }
      case 'delete': {
        const collection = live.getCollection(operation.ns);
        const current = collection?.findById(operation.id);
        if (collection && current) live.deleteDocument(collection, current);
        return;
      }
    }
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.committing = false;
    for (const key of this.held) if (this.locks.get(key) === this) this.locks.delete(key);
    this.live.history.closeSnapshot(this.identity.id);
    // The session keeps this object to answer a retried commit; the documents it wrote need not stay in memory.
    this.operations.length = 0;
    this.views.clear();
    this.created.clear();
    this.held.length = 0;
    this.resolveFinished();
  }
}
