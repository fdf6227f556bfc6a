// find, getMore, killCursors, aggregate (incl. change streams), count and distinct.
import { Long, type Document } from 'bson';
import {
  openChangeStreamForAggregate,
  type ChangeStreamCursor,
  type ChangeStreamSource,
} from '../changes/index.js';
import { MongoCommandError } from '../errors.js';
import { applyProjection, compileFilter, compileSort, runPipeline } from '../query/index.js';
import type { Engine } from '../storage/engine.js';
import { valuesAtPath } from '../storage/document-paths.js';
import { compareValues, valueKey } from '../query/index.js';
import {
  collectionName,
  optionalArray,
  optionalDocument,
  optionalNumber,
  type CommandContext,
  type CommandHandlerFn,
} from './command-context.js';
import { ArrayCursor, type CursorBatch, type ServerCursor } from './cursor-registry.js';

/** Change streams wait this long in getMore when the client sends no maxTimeMS (as mongod does). */
const DEFAULT_AWAIT_MS = 1000;

/** Matching documents of a collection, in natural order, with skip/limit applied when there is no sort. */
export function queryDocuments(
  engine: Engine,
  db: string,
  coll: string,
  filter: Document,
  options: { sort?: Document; skip?: number; limit?: number } = {},
): Document[] {
  const collection = engine.getCollection({ db, coll });
  if (!collection) return [];
  const matcher = compileFilter(filter);
  const skip = options.skip ?? 0;
  const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
  const out: Document[] = [];
  if (!options.sort || Object.keys(options.sort).length === 0) {
    let skipped = 0;
    for (const doc of collection.candidates(filter)) {
      if (!matcher(doc)) continue;
      if (skipped < skip) {
        skipped += 1;
        continue;
      }
      out.push(doc);
      if (out.length >= limit) break;
    }
    return out;
  }
  for (const doc of collection.candidates(filter)) if (matcher(doc)) out.push(doc);
  out.sort(compileSort(options.sort));
  return out.slice(skip, skip + limit);
}

function cursorReply(
  context: CommandContext,
  ns: string,
  cursor: ServerCursor,
  first: CursorBatch,
): Document {
  const id = first.exhausted ? 0 : context.cursors.register(cursor);
  return { cursor: { firstBatch: first.documents, ...first.extra, id: Long.fromNumber(id), ns } };
}

const find: CommandHandlerFn = (context) => {
  const coll = collectionName(context);
  const { command } = context;
  const filter = optionalDocument(command, 'filter') ?? {};
  const sort = optionalDocument(command, 'sort');
  const projection = optionalDocument(command, 'projection');
  const skip = optionalNumber(command, 'skip') ?? 0;
  const rawLimit = optionalNumber(command, 'limit') ?? 0;
  if (skip < 0) throw new MongoCommandError('BadValue', 'skip value must be non-negative');
  const singleBatch = command.singleBatch === true || rawLimit < 0;
  const limit = Math.abs(rawLimit);
  const batchSize = optionalNumber(command, 'batchSize');
  if (batchSize !== undefined && batchSize < 0)
    throw new MongoCommandError('BadValue', 'batchSize value must be non-negative');
  const matched = queryDocuments(context.engine, context.db, coll, filter, { sort, skip, limit });
  const documents = projection ? matched.map((doc) => applyProjection(doc, projection)) : matched;
  const ns = `${context.db}.${coll}`;
  const cursor = new ArrayCursor(ns, documents, context.session.lsid);
  const first = cursor.takeBatch(batchSize ?? 101);
  if (singleBatch) first.exhausted = true;
  return cursorReply(context, ns, cursor, first);
};

/** Adapts a change-stream cursor to the registry: getMore waits, replies carry postBatchResumeToken. */
class ChangeStreamServerCursor implements ServerCursor {
  constructor(
    private readonly stream: ChangeStreamCursor,
    readonly lsid: unknown,
  ) {}

  get ns(): string {
    return this.stream.namespace;
  }

  async nextBatch(
    batchSize: number | undefined,
    maxTimeMS: number | undefined,
    signal: AbortSignal,
  ): Promise<CursorBatch> {
    const batch = await this.stream.nextBatch(batchSize, maxTimeMS ?? DEFAULT_AWAIT_MS, signal);
    return {
      documents: batch.events,
      exhausted: batch.closed,
      extra: { postBatchResumeToken: batch.postBatchResumeToken },
    };
  }
}

export function changeStreamSource(engine: Engine): ChangeStreamSource {
  return {
    oplog: engine.oplog,
    findDocumentById: (ns, id) => engine.getCollection(ns)?.findById(id) ?? null,
    collectionOptions: (ns) => engine.getCollection(ns)?.options ?? null,
  };
}

