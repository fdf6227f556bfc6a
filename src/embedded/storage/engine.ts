// The storage engine: databases, collections, and the oplog every mutation is recorded in.
import { UUID, type Document, type Timestamp } from 'bson';
import { MongoCommandError } from '../errors.js';
import { valueKey } from '../query/index.js';
import { Catalog } from './catalog.js';
import { Collection, ID_INDEX_NAME } from './collection.js';
import { assertValidNamespace, needsNewIndex } from './ddl-checks.js';
import { assertUnlocked, documentHolder, type DocumentLocks } from './document-locks.js';
import { Oplog } from './oplog.js';
import { replayEntry } from './replay-entry.js';
import { VersionHistory } from './version-history.js';
import type {
  CollectionOptions,
  IndexSpec,
  Namespace,
  OplogEntry,
  UpdateDescription,
} from './oplog-entry.js';

export interface EngineOptions {
  /** Oplog entries kept for change streams. */
  historySize: number;
}

export interface WriteSession {
  lsid?: Document;
  txnNumber?: number;
}

/** `atomic`: the entries are one transaction's commit, all or nothing (the journal writes them as one record). */
export type CommitListener = (entries: readonly OplogEntry[], batch: { atomic: boolean }) => void;

/**
 * The journal, written ahead of publication: each batch goes to `append` before the oplog (change streams, cluster
 * time) sees it; when `append` throws, the engine undoes the batch and publishes nothing.
 */
export interface WriteAheadLog {
  /** Throws when writes are refused (the journal failed earlier, or is closed); checked before a batch starts. */
  assertWritable(): void;
  append(entries: readonly OplogEntry[], batch: { atomic: boolean }): void;
}

/** An entry before the engine stamps it; distributive so each variant keeps its own fields. */
type Pending = OplogEntry extends unknown
  ? OplogEntry extends infer E
    ? E extends OplogEntry
      ? Omit<E, 'ts' | 'wallTime'>
      : never
    : never
  : never;

export class Engine {
  readonly oplog: Oplog;
  /** Earlier document versions, recorded only while a transaction's snapshot is open. */
  readonly history: VersionHistory;
  /** Documents held by open transactions: writes made here (outside them) refuse to touch those. */
  readonly documentLocks: DocumentLocks = new Map();
  private readonly catalog = new Catalog();
  private readonly listeners: CommitListener[] = [];
  private journal: WriteAheadLog | null = null;
  private pending: OplogEntry[] | null = null;
  private session: WriteSession = {};
  /** Inverse of each mutation of the current batch when it may have to be undone (atomic or journaled), else null. */
  private undo: (() => void)[] | null = null;

  /** `shared` hands a transaction's engine the live oplog and history instead of new ones. */
  constructor(options: EngineOptions, shared?: { oplog: Oplog; history: VersionHistory }) {
    this.oplog = shared?.oplog ?? new Oplog({ maxEntries: options.historySize });
    this.history = shared?.history ?? new VersionHistory();
  }

