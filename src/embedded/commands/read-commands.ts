// find, getMore, killCursors, count and distinct.
import { Long, type Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import {
  applyProjection,
  collatedValueCompare,
  compileFilter,
  compileSort,
  type QueryOptions,
} from '../query/index.js';
import type { Collection } from '../storage/collection.js';
import type { Engine } from '../storage/engine.js';
import type { IndexSpec } from '../storage/oplog-entry.js';
import { valuesAtPath } from '../storage/document-paths.js';
import { compareValues, valueKey } from '../query/index.js';
import {
  collectionName,
  commandNumber,
  optionalArray,
  optionalDocument,
  optionalNumber,
  type CommandContext,
  type CommandHandlerFn,
} from './command-context.js';
import { candidateDocuments, queryOptionsOf } from './query-options.js';
import { compareIndexKeys, indexKeyOf, parseIndexBounds, withinIndexBounds } from './index-bounds.js';
import { resolveHint } from './index-hint.js';
import { isView, readableDocumentsInSlices } from './readable-documents.js';
import { ArrayCursor, type CursorBatch, type ServerCursor } from './cursor-registry.js';
import { filterSliced, ReadBudget, scanSliced } from './read-budget.js';
import { SortedPage } from './sorted-page.js';
import { planRead } from './read-plan.js';

export interface QueryDocumentsOptions {
  sort?: Document;
  skip?: number;
  limit?: number;
  query?: QueryOptions;
  /** The command's `hint`: checked against the indexes; `$natural: -1` reverses the natural order. */
  hint?: unknown;
  /** find's `min`/`max`: bounds on the hinted index, whose order the results then follow. */
  min?: Document;
  max?: Document;
}

/**
 * Matching documents of a collection, in natural order (or `sort` order), with skip/limit applied. Reads in slices
 * under `budget` (read-budget.ts: other commands run in between, and the read sees the collection as it was when it
 * started).
 */
export async function queryDocuments(
  engine: Engine,
  db: string,
  coll: string,
  filter: Document,
  budget: ReadBudget,
  options: QueryDocumentsOptions = {},
): Promise<Document[]> {
  const queryOptions = options.query ?? {};
  // Compiled first: a malformed filter fails even on a missing collection, as mongod parses it before reading.
  const matcher = compileFilter(filter, queryOptions);
  const collection = engine.getCollection({ db, coll });
  const hint = resolveHint(collection, options.hint);
  const bounds = parseIndexBounds(options.min, options.max, hint);
  if (!collection) return [];
  let candidates: Iterable<Document>;
  let sorted = false;
  if (isView(collection)) candidates = await readableDocumentsInSlices(engine, { db, coll }, budget);
  else if (bounds || hint?.kind === 'natural')
    candidates = candidateDocuments(collection, filter, queryOptions);
  else {
    const plan = planRead(collection, filter, options.sort, queryOptions);
    candidates = plan.documents;
    sorted = plan.sorted;
  }
  if (bounds) {
    const inBounds = await filterSliced(candidates, (doc) => withinIndexBounds(doc, bounds), budget);
    candidates = inBounds.sort((a, b) =>
      compareIndexKeys(indexKeyOf(a, bounds.spec), indexKeyOf(b, bounds.spec), bounds.spec),
    );
  } else if (hint?.kind === 'natural' && hint.direction < 0) {
    candidates = [...candidates].reverse();
  }
  const skip = options.skip ?? 0;
  const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
  const out: Document[] = [];
  if (sorted || !options.sort || Object.keys(options.sort).length === 0) {
    // In natural order, or in the sort's order already (read from an index): the first matches are the answer.
    let skipped = 0;
    await scanSliced(
      candidates,
      (doc) => {
        if (!matcher(doc)) return true;
        if (skipped < skip) {
          skipped += 1;
          return true;
        }
        out.push(doc);
        return out.length < limit;
      },
      budget,
    );
    return out;
  }
  const compare = compileSort(options.sort, queryOptions.collation);
  if (limit !== Infinity) {
    // A page: only the first skip + limit in sort order are kept while scanning.
    const page = new SortedPage(skip + limit, compare);
    await scanSliced(
      candidates,
      (doc) => {
        if (matcher(doc)) page.offer(doc);
        return true;
      },
      budget,
    );
    return page.documents.slice(skip);
  }
  const matched = await filterSliced(candidates, matcher, budget);
  matched.sort(compare);
  return matched.slice(skip);
}

/**
 * The index a find reads, for returnKey: the hinted one, else the one the planner picks for the filter; undefined
 * for a collection scan (mongod's returnKey then gives `{}`).
 */
function indexUsed(
  collection: Collection | undefined,
  filter: Document,
  hint: unknown,
): IndexSpec | undefined {
  if (!collection || isView(collection)) return undefined;
  const resolved = resolveHint(collection, hint);
  if (resolved) return resolved.kind === 'index' ? resolved.spec : undefined;
  const { indexName } = collection.plan(filter);
  return collection.indexSpecs().find((spec) => spec.name === indexName);
}

/** returnKey replaces each document by its index key; showRecordId adds `$recordId` after any projection. */
function shapeFindResults(
  context: CommandContext,
  coll: string,
  filter: Document,
  matched: Document[],
): Document[] {
  const { command } = context;
  const projection = optionalDocument(command, 'projection');
  const collection = context.engine.getCollection({ db: context.db, coll });
  let shaped = matched;
  if (command.returnKey === true) {
    const spec = indexUsed(collection, filter, command.hint);
    shaped = matched.map((doc) => (spec ? indexKeyOf(doc, spec) : {}));
  } else if (projection) {
    shaped = matched.map((doc) => applyProjection(doc, projection));
  }
  if (command.showRecordId === true && collection && !isView(collection)) {
    shaped = shaped.map((doc, at) => ({
      ...doc,
      $recordId: Long.fromNumber(collection.recordIdOf(matched[at]!)),
    }));
  }
  return shaped;
}

export function cursorReply(
  context: CommandContext,
  ns: string,
  cursor: ServerCursor,
  first: CursorBatch,
): Document {
  const id = first.exhausted ? 0 : context.cursors.register(cursor);
  return { cursor: { firstBatch: first.documents, ...first.extra, id: Long.fromNumber(id), ns } };
}

const find: CommandHandlerFn = async (context) => {
  const coll = collectionName(context);
  const { command } = context;
  const filter = optionalDocument(command, 'filter') ?? {};
  const sort = optionalDocument(command, 'sort');
  const skip = optionalNumber(command, 'skip') ?? 0;
  const rawLimit = optionalNumber(command, 'limit') ?? 0;
  if (skip < 0) throw new MongoCommandError('BadValue', 'skip value must be non-negative');
  const singleBatch = command.singleBatch === true || rawLimit < 0;
  const limit = Math.abs(rawLimit);
  const batchSize = optionalNumber(command, 'batchSize');
  if (batchSize !== undefined && batchSize < 0)
    throw new MongoCommandError('BadValue', 'batchSize value must be non-negative');
  const matched = await queryDocuments(context.engine, context.db, coll, filter, ReadBudget.of(context), {
    sort,
    skip,
    limit,
    query: queryOptionsOf(command),
    hint: command.hint,
    min: optionalDocument(command, 'min'),
    max: optionalDocument(command, 'max'),
  });
  const documents = shapeFindResults(context, coll, filter, matched);
  const ns = `${context.db}.${coll}`;
  const cursor = new ArrayCursor(ns, documents, context.session.lsid);
  const first = cursor.takeBatch(batchSize ?? 101);
  if (singleBatch) first.exhausted = true;
  return cursorReply(context, ns, cursor, first);
};

const getMore: CommandHandlerFn = async (context) => {
  const { command } = context;
  const rawId = command.getMore as unknown;
  const id = commandNumber(rawId) ?? NaN;
  if (!Number.isFinite(id))
    throw new MongoCommandError(
      'TypeMismatch',
      "BSON field 'getMore.getMore' is the wrong type, expected type 'long'",
    );
  const coll: unknown = command.collection;
  if (typeof coll !== 'string')
    throw new MongoCommandError('TypeMismatch', "BSON field 'getMore.collection' is missing or not a string");
  const ns = `${context.db}.${coll}`;
  const batch = await context.cursors.getMore(
    id,
    ns,
    context.session.lsid,
    optionalNumber(command, 'batchSize'),
    optionalNumber(command, 'maxTimeMS'),
    context.connection.signal,
  );
  return {
    cursor: { nextBatch: batch.documents, ...batch.extra, id: Long.fromNumber(batch.exhausted ? 0 : id), ns },
  };
};

const killCursors: CommandHandlerFn = (context) => {
  const ids = optionalArray(context.command, 'cursors') ?? [];
  const cursorsKilled: Long[] = [];
  const cursorsNotFound: Long[] = [];
  for (const raw of ids as unknown[]) {
    const id = commandNumber(raw) ?? NaN;
    (context.cursors.kill(id) ? cursorsKilled : cursorsNotFound).push(Long.fromNumber(id));
  }
  return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [] };
};

