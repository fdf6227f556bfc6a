// The aggregate command: change streams, collection and view pipelines, database-level pipelines
// ({aggregate: 1} starting with $documents or $listLocalSessions), and the $out / $merge output stages.
import { Long, type Document } from 'bson';
import {
  openChangeStreamForAggregate,
  type ChangeStreamCursor,
  type ChangeStreamSource,
} from '../changes/index.js';
import { MongoCommandError } from '../errors.js';
import {
  evaluateExpression,
  foreignCollections,
  isPlainDocument,
  mingoOptionsFor,
  runPipeline,
  runPipelineInSlices,
  type QueryOptions,
} from '../query/index.js';
import type { Engine } from '../storage/engine.js';
import { parseOutputStage, writeOutput, type OutputStage } from './aggregate-output.js';
import {
  optionalArray,
  optionalDocument,
  optionalNumber,
  type CommandContext,
  type CommandHandlerFn,
} from './command-context.js';
import { ArrayCursor, type CursorBatch, type ServerCursor } from './cursor-registry.js';
import { queryOptionsOf } from './query-options.js';
import { cursorReply } from './read-commands.js';
import { evaluateSnapshot, readableDocuments, snapshotNamespace } from './readable-documents.js';
import { resolveHint } from './index-hint.js';
import { startCollectionPipeline } from './aggregate-source.js';
import { explainAggregate } from './explain-command.js';
import { ReadBudget } from './read-budget.js';

/** Change streams wait this long in getMore when the client sends no maxTimeMS (as mongod does). */
const DEFAULT_AWAIT_MS = 1000;

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

/** The documents a database-level pipeline starts from: its first stage must be a collectionless source. */
function collectionlessSource(
  context: CommandContext,
  pipeline: Document[],
  options: QueryOptions,
): Document[] {
  const first = pipeline[0];
  if (first && '$documents' in first) {
    const docs = evaluateExpression({}, first.$documents, mingoOptionsFor(options));
    if (!Array.isArray(docs) || !docs.every(isPlainDocument)) {
      throw new MongoCommandError('Location40323', '$documents must evaluate to an array of objects');
    }
    return docs;
  }
  if (first && '$listLocalSessions' in first) return context.sessions.list();
  throw new MongoCommandError(
    'InvalidNamespace',
    '{aggregate: 1} needs a collectionless first stage ($documents, $listLocalSessions, or $changeStream)',
  );
}

function requirePipeline(command: Document): Document[] {
  const pipeline = optionalArray(command, 'pipeline');
  if (!pipeline)
    throw new MongoCommandError(
      'FailedToParse',
      "BSON field 'aggregate.pipeline' is missing but a required field",
    );
  return pipeline;
}

const aggregate: CommandHandlerFn = async (context) => {
  const { command } = context;
  const target = command.aggregate as unknown;
  if (typeof target !== 'string' && target !== 1) {
    throw new MongoCommandError('FailedToParse', 'aggregate must be a collection name or 1');
  }
  const pipeline = requirePipeline(command);
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
  // What the driver's aggregate(...).explain() sends: the plan, nothing run.
  if (command.explain === true && typeof target === 'string')
    return explainAggregate(context, target, pipeline);
  const options = queryOptionsOf(command);
  const output: OutputStage | undefined = parseOutputStage(context, pipeline);
  let stages = output ? pipeline.slice(0, -1) : pipeline;
  const budget = ReadBudget.of(context);
  let source: Document[];
  if (typeof target === 'string') {
    resolveHint(context.engine.getCollection({ db: context.db, coll: target }), command.hint);
    // Every stage is parsed before anything is read, as mongod does (the run over no documents costs nothing).
    runPipeline([], stages, { ...options, resolveCollection: () => [] });
  }
  // Snapshot rule: the collections $lookup/$graphLookup/$unionWith read are taken now, before the first pause.
  const joined = [...foreignCollections(stages)].map(
    (name) => [name, snapshotNamespace(context.engine, { db: context.db, coll: name })] as const,
  );
  if (typeof target === 'string') {
    const start = await startCollectionPipeline(
      context.engine,
      { db: context.db, coll: target },
      stages,
      options,
      budget,
    );
    source = start.documents;
    stages = start.remaining;
  } else {
    source = collectionlessSource(context, stages, options);
    stages = stages.slice(1);
  }
  const foreign = new Map<string, Document[]>();
  for (const [name, snapshot] of joined) foreign.set(name, await evaluateSnapshot(snapshot, budget));
  const resolveCollection = (name: string): Document[] =>
    foreign.get(name) ?? readableDocuments(context.engine, { db: context.db, coll: name });
  const documents = await runPipelineInSlices(source, stages, { ...options, resolveCollection }, budget);
  budget.checkDeadline();
  const ns = typeof target === 'string' ? `${context.db}.${target}` : `${context.db}.$cmd.aggregate`;
  if (output) {
    writeOutput(context, output, documents, options);
    return { cursor: { firstBatch: [], id: Long.fromNumber(0), ns } };
  }
  const cursor = new ArrayCursor(ns, documents, context.session.lsid);
  return cursorReply(context, ns, cursor, cursor.takeBatch(batchSize ?? 101));
};

export const aggregateCommands: Record<string, CommandHandlerFn> = { aggregate };