  /** Called with every batch of entries once it is journaled and published. */
  onCommit(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  /** Journals every batch before it is published (`--dbpath`); see WriteAheadLog. */
  useWriteAheadLog(journal: WriteAheadLog): void {
    this.journal = journal;
  }

  /**
   * Runs `fn` as one write batch: the entries it records are appended to the oplog together, even when it
   * throws part-way (an ordered insert that stops at a duplicate keeps what it inserted). The session of a write
   * outside a transaction is not recorded: MongoDB shows lsid/txnNumber only on change events of transactions
   * (writeAtomically).
   */
  write<T>(fn: () => T, _session?: WriteSession): T {
    if (this.pending) return fn();
    // A refused write changes nothing, so the undo below runs at most once in a store's life.
    this.journal?.assertWritable();
    const entries: OplogEntry[] = [];
    const undo = this.journal ? [] : null;
    const clockBefore = this.oplog.clusterTime;
    this.pending = entries;
    this.session = {};
    this.undo = undo;
    try {
      return fn();
    } finally {
      this.pending = null;
      this.session = {};
      this.undo = null;
      if (entries.length > 0) this.publish(entries, false, undo, clockBefore);
    }
  }

  /**
   * Runs `fn` as one write batch that is all or nothing: when it throws, every mutation it made is undone and
   * nothing reaches the oplog (a transaction's commit). Its entries are published as one atomic batch.
   */
  writeAtomically<T>(fn: () => T, session: WriteSession): T {
    if (this.pending) throw new Error('Engine.writeAtomically() inside another write batch');
    this.journal?.assertWritable();
    const entries: OplogEntry[] = [];
    const undo: (() => void)[] = [];
    this.pending = entries;
    this.session = session;
    this.undo = undo;
    const clockBefore = this.oplog.clusterTime;
    let committed = false;
    try {
      const result = fn();
      committed = true;
      return result;
    } finally {
      this.pending = null;
      this.session = {};
      this.undo = null;
      if (!committed) {
        runUndo(undo);
        this.oplog.releaseTimestampsAfter(clockBefore);
      } else if (entries.length > 0) this.publish(entries, true, undo, clockBefore);
    }
  }

  /**
   * Write-ahead: the journal first; only a batch it accepted reaches the oplog (change streams, cluster time) and
   * the listeners. A batch it refused is undone, and its timestamps are taken back, so nothing of it is visible.
   */
  private publish(
    entries: OplogEntry[],
    atomic: boolean,
    undo: (() => void)[] | null,
    clockBefore: Timestamp,
  ): void {
    const batch = { atomic };
    if (this.journal) {
      try {
        this.journal.append(entries, batch);
      } catch (error) {
        if (undo) runUndo(undo);
        this.oplog.releaseTimestampsAfter(clockBefore);
        throw error;
      }
    }
    this.oplog.append(entries);
    for (const listener of this.listeners) listener(entries, batch);
  }

  /** Keeps a document's previous version (`before`) for the open snapshots, and how to forget it on a rollback. */
  private track(collection: Collection, id: unknown, entry: Pending, before: Document | undefined): void {
    const idKey = valueKey(id);
    const uuid = collection.uuidString;
    this.history.record(uuid, idKey, (entry as OplogEntry).ts, before);
    this.undo?.push(() => this.history.unrecord(uuid, idKey));
  }

  /** Stamps `entry` (a fresh object from the caller) in place: a spread copy with added fields is slow in V8. */
  private record(entry: Pending): void {
    if (!this.pending) throw new Error('storage mutation outside Engine.write()');
    const full = entry as OplogEntry;
    full.ts = this.oplog.nextTimestamp();
    full.wallTime = new Date();
    if (this.session.lsid) full.lsid = this.session.lsid;
    if (this.session.txnNumber !== undefined) full.txnNumber = this.session.txnNumber;
    this.pending.push(full);
  }

  // ---- reading ------------------------------------------------------------------------------------------

  getCollection(ns: Namespace): Collection | undefined {
    return this.catalog.get(ns);
  }

  databaseNames(): string[] {
    return this.catalog.databaseNames();
  }

  collections(db: string): Collection[] {
    return this.catalog.collections(db);
  }

  allCollections(): Collection[] {
    return this.catalog.all();
  }

  // ---- collections -------------------------------------------------------------------------------------

  /** Creates a collection; an explicit create of an existing one with other options fails (48). */
  createCollection(ns: Namespace, options: CollectionOptions = {}): Collection {
    return this.write(() => {
      assertValidNamespace(ns);
      const existing = this.getCollection(ns);
      if (existing) {
        if (JSON.stringify(existing.options) !== JSON.stringify(options)) {
          throw new MongoCommandError('NamespaceExists', `Collection ${ns.db}.${ns.coll} already exists.`);
        }
        return existing;
      }
      return this.addCollection(ns, options);
    });
  }

  /** The collection, created implicitly (as an insert or createIndexes does) when missing. */
  ensureCollection(ns: Namespace): Collection {
    return this.getCollection(ns) ?? (assertValidNamespace(ns), this.addCollection(ns, {}));
  }

  private addCollection(ns: Namespace, options: CollectionOptions): Collection {
    return this.write(() => {
      const collection = new Collection({ ...ns }, new UUID(), options);
      if (this.undo) this.undo.push(this.catalog.checkpoint());
      this.catalog.put(collection);
      this.record({ op: 'create', ns: { ...ns }, options, uuid: collection.uuid.toHexString() });
      return collection;
    });
  }

  modifyCollection(ns: Namespace, options: CollectionOptions): CollectionOptions {
    return this.write(() => {
      const collection = this.requireCollection(ns);
      const previous = collection.options;
      collection.options = { ...collection.options, ...options };
      this.undo?.push(() => (collection.options = previous));
      this.record({ op: 'modify', ns: { ...ns }, options, collectionUuid: collection.uuidString });
      return collection.options;
    });
  }

  dropCollection(ns: Namespace): boolean {
    return this.write(() => {
      const collection = this.catalog.get(ns);
      if (!collection) return false;
      if (this.undo) this.undo.push(this.catalog.checkpoint());
      this.catalog.remove(ns);
      this.record({ op: 'drop', ns: { ...ns }, collectionUuid: collection.uuidString });
      return true;
    });
  }

  dropDatabase(name: string): void {
    this.write(() => {
      const collections = this.catalog.collections(name);
      if (collections.length === 0) return;
      for (const collection of collections) this.dropCollection(collection.ns);
      this.record({ op: 'dropDatabase', ns: { db: name } });
    });
  }

  renameCollection(from: Namespace, to: Namespace, dropTarget: boolean): void {
    this.write(() => {
      assertValidNamespace(to);
      const collection = this.requireCollection(from);
      if (this.undo) {
        const restoreCatalog = this.catalog.checkpoint();
        const previousNs = collection.ns;
        this.undo.push(() => {
          collection.ns = previousNs;
          restoreCatalog();
        });
      }
      const replaced = this.getCollection(to);
      if (replaced) {
        if (!dropTarget) throw new MongoCommandError('NamespaceExists', `target namespace exists`);
        this.dropCollection(to);
      }
      this.catalog.move(collection, to);
      this.record({
        op: 'rename',
        ns: { ...from },
        to: { ...to },
        dropTarget,
        collectionUuid: collection.uuidString,
        ...(replaced ? { droppedTargetUuid: replaced.uuidString } : {}),
      });
    });
  }

  requireCollection(ns: Namespace): Collection {
    const collection = this.getCollection(ns);
    if (!collection) throw new MongoCommandError('NamespaceNotFound', `ns not found: ${ns.db}.${ns.coll}`);
    return collection;
  }

  // ---- indexes -----------------------------------------------------------------------------------------

  /** Creates the indexes that do not exist yet; returns how many existed before and after. */
  createIndexes(
    ns: Namespace,
    specs: IndexSpec[],
  ): { before: number; after: number; createdCollection: boolean } {
    return this.write(() => this.createIndexesInBatch(ns, specs));
  }

  private createIndexesInBatch(
    ns: Namespace,
    specs: IndexSpec[],
  ): { before: number; after: number; createdCollection: boolean } {
    const createdCollection = !this.getCollection(ns);
    const collection = this.ensureCollection(ns);
    const before = collection.indexes.size + 1;
    const created: IndexSpec[] = [];
    try {
      for (const spec of specs) {
        if (!needsNewIndex(collection, spec)) continue;
        collection.addIndex(spec);
        this.undo?.push(() => collection.indexes.delete(spec.name));
        created.push(spec);
      }
    } catch (error) {
      // All or none, as in mongod: the ones built before the failure would otherwise stay without an oplog entry,
      // in memory but not in the journal.
      for (const spec of created) collection.indexes.delete(spec.name);
      throw error;
    }
    if (created.length > 0) {
      this.record({
        op: 'createIndexes',
        ns: { ...ns },
        indexes: created,
        collectionUuid: collection.uuidString,
      });
    }
    return { before, after: collection.indexes.size + 1, createdCollection };
  }

  dropIndexes(ns: Namespace, names: string[]): void {
    this.write(() => {
      const collection = this.requireCollection(ns);
      if (this.undo) {
        // Back in their order: listIndexes answers in the Map's order.
        const before = [...collection.indexes.entries()];
        this.undo.push(() => {
          collection.indexes.clear();
          for (const [name, index] of before) collection.indexes.set(name, index);
        });
      }
      for (const name of names) collection.indexes.delete(name);
      if (names.length > 0) {
        this.record({ op: 'dropIndexes', ns: { ...ns }, names, collectionUuid: collection.uuidString });
      }
    });
  }

  // ---- documents -----------------------------------------------------------------------------------------

  /** Whether an open transaction holds the document (other than one applying its own commit). */
  isLocked(collection: Collection, id: unknown): boolean {
    return documentHolder(this.documentLocks, collection, id) !== undefined;
  }

  /** Before a write outside any transaction: what an open transaction holds waits for it (document-locks.ts). */
  private assertUnlocked(collection: Collection, id: unknown, doc?: Document): void {
    if (this.documentLocks.size > 0) assertUnlocked(this.documentLocks, collection, id, doc);
  }

  insertDocument(collection: Collection, doc: Document): void {
    this.write(() => {
      this.assertUnlocked(collection, doc._id, doc);
      collection.insert(doc);
      const entry: Pending = {
        op: 'insert',
        ns: { db: collection.ns.db, coll: collection.ns.coll },
        documentKey: { _id: doc._id },
        collectionUuid: collection.uuidString,
        document: doc,
      };
      if (collection.imagesEnabled) entry.imagesEnabled = true;
      this.record(entry);
      this.undo?.push(() => collection.remove(doc));
      if (this.history.recording) this.track(collection, doc._id, entry, undefined);
    });
  }

  /**
   * Stores `next` in place of `previous`: an update entry, or a replace entry when `describe` is null. The update
   * description is computed on first read (a change stream, the journal) and not at all when nothing reads it.
   */
  replaceDocument(
    collection: Collection,
    previous: Document,
    next: Document,
    describe: (() => UpdateDescription) | null,
  ): void {
    this.write(() => {
      this.assertUnlocked(collection, next._id, next);
      collection.replace(previous, next);
      const ns = { db: collection.ns.db, coll: collection.ns.coll };
      const documentKey = { _id: next._id as unknown };
      const entry: Pending = describe
        ? {
            op: 'update',
            ns,
            documentKey,
            collectionUuid: collection.uuidString,
            postImage: next,
            // Enumerable, so the journal and snapshots serialize it like a plain field.
            get updateDescription(): UpdateDescription {
              return describe();
            },
          }
        : { op: 'replace', ns, documentKey, collectionUuid: collection.uuidString, postImage: next };
      if (collection.imagesEnabled) {
        entry.imagesEnabled = true;
        entry.preImage = previous;
      }
      this.record(entry);
      this.undo?.push(() => collection.replace(next, previous));
      if (this.history.recording) this.track(collection, next._id, entry, previous);
    });
  }

  deleteDocument(collection: Collection, doc: Document): void {
    this.write(() => {
      this.assertUnlocked(collection, doc._id);
      collection.remove(doc);
      const entry: Pending = {
        op: 'delete',
        ns: { db: collection.ns.db, coll: collection.ns.coll },
        documentKey: { _id: doc._id },
        collectionUuid: collection.uuidString,
      };
      if (collection.imagesEnabled) {
        entry.imagesEnabled = true;
        entry.preImage = doc;
      }
      this.record(entry);
      this.undo?.push(() => collection.insert(doc));
      if (this.history.recording) this.track(collection, doc._id, entry, doc);
    });
  }

  // ---- persistence -------------------------------------------------------------------------------------

  /** Re-applies a journaled entry after a restart, without recording it again. */
  replay(entry: OplogEntry): void {
    replayEntry(this.catalog, entry);
  }

  /** Restores a collection from a snapshot (persistence only). */
  restoreCollection(
    ns: Namespace,
    uuid: string,
    options: CollectionOptions,
    indexes: IndexSpec[],
    documents: Document[],
  ): void {
    const collection = new Collection({ ...ns }, UUID.createFromHexString(uuid), options);
    for (const doc of documents) collection.insert(doc);
    for (const spec of indexes) if (spec.name !== ID_INDEX_NAME) collection.addIndex(spec);
    this.catalog.put(collection);
  }

  restoreHistory(entries: OplogEntry[], clusterTime: Timestamp, truncatedThrough: Timestamp | null): void {
    this.oplog.restore(entries, clusterTime, truncatedThrough);
  }
}

/** Inverses run newest first, so each one finds the state its mutation left. */
function runUndo(undo: readonly (() => void)[]): void {
  for (let i = undo.length - 1; i >= 0; i -= 1) undo[i]!();
}