const count: CommandHandlerFn = async (context) => {
  const coll = collectionName(context);
  const filter = optionalDocument(context.command, 'query') ?? {};
  const skip = optionalNumber(context.command, 'skip') ?? 0;
  const limit = Math.abs(optionalNumber(context.command, 'limit') ?? 0);
  if (Object.keys(filter).length === 0) {
    const collection = context.engine.getCollection({ db: context.db, coll });
    resolveHint(collection, context.command.hint);
    const total = isView(collection)
      ? (await readableDocumentsInSlices(context.engine, { db: context.db, coll }, ReadBudget.of(context)))
          .length
      : (collection?.size ?? 0);
    const n = Math.max(0, total - skip);
    return { n: limit > 0 ? Math.min(limit, n) : n };
  }
  const query = queryOptionsOf(context.command);
  const hint: unknown = context.command.hint;
  const byIndex = countFromIndex(context, coll, filter, query);
  if (byIndex !== undefined) {
    const n = Math.max(0, byIndex - skip);
    return { n: limit > 0 ? Math.min(limit, n) : n };
  }
  const budget = ReadBudget.of(context);
  const options = { skip, limit, query, hint };
  return { n: (await queryDocuments(context.engine, context.db, coll, filter, budget, options)).length };
};

const distinct: CommandHandlerFn = async (context) => {
  const coll = collectionName(context);
  const key: unknown = context.command.key;
  if (typeof key !== 'string')
    throw new MongoCommandError('TypeMismatch', "BSON field 'distinct.key' must be a string");
  const filter = optionalDocument(context.command, 'query') ?? {};
  const query = queryOptionsOf(context.command);
  const collated = collatedValueCompare(query.collation);
  const values = new Map<string, unknown>();
  const kept: unknown[] = [];
  const hint: unknown = context.command.hint;
  const budget = ReadBudget.of(context);
  for (const doc of await queryDocuments(context.engine, context.db, coll, filter, budget, { query, hint })) {
    for (const value of valuesAtPath(doc, key)) {
      if (value === undefined) continue;
      // Under a collation equal strings ('PING', 'ping') are one value: the first one seen is kept.
      if (collated) {
        if (!kept.some((existing) => collated(existing, value) === 0)) kept.push(value);
      } else values.set(valueKey(value), value);
    }
  }
  return { values: collated ? kept.sort(collated) : [...values.values()].sort(compareValues) };
};

/**
 * A count an index answers without reading documents (Collection.countByIndex), for a collection read with the
 * simple collation; undefined otherwise. The filter is still compiled first, so a malformed one fails as usual.
 */
export function countFromIndex(
  context: CommandContext,
  coll: string,
  filter: Document,
  query: QueryOptions,
): number | undefined {
  if (query.collation && query.collation.locale !== 'simple') return undefined;
  compileFilter(filter, query);
  const collection = context.engine.getCollection({ db: context.db, coll });
  resolveHint(collection, context.command.hint);
  if (!collection || isView(collection)) return undefined;
  return collection.countByIndex(filter)?.n;
}

export const readCommands: Record<string, CommandHandlerFn> = {
  find,
  getMore,
  killCursors,
  count,
  distinct,
};
