// Re-applies journaled oplog entries to the catalog after a restart, without recording them again.
import { UUID } from 'bson';
import type { Catalog } from './catalog.js';
import { Collection } from './collection.js';
import type { Namespace, OplogEntry } from './oplog-entry.js';

/** The collection an entry writes to; a document entry may precede its `create` in an old journal. */
function collectionFor(catalog: Catalog, ns: Namespace): Collection {
  const existing = catalog.get(ns);
  if (existing) return existing;
  const collection = new Collection({ ...ns });
  catalog.put(collection);
  return collection;
}

export function replayEntry(catalog: Catalog, entry: OplogEntry): void {
  switch (entry.op) {
    case 'create':
      if (!catalog.get(entry.ns)) {
        catalog.put(new Collection({ ...entry.ns }, UUID.createFromHexString(entry.uuid), entry.options));
      }
      return;
    case 'modify': {
      const collection = catalog.get(entry.ns);
      if (collection) collection.options = { ...collection.options, ...entry.options };
      return;
    }
    case 'createIndexes': {
      const collection = catalog.get(entry.ns);
      for (const spec of entry.indexes) collection?.addIndex(spec);
      return;
    }
    case 'dropIndexes': {
      const collection = catalog.get(entry.ns);
      for (const name of entry.names) collection?.indexes.delete(name);
      return;
    }
    case 'drop':
      catalog.remove(entry.ns);
      return;
    case 'dropDatabase':
      catalog.removeDatabase(entry.ns.db);
      return;
    case 'rename': {
      const collection = catalog.get(entry.ns);
      if (!collection) return;
      catalog.remove(entry.to);
      catalog.move(collection, entry.to);
      return;
    }
    case 'insert':
      collectionFor(catalog, entry.ns).insert(entry.document);
      return;
    case 'update':
    case 'replace': {
      const collection = collectionFor(catalog, entry.ns);
      const previous = collection.findById(entry.documentKey._id);
      if (previous) collection.replace(previous, entry.postImage);
      else collection.insert(entry.postImage);
      return;
    }
    case 'delete': {
      const collection = catalog.get(entry.ns);
      const previous = collection?.findById(entry.documentKey._id);
      if (collection && previous) collection.remove(previous);
      return;
    }
  }
}