const aggregate: CommandHandlerFn = async (context) => {
  const { command } = context;
  const target = command.aggregate as unknown;
  if (typeof target !== 'string' && target !== 1) {
    throw new MongoCommandError('FailedToParse', 'aggregate must be a collection name or 1');
  }
  const pipeline = optionalArray(command, 'pipeline');
  if (!pipeline)
    throw new MongoCommandError(
      'FailedToParse',
      "BSON field 'aggregate.pipeline' is missing but a required field",
    );
  const cursorOptions = optionalDocument(command, 'cursor');
  if (!cursorOptions && command.explain !== true) {
    throw new MongoCommandError(
      'FailedToParse',
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  const batchSize = cursorOptions ? optionalNumber(cursorOptions, 'batchSize') : undefined;
  const first = pipeline[0];
  if (first && typeof first === 'object' && '$changeStream' in first) {
    const stream = openChangeStreamForAggregate(
      changeStreamSource(context.engine),
      context.db,
      target,
      pipeline,
    );
    const cursor = new ChangeStreamServerCursor(stream, context.session.lsid);
    const batch = await cursor.nextBatch(batchSize, 0, context.connection.signal);
    return cursorReply(context, cursor.ns, cursor, batch);
  }
  if (typeof target !== 'string') {
    throw new MongoCommandError(
      'InvalidNamespace',
      `{aggregate: 1} is only supported here for $changeStream pipelines`,
    );
  }
  let stages = pipeline;
  let out: string | undefined;
  const last = pipeline[pipeline.length - 1];
  if (last && '$out' in last) {
    const spec = last.$out as unknown;
    out = typeof spec === 'string' ? spec : String((spec as Document).coll);
    stages = pipeline.slice(0, -1);
  }
  const source = context.engine.getCollection({ db: context.db, coll: target });
  const documents = runPipeline(source ? [...source.documents.values()] : [], stages, {
    resolveCollection: (name) => [
      ...(context.engine.getCollection({ db: context.db, coll: name })?.documents.values() ?? []),
    ],
  });
  if (out !== undefined) {
    writeOut(context, out, documents);
    return { cursor: { firstBatch: [], id: Long.fromNumber(0), ns: `${context.db}.${target}` } };
  }
  const ns = `${context.db}.${target}`;
  const cursor = new ArrayCursor(ns, documents, context.session.lsid);
  return cursorReply(context, ns, cursor, cursor.takeBatch(batchSize ?? 101));
};

/** `$out`: replaces the target collection's documents with the pipeline's result. */
function writeOut(context: CommandContext, coll: string, documents: Document[]): void {
  const ns = { db: context.db, coll };
  context.engine.write(() => {
    const target = context.engine.ensureCollection(ns);
    for (const doc of [...target.documents.values()]) context.engine.deleteDocument(target, doc);
    for (const doc of documents) context.engine.insertDocument(target, doc);
  }, context.session);
}

const getMore: CommandHandlerFn = async (context) => {
  const { command } = context;
  const rawId = command.getMore as unknown;
  const id = typeof rawId === 'number' ? rawId : rawId instanceof Long ? rawId.toNumber() : NaN;
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
    const id = typeof raw === 'number' ? raw : raw instanceof Long ? raw.toNumber() : NaN;
    (context.cursors.kill(id) ? cursorsKilled : cursorsNotFound).push(Long.fromNumber(id));
  }
  return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [] };
};

const count: CommandHandlerFn = (context) => {
  const coll = collectionName(context);
  const filter = optionalDocument(context.command, 'query') ?? {};
  const skip = optionalNumber(context.command, 'skip') ?? 0;
  const limit = Math.abs(optionalNumber(context.command, 'limit') ?? 0);
  if (Object.keys(filter).length === 0) {
    const total = context.engine.getCollection({ db: context.db, coll })?.size ?? 0;
    const n = Math.max(0, total - skip);
    return { n: limit > 0 ? Math.min(limit, n) : n };
  }
  return { n: queryDocuments(context.engine, context.db, coll, filter, { skip, limit }).length };
};

const distinct: CommandHandlerFn = (context) => {
  const coll = collectionName(context);
  const key: unknown = context.command.key;
  if (typeof key !== 'string')
    throw new MongoCommandError('TypeMismatch', "BSON field 'distinct.key' must be a string");
  const filter = optionalDocument(context.command, 'query') ?? {};
  const values = new Map<string, unknown>();
  for (const doc of queryDocuments(context.engine, context.db, coll, filter)) {
    for (const value of valuesAtPath(doc, key)) {
      if (value !== undefined) values.set(valueKey(value), value);
    }
  }
  return { values: [...values.values()].sort(compareValues) };
};

export const readCommands: Record<string, CommandHandlerFn> = {
  find,
  aggregate,
  getMore,
  killCursors,
  count,
  distinct,
};
