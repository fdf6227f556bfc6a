// The collections of every database by name. A database exists while it holds a collection, as in MongoDB.
import type { Collection } from './collection.js';
import type { Namespace } from './oplog-entry.js';

export class Catalog {
  private readonly databases = new Map<string, Map<string, Collection>>();

  get(ns: Namespace): Collection | undefined {
    return this.databases.get(ns.db)?.get(ns.coll);
  }

  /** Registers a collection under its current `ns`. */
  put(collection: Collection): void {
    let db = this.databases.get(collection.ns.db);
    if (!db) {
      db = new Map();
      this.databases.set(collection.ns.db, db);
    }
    db.set(collection.ns.coll, collection);
  }

  /** Removes a collection; the database goes with its last collection. True when it existed. */
  remove(ns: Namespace): boolean {
    const db = this.databases.get(ns.db);
    if (!db?.delete(ns.coll)) return false;
    if (db.size === 0) this.databases.delete(ns.db);
    return true;
  }

  /** Moves a collection to another namespace (the caller made sure the target is free). */
  move(collection: Collection, to: Namespace): void {
    this.remove(collection.ns);
    collection.ns = { ...to };
    this.put(collection);
  }

  /** A function that puts the catalog back as it is now, order included (listCollections answers in this order). */
  checkpoint(): () => void {
    const saved = [...this.databases].map(([name, collections]) => [name, [...collections]] as const);
    return () => {
      this.databases.clear();
      for (const [name, collections] of saved) this.databases.set(name, new Map(collections));
    };
  }

  removeDatabase(name: string): void {
    this.databases.delete(name);
  }

  databaseNames(): string[] {
    return [...this.databases.keys()];
  }

  collections(db: string): Collection[] {
    return [...(this.databases.get(db)?.values() ?? [])];
  }

  all(): Collection[] {
    return [...this.databases.values()].flatMap((collections) => [...collections.values()]);
  }
}
