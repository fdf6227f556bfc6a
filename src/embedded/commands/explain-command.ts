// explain (queryPlanner verbosity) for find, count, distinct, aggregate, update, delete and findAndModify, and
// aggregate's `explain: true`: the winning plan the read would use (IXSCAN, COUNT_SCAN, COLLSCAN, SORT), as mongod's
// queryPlanner.winningPlan shows it. Nothing is executed; executionStats are not reported.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { compileFilter, isPlainDocument, type QueryOptions } from '../query/index.js';
import { countShape } from './aggregate-source.js';
import {
  collectionName,
  optionalDocument,
  type CommandContext,
  type CommandHandlerFn,
} from './command-context.js';
import { queryOptionsOf } from './query-options.js';
import { planRead, winningPlanOf } from './read-plan.js';
import { isView } from './readable-documents.js';

interface Explained {
  readonly filter: Document;
  readonly winningPlan: Document;
}

/** The plan of reading `filter` (sorted by `sort`) in the command's collection. */
function explainRead(
  context: CommandContext,
  coll: string,
  filter: Document,
  sort: Document | undefined,
  options: QueryOptions,
): Explained {
  compileFilter(filter, options);
  const collection = context.engine.getCollection({ db: context.db, coll });
  if (!collection) return { filter, winningPlan: { stage: 'EOF' } };
  if (isView(collection)) {
    // A view is its pipeline over its source: reported as the scan it is here.
    return { filter, winningPlan: { stage: 'COLLSCAN', filter, direction: 'forward' } };
  }
  const plan = planRead(collection, filter, sort, options);
  return { filter, winningPlan: winningPlanOf(collection, plan, filter, sort) };
}

/** A count the index answers alone (COUNT_SCAN), else the read's plan under a COUNT stage. */
function explainCount(
  context: CommandContext,
  coll: string,
  filter: Document,
  options: QueryOptions,
): Explained {
  const collection = context.engine.getCollection({ db: context.db, coll });
  const simple = !options.collation || options.collation.locale === 'simple';
  const byIndex = collection && !isView(collection) && simple ? collection.countByIndex(filter) : undefined;
  if (byIndex) {
    const keyPattern = collection?.indexSpecs().find((spec) => spec.name === byIndex.indexName)?.key ?? {};
    return {
      filter,
      winningPlan: {
        stage: 'COUNT',
        inputStage: { stage: 'COUNT_SCAN', keyPattern, indexName: byIndex.indexName },
      },
    };
  }
  const read = explainRead(context, coll, filter, undefined, options);
  return { filter, winningPlan: { stage: 'COUNT', inputStage: read.winningPlan } };
}

/** The stages a pipeline's first read leaves: its leading $match (and a count it ends in) are the read. */
function explainPipeline(context: CommandContext, coll: string, pipeline: Document[]): Document {
  const options = queryOptionsOf(context.command);
  const first = pipeline[0];
  const filter = first && isPlainDocument(first.$match) ? first.$match : {};
  const rest = first && isPlainDocument(first.$match) ? pipeline.slice(1) : pipeline;
  const counted = countShape(pipeline) !== undefined;
  const explained = counted
    ? explainCount(context, coll, filter, options)
    : explainRead(context, coll, filter, undefined, options);
  const queryPlanner = plannerOf(context, coll, explained);
  return {
    explainVersion: '1',
    queryPlanner,
    stages: [{ $cursor: { queryPlanner } }, ...rest],
    serverInfo: serverInfo(context),
  };
}

function plannerOf(context: CommandContext, coll: string, explained: Explained): Document {
  return {
    namespace: `${context.db}.${coll}`,
    parsedQuery: explained.filter,
    indexFilterSet: false,
    winningPlan: explained.winningPlan,
    rejectedPlans: [],
  };
}

function serverInfo(context: CommandContext): Document {
  return { host: context.server.defaultHost, version: context.server.version };
}

/** The filter (and sort) of the explained command, by command. */
function explainedRead(context: CommandContext, name: string, inner: Document, coll: string): Explained {
  const options = queryOptionsOf(inner);
  const statementFilter = (field: 'updates' | 'deletes'): Document => {
    const statements: unknown = inner[field];
    const statement: unknown =
      Array.isArray(statements) && statements.length === 1 ? statements[0] : undefined;
    if (!isPlainDocument(statement)) {
      throw new MongoCommandError('InvalidLength', `explained ${name} must have exactly one statement`);
    }
    return optionalDocument(statement, 'q') ?? {};
  };
  switch (name) {
    case 'find':
      return explainRead(
        context,
        coll,
        optionalDocument(inner, 'filter') ?? {},
        optionalDocument(inner, 'sort'),
        options,
      );
    case 'count':
      return explainCount(context, coll, optionalDocument(inner, 'query') ?? {}, options);
    case 'distinct':
      return explainRead(context, coll, optionalDocument(inner, 'query') ?? {}, undefined, options);
    case 'findAndModify':
    case 'findandmodify': {
      const query = optionalDocument(inner, 'query') ?? {};
      const read = explainRead(context, coll, query, optionalDocument(inner, 'sort'), options);
      const stage = inner.remove === true ? 'DELETE' : 'UPDATE';
      return { filter: query, winningPlan: { stage, inputStage: read.winningPlan } };
    }
    case 'update':
    case 'delete': {
      const filter = statementFilter(name === 'update' ? 'updates' : 'deletes');
      const read = explainRead(context, coll, filter, undefined, options);
      return { filter, winningPlan: { stage: name.toUpperCase(), inputStage: read.winningPlan } };
    }
    default:
      throw new MongoCommandError('CommandNotFound', `Explain failed due to unknown command: ${name}`);
  }
}

/** `{explain: {find | count | distinct | aggregate | update | delete | findAndModify: ...}, verbosity}`. */
const explain: CommandHandlerFn = (context) => {
  const inner = optionalDocument(context.command, 'explain');
  if (!inner) throw new MongoCommandError('FailedToParse', 'explain command requires a nested object');
  const name = Object.keys(inner)[0] ?? '';
  const innerContext: CommandContext = { ...context, command: inner };
  const coll = collectionName(innerContext);
  if (name === 'aggregate') {
    const pipeline: unknown = inner.pipeline;
    if (!Array.isArray(pipeline))
      throw new MongoCommandError('FailedToParse', "BSON field 'aggregate.pipeline' is missing");
    return explainPipeline(innerContext, coll, pipeline as Document[]);
  }
  const explained = explainedRead(innerContext, name, inner, coll);
  return {
    explainVersion: '1',
    queryPlanner: plannerOf(innerContext, coll, explained),
    command: inner,
    serverInfo: serverInfo(context),
  };
};

/** aggregate's `explain: true` form (what the driver's `aggregate(...).explain()` sends). */
export function explainAggregate(context: CommandContext, coll: string, pipeline: Document[]): Document {
  return explainPipeline(context, coll, pipeline);
}

export const explainCommands: Record<string, CommandHandlerFn> = { explain };
