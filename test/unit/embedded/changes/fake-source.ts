// A tiny in-memory stand-in for the storage engine: keeps documents per namespace and appends oplog
// entries the way Engine does (one per changed document, drop entries before dropDatabase).
import type { Document } from '../../../../src/embedded/query/index.js';
import type { ChangeStreamSource } from '../../../../src/embedded/changes/index.js';
import { Oplog } from '../../../../src/embedded/storage/oplog.js';
import type {
  CollectionOptions,
  Namespace,
  OplogEntry,
  UpdateDescription,
} from '../../../../src/embedded/storage/oplog-entry.js';

type EntryWithoutClock = OplogEntry extends infer E
  ? E extends OplogEntry
    ? Omit<E, 'ts' | 'wallTime'>
    : never
  : never;

export class FakeSource implements ChangeStreamSource {
  readonly oplog: Oplog;
  private readonly collections = new Map<
    string,
    { options: CollectionOptions; docs: Map<unknown, Document> }
  >();

  constructor(maxEntries = 1000) {
    this.oplog = new Oplog({ maxEntries });
  }

  findDocumentById(ns: Namespace, id: unknown): Document | null {
    return this.collections.get(`${ns.db}.${ns.coll}`)?.docs.get(id) ?? null;
  }

  collectionOptions(ns: Namespace): CollectionOptions | null {
    return this.collections.get(`${ns.db}.${ns.coll}`)?.options ?? null;
  }

  /** Appends one entry with the next cluster time and returns it. */
  append(entry: EntryWithoutClock): OplogEntry {
    const full = { ...entry, ts: this.oplog.nextTimestamp(), wallTime: new Date() };
    this.oplog.append([full]);
    return full;
  }

  createCollection(ns: Namespace, options: CollectionOptions = {}): OplogEntry {
    this.collections.set(`${ns.db}.${ns.coll}`, { options, docs: new Map() });
    return this.append({ op: 'create', ns, options, uuid: '0123456789abcdef0123456789abcdef' });
  }

  private collection(ns: Namespace): { options: CollectionOptions; docs: Map<unknown, Document> } {
    const key = `${ns.db}.${ns.coll}`;
    let collection = this.collections.get(key);
    if (collection === undefined) {
      collection = { options: {}, docs: new Map() };
      this.collections.set(key, collection);
    }
    return collection;
  }

  private imagesEnabled(ns: Namespace): boolean {
    return this.collection(ns).options.changeStreamPreAndPostImages?.enabled === true;
  }

  insert(
    ns: Namespace,
    document: Document,
    session: { lsid?: Document; txnNumber?: number } = {},
  ): OplogEntry {
    this.collection(ns).docs.set(document._id, document);
    return this.append({
      op: 'insert',
      ns,
      documentKey: { _id: document._id },
      document,
      imagesEnabled: this.imagesEnabled(ns),
      ...session,
    });
  }

  /** A `$set` update of top-level fields. */
  update(ns: Namespace, id: unknown, set: Document): OplogEntry {
    const docs = this.collection(ns).docs;
    const before = docs.get(id) ?? { _id: id };
    const after = { ...before, ...set };
    docs.set(id, after);
    const enabled = this.imagesEnabled(ns);
    const updateDescription: UpdateDescription = {
      updatedFields: set,
      removedFields: [],
      truncatedArrays: [],
    };
    return this.append({
      op: 'update',
      ns,
      documentKey: { _id: id },
      updateDescription,
      postImage: after,
      imagesEnabled: enabled,
      ...(enabled ? { preImage: before } : {}),
    });
  }

  replace(ns: Namespace, document: Document): OplogEntry {
    const docs = this.collection(ns).docs;
    const before = docs.get(document._id);
    docs.set(document._id, document);
    const enabled = this.imagesEnabled(ns);
    return this.append({
      op: 'replace',
      ns,
      documentKey: { _id: document._id },
      postImage: document,
      imagesEnabled: enabled,
      ...(enabled && before ? { preImage: before } : {}),
    });
  }

  delete(ns: Namespace, id: unknown): OplogEntry {
    const docs = this.collection(ns).docs;
    const before = docs.get(id);
    docs.delete(id);
    const enabled = this.imagesEnabled(ns);
    return this.append({
      op: 'delete',
      ns,
      documentKey: { _id: id },
      imagesEnabled: enabled,
      ...(enabled && before ? { preImage: before } : {}),
    });
  }

  drop(ns: Namespace): OplogEntry {
    this.collections.delete(`${ns.db}.${ns.coll}`);
    return this.append({ op: 'drop', ns });
  }

  rename(ns: Namespace, to: Namespace): OplogEntry {
    const collection = this.collection(ns);
    this.collections.delete(`${ns.db}.${ns.coll}`);
    this.collections.set(`${to.db}.${to.coll}`, collection);
    return this.append({ op: 'rename', ns, to, dropTarget: false });
  }

  /** Like Engine: one drop entry per collection of the database, then the dropDatabase entry. */
  dropDatabase(db: string): OplogEntry {
    for (const key of [...this.collections.keys()]) {
      const [database, ...rest] = key.split('.');
      if (database === db) this.drop({ db, coll: rest.join('.') });
    }
    return this.append({ op: 'dropDatabase', ns: { db } });
  }
}

/** Splits a change event's fields that vary per run (tokens, times) from the ones a test asserts. */
export function stable(event: Document | undefined): Document {
  if (event === undefined) throw new Error('expected an event');
  const { _id, clusterTime: _clusterTime, wallTime: _wallTime, ...rest } = event;
  return rest;
}
