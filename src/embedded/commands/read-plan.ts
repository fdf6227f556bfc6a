// How a find, count or aggregate's leading $match reads a collection: by an index's key order (a sort served by the
// index), by index lookups (equality and $in), or by a collection scan; and the winning plan explain reports for it.
import type { Document } from 'bson';
import type { QueryOptions } from '../query/index.js';
import { ID_INDEX_NAME, type Collection } from '../storage/collection.js';

export interface ReadPlan {
  /** The documents that may match (the caller still applies the filter), in natural or index order. */
  readonly documents: Iterable<Document>;
  /** The documents come in the requested sort order already. */
  readonly sorted: boolean;
  /** The index read (undefined: a collection scan), and in which direction; what explain reports. */
  readonly indexName: string | undefined;
  readonly direction: 1 | -1;
}

/** The read plan for `filter` (and `sort`) on a collection that is not a view. Plain data: it is on the hot path. */
export function planRead(
  collection: Collection,
  filter: Document,
  sort: Document | undefined,
  options: QueryOptions,
): ReadPlan {
  const hasSort = sort !== undefined && Object.keys(sort).length > 0;
  // Index keys are binary: under a non-simple collation a collated equality can match another key.
  if (options.collation && options.collation.locale !== 'simple') {
    return { documents: collection.allDocuments(), sorted: false, indexName: undefined, direction: 1 };
  }
  const lookup = collection.plan(filter);
  const lookupIndex = lookup.indexName;
  // Nothing beats finding documents by _id, unless a sort could be served by an index walk.
  const ordered =
    lookupIndex === ID_INDEX_NAME && !hasSort
      ? undefined
      : collection.orderedCandidates(filter, hasSort ? sort : undefined);
  // An index walk wins unless the hash lookups use another index and the walk narrows nothing (a bare sort).
  const narrows = ordered !== undefined && (ordered.pinned > 0 || ordered.ranged);
  if (ordered && (lookupIndex === undefined || (narrows && lookupIndex !== ID_INDEX_NAME))) {
    const { documents, sorted, indexName, direction } = ordered;
    return { documents, sorted, indexName, direction };
  }
  // A transaction's view overrides candidates (its snapshot and own writes); the live collection reuses the lookup.
  const documents = collection.candidates(filter, lookup);
  return { documents, sorted: false, indexName: lookupIndex, direction: 1 };
}

/** The plan as mongod's explain shows it in queryPlanner.winningPlan (FETCH/IXSCAN, COLLSCAN, SORT). */
export function winningPlanOf(
  collection: Collection,
  plan: ReadPlan,
  filter: Document,
  sort: Document | undefined,
): Document {
  const read =
    plan.indexName === undefined
      ? collscan(filter)
      : fetch(filter, ixscan(collection, plan.indexName, plan.direction));
  const hasSort = sort !== undefined && Object.keys(sort).length > 0;
  return hasSort && !plan.sorted ? { stage: 'SORT', sortPattern: sort, inputStage: read } : read;
}

function collscan(filter: Document): Document {
  return { stage: 'COLLSCAN', filter, direction: 'forward' };
}

function fetch(filter: Document, input: Document): Document {
  return { stage: 'FETCH', filter, inputStage: input };
}

function ixscan(collection: Collection, indexName: string, direction: 1 | -1): Document {
  const spec = collection.indexSpecs().find((candidate) => candidate.name === indexName);
  return {
    stage: 'IXSCAN',
    keyPattern: spec?.key ?? {},
    indexName,
    isMultiKey: collection.indexes.get(indexName)?.multikey ?? false,
    direction: direction === 1 ? 'forward' : 'backward',
  };
}
