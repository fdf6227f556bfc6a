// What a read sees in a namespace: a collection's stored documents, or a view's pipeline run over its source.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { runPipeline } from '../query/index.js';
import type { Collection } from '../storage/collection.js';
import type { Engine } from '../storage/engine.js';
import type { Namespace } from '../storage/oplog-entry.js';

/** MongoDB limits view chains to 20 levels; this also stops a cycle created by collMod. */
const MAX_VIEW_DEPTH = 20;

export function isView(collection: Collection | undefined): boolean {
  return collection?.options.viewOn !== undefined;
}

/** The documents of `ns` (empty when it does not exist); a view is evaluated over its source, recursively. */
export function readableDocuments(engine: Engine, ns: Namespace, depth = 0): Document[] {
  const collection = engine.getCollection(ns);
  if (!collection) return [];
  const { viewOn, pipeline } = collection.options;
  if (viewOn === undefined) return [...collection.allDocuments()];
  if (depth >= MAX_VIEW_DEPTH) {
    throw new MongoCommandError(
      'ViewDepthLimitExceeded',
      `View depth too deep or view cycle detected: ${ns.coll}`,
    );
  }
  const source = readableDocuments(engine, { db: ns.db, coll: viewOn }, depth + 1);
  return runPipeline(source, pipeline ?? [], {
    resolveCollection: (name) => readableDocuments(engine, { db: ns.db, coll: name }, depth + 1),
  });
}

/** Writes go to collections only: a view is read-only (CommandNotSupportedOnView). */
export function assertWritable(engine: Engine, ns: Namespace): void {
  if (isView(engine.getCollection(ns))) {
    throw new MongoCommandError(
      'CommandNotSupportedOnView',
      `Namespace ${ns.db}.${ns.coll} is a view, not a collection`,
    );
  }
}
