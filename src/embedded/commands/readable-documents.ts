// What a read sees in a namespace: a collection's stored documents, or a view's pipeline run over its source.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { foreignCollections, runPipeline, runPipelineInSlices, type PipelineBudget } from '../query/index.js';
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

/**
 * What a read of a namespace sees, taken at once: a collection's documents, or a view's source, its pipeline and the
 * namespaces its stages join, recursively. Stored documents are never modified in place, so evaluating it later, with
 * pauses, reads every namespace as it was when it was taken (the snapshot rule of read-budget.ts).
 */
export type NamespaceSnapshot =
  | { readonly documents: Document[] }
  | {
      readonly source: NamespaceSnapshot;
      readonly pipeline: Document[];
      readonly joined: ReadonlyMap<string, NamespaceSnapshot>;
    };

export function snapshotNamespace(engine: Engine, ns: Namespace, depth = 0): NamespaceSnapshot {
  const collection = engine.getCollection(ns);
  if (!collection) return { documents: [] };
  const { viewOn, pipeline } = collection.options;
  if (viewOn === undefined) return { documents: [...collection.allDocuments()] };
  if (depth >= MAX_VIEW_DEPTH) {
    throw new MongoCommandError(
      'ViewDepthLimitExceeded',
      `View depth too deep or view cycle detected: ${ns.coll}`,
    );
  }
  const stages = pipeline ?? [];
  const joined = new Map<string, NamespaceSnapshot>();
  for (const name of foreignCollections(stages)) {
    joined.set(name, snapshotNamespace(engine, { db: ns.db, coll: name }, depth + 1));
  }
  return {
    source: snapshotNamespace(engine, { db: ns.db, coll: viewOn }, depth + 1),
    pipeline: stages,
    joined,
  };
}

/** The documents a snapshot stands for: a view's pipeline runs in slices under `budget`. */
export async function evaluateSnapshot(
  snapshot: NamespaceSnapshot,
  budget: PipelineBudget,
): Promise<Document[]> {
  if ('documents' in snapshot) return snapshot.documents;
  const source = await evaluateSnapshot(snapshot.source, budget);
  const joined = new Map<string, Document[]>();
  for (const [name, inner] of snapshot.joined) joined.set(name, await evaluateSnapshot(inner, budget));
  return runPipelineInSlices(
    source,
    snapshot.pipeline,
    { resolveCollection: (name) => joined.get(name) ?? [] },
    budget,
  );
}

/** readableDocuments read in slices: the namespace (and all a view reads) is taken before the first pause. */
export function readableDocumentsInSlices(
  engine: Engine,
  ns: Namespace,
  budget: PipelineBudget,
): Promise<Document[]> {
  return evaluateSnapshot(snapshotNamespace(engine, ns), budget);
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
