// The engine a command inside a transaction runs against: the same interface as the live Engine, so every command
// handler works unchanged, but reads see the transaction's snapshot and writes go to the transaction only.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import type { Collection } from './collection.js';
import { Engine } from './engine.js';
import type { CollectionOptions, IndexSpec, Namespace, UpdateDescription } from './oplog-entry.js';
import type { Transaction } from './transaction.js';
import { TransactionCollection } from './transaction-collection.js';

function notInTransaction(what: string): MongoCommandError {
  return new MongoCommandError(
    'OperationNotSupportedInTransaction',
    `Cannot run '${what}' in a multi-document transaction.`,
  );
}

function asView(collection: Collection): TransactionCollection {
  if (!(collection instanceof TransactionCollection)) {
    throw new Error('a transaction wrote to a collection outside its own views');
  }
  return collection;
}

export class TransactionEngine extends Engine {
  constructor(
    private readonly live: Engine,
    private readonly transaction: Transaction,
  ) {
    super({ historySize: 1 }, { oplog: live.oplog, history: live.history });
  }

  // A transaction's writes are batched by the transaction itself and reach the oplog at commit.
  override write<T>(fn: () => T): T {
    return fn();
  }

  override writeAtomically<T>(): T {
    throw new Error('a transaction does not commit from inside itself');
  }

  override getCollection(ns: Namespace): Collection | undefined {
    return this.transaction.view(ns);
  }

  override ensureCollection(ns: Namespace): Collection {
    return this.transaction.view(ns) ?? this.transaction.createView(ns, {}, true);
  }

  override createCollection(ns: Namespace, options: CollectionOptions = {}): Collection {
    if (this.transaction.view(ns)) {
      throw new MongoCommandError('NamespaceExists', `Collection ${ns.db}.${ns.coll} already exists.`);
    }
    return this.transaction.createView(ns, options, false);
  }

  override databaseNames(): string[] {
    return this.live.databaseNames();
  }

  override collections(db: string): Collection[] {
    return this.live.collections(db).flatMap((collection) => this.transaction.view(collection.ns) ?? []);
  }

  override allCollections(): Collection[] {
    return this.live.allCollections().flatMap((collection) => this.transaction.view(collection.ns) ?? []);
  }

  override insertDocument(collection: Collection, doc: Document): void {
    const view = asView(collection);
    view.insert(doc);
    this.transaction.operations.push({ kind: 'insert', ns: { ...view.ns }, document: doc });
  }

  override replaceDocument(
    collection: Collection,
    previous: Document,
    next: Document,
    describe: (() => UpdateDescription) | null,
  ): void {
    const view = asView(collection);
    view.replace(previous, next);
    this.transaction.operations.push({ kind: 'replace', ns: { ...view.ns }, next, describe });
  }

  override deleteDocument(collection: Collection, doc: Document): void {
    const view = asView(collection);
    view.remove(doc);
    this.transaction.operations.push({ kind: 'delete', ns: { ...view.ns }, id: doc._id as unknown });
  }

  override modifyCollection(): CollectionOptions {
    throw notInTransaction('collMod');
  }

  override dropCollection(): boolean {
    throw notInTransaction('drop');
  }

  override dropDatabase(): void {
    throw notInTransaction('dropDatabase');
  }

  override renameCollection(): void {
    throw notInTransaction('renameCollection');
  }

  override createIndexes(
    ns: Namespace,
    specs: IndexSpec[],
  ): { before: number; after: number; createdCollection: boolean } {
    return this.transaction.createIndexes(ns, specs);
  }

  override dropIndexes(): void {
    throw notInTransaction('dropIndexes');
  }
}
