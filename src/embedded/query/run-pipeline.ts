// Aggregation on top of mingo's Aggregator, with $match and $sort replaced by the BSON-aware versions.
import { Aggregator } from 'mingo/aggregator';
import { Context } from 'mingo/core';
import { Lazy } from 'mingo/lazy';
import type { Iterator } from 'mingo/lazy';
import type { CollationSpec, Options } from 'mingo/types';
import { MongoCommandError } from '../errors.js';
import { isPlainDocument } from './bson-type-name.js';
import { cloneDocument, cloneForExpressions } from './clone-document.js';
import { compileFilterWithOptions } from './compile-filter.js';
import { compileSort } from './compile-sort.js';
import type { Document } from './document.js';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import { baseContext, baseOptions, comparisonOverrides, toHashedIndexKey } from './mingo-context.js';
import {
  PLAIN_VALUE_OPERATOR,
  tagTypedSource,
  typedArithmeticOperators,
  typedOperator,
  typedSourceOrSelf,
  wrapStockOperators,
} from './typed-arithmetic.js';
import { ONE_TO_ONE_STAGES, retypingStage } from './typed-passthrough.js';
import { typedValueOperators } from './typed-value-operators.js';
import { fieldsReadBy, pickFields } from './stage-dependencies.js';

export interface RunPipelineOptions {
  /** Documents of another collection of the same database, for $lookup, $graphLookup and $unionWith. */
  resolveCollection?: (name: string) => Document[];
  /** Values for `$$name` variables (the aggregate command's `let`). */
  variables?: Document;
  /** The command's parsed collation: $match and $sort compare strings by it. */
  collation?: CollationSpec;
}

type PipelineFn = (collection: Iterator, expression: unknown, options: Options) => Iterator;

const $match: PipelineFn = (collection, expression, options) => {
  if (!isPlainDocument(expression))
    throw new MongoCommandError('BadValue', 'the match filter must be an expression in an object');
  const matcher = compileFilterWithOptions(expression, options);
  return collection.filter((doc: Document) => matcher(doc));
};

const $sort: PipelineFn = (collection, expression, options) => {
  if (!isPlainDocument(expression) || Object.keys(expression).length === 0) {
    throw new MongoCommandError('Location15976', '$sort stage must have at least one sort key');
  }
  const compare = compileSort(expression, options.collation);
  return collection.transform((docs: Document[]) => Lazy(docs.slice().sort(compare)));
};

/**
 * $facet runs each sub-pipeline as runPipeline runs a pipeline (on the typed sources of its input copies), so that
 * the typed values one of its stages computes are copied to plain numbers before the next.
 */
const $facet: PipelineFn = (collection, expression, options) => {
  if (!isPlainDocument(expression)) {
    throw new MongoCommandError('BadValue', '$facet requires an object of sub-pipelines');
  }
  for (const subPipeline of Object.values(expression)) {
    if (!Array.isArray(subPipeline)) {
      throw new MongoCommandError('TypeMismatch', '$facet sub-pipelines must be arrays');
    }
    validateStages(subPipeline);
  }
  return collection.transform((docs: Document[]) => {
    const sources = docs.map(typedSourceOrSelf);
    const facets: Document = {};
    for (const [name, subPipeline] of Object.entries(expression)) {
      facets[name] = runStages(sources, subPipeline as Document[], options);
    }
    return Lazy([facets]);
  });
};

/** `$group` keys are plain values, so that equal numbers of different types (5, Long(5)) form one group. */
const stockGroup = pipelineOperators.$group as PipelineFn;
const $group: PipelineFn = (collection, expression, options) =>
  stockGroup(
    collection,
    isPlainDocument(expression) && '_id' in expression
      ? { ...expression, _id: { [PLAIN_VALUE_OPERATOR]: expression._id } }
      : expression,
    options,
  );

/**
 * Typed arithmetic ($sum, $avg, $add, $subtract, $multiply) and typed $first/$last/$min/$max/$round/$abs ahead of
 * mingo's, and mingo's other expression operators wrapped so that typed values never reach them (typed-arithmetic.ts).
 */
const stockExpressions = expressionOperators as unknown as Record<string, unknown>;
export const pipelineContext = Context.from(
  Context.init({
    pipeline: {
      $match,
      $sort,
      $facet,
      $group,
      ...Object.fromEntries(
        ONE_TO_ONE_STAGES.map((name) => [name, retypingStage(pipelineOperators[name] as PipelineFn)]),
      ),
    },
    expression: {
      ...comparisonOverrides,
      ...typedArithmeticOperators(stockExpressions),
      ...typedValueOperators(stockExpressions, accumulatorOperators),
      // Its Long must reach the output as a Long: typed, like the arithmetic above.
      $toHashedIndexKey: typedOperator(toHashedIndexKey),
    },
  }),
  Context.init({ expression: wrapStockOperators(stockExpressions) }),
  baseContext,
);

/** Stage names mingo knows but MongoDB would not run here (or that write), rejected as unknown. */
const REJECTED_STAGES = new Set(['$out', '$merge']);

export function validateStages(pipeline: unknown[]): void {
  for (const stage of pipeline) {
    if (!isPlainDocument(stage)) {
      throw new MongoCommandError('TypeMismatch', "Each element of the 'pipeline' array must be an object");
    }
    const names = Object.keys(stage);
    if (names.length !== 1) {
      throw new MongoCommandError(
        'Location40323',
        'A pipeline stage specification object must contain exactly one field.',
      );
    }
    const name = names[0] as string;
    if (REJECTED_STAGES.has(name) || pipelineContext.getOperator('pipeline' as never, name) === null) {
      throw new MongoCommandError('Location40324', `Unrecognized pipeline stage name: '${name}'`);
    }
  }
}

/** Converts mingo's own errors into MongoDB-shaped ones; ours pass through. */
export function toCommandError(error: unknown): MongoCommandError {
  if (error instanceof MongoCommandError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MongoCommandError('BadValue', message, { cause: error });
}

/**
 * Some mingo stages ($addFields, $unset, ...) modify documents in place; they must not reach stored ones.
 * The copies carry safe-range Longs and whole doubles as numbers so mingo's operators work on them, and point to
 * the document they come from so that the typed operators read exact types there.
 */
export function* clonedLazily(docs: Document[], fields: readonly string[] | undefined): Generator<Document> {
  for (const doc of docs) yield pipelineCopy(doc, fields);
}

/** The copy of `doc` a mingo stage gets; one reading only `fields` gets only those (stage-dependencies.ts). */
export function pipelineCopy(doc: Document, fields: readonly string[] | undefined): Document {
  return tagTypedSource(cloneForExpressions(fields === undefined ? doc : pickFields(doc, fields)), doc);
}

const matchOnlyMatchers = new WeakMap<readonly Document[], ((doc: Document) => boolean) | null>();

/**
 * For a pipeline of `$match` stages only (a change stream's usual filter), one matcher compiled once per
 * pipeline array; null for any other pipeline. Matching never modifies the document, so nothing is copied.
 */
export function matchOnlyPipeline(pipeline: readonly Document[]): ((doc: Document) => boolean) | null {
  const cached = matchOnlyMatchers.get(pipeline);
  if (cached !== undefined) return cached;
  let matcher: ((doc: Document) => boolean) | null = null;
  const onlyMatch = pipeline.every(
    (stage) => isPlainDocument(stage) && Object.keys(stage).length === 1 && isPlainDocument(stage.$match),
  );
  if (onlyMatch) {
    const options: Partial<Options> = { ...baseOptions, context: pipelineContext };
    const compiled = pipeline.map((stage) => compileFilterWithOptions(stage.$match as Document, options));
    matcher = (doc) => compiled.every((matches) => matches(doc));
  }
  matchOnlyMatchers.set(pipeline, matcher);
  return matcher;
}

export const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * A stage that only selects or orders documents, applied without mingo; undefined for any other stage (or an
 * argument mingo should judge).
 */
function narrowNatively(
  docs: Document[],
  stage: Document,
  options: Partial<Options>,
): Document[] | undefined {
  if (isPlainDocument(stage.$match)) {
    const matcher = compileFilterWithOptions(stage.$match, options);
    return docs.filter((doc) => matcher(doc));
  }
  if (isPlainDocument(stage.$sort) && Object.keys(stage.$sort).length > 0) {
    return docs.slice().sort(compileSort(stage.$sort, options.collation));
  }
  if (isCount(stage.$skip)) return docs.slice(stage.$skip);
  if (isCount(stage.$limit) && stage.$limit > 0) return docs.slice(0, stage.$limit);
  return undefined;
}

/** mingo's options for a pipeline run with `options`. */
export function pipelineOptions(options: RunPipelineOptions): Partial<Options> {
  return {
    ...baseOptions,
    context: pipelineContext,
    ...(options.resolveCollection ? { collectionResolver: options.resolveCollection } : {}),
    ...(options.variables ? { variables: options.variables } : {}),
    ...(options.collation ? { collation: options.collation } : {}),
  };
}

/** Runs an aggregation pipeline over in-memory documents; never mutates `docs`. */
export function runPipeline(
  docs: Document[],
  pipeline: Document[],
  options: RunPipelineOptions = {},
): Document[] {
  if (!Array.isArray(pipeline))
    throw new MongoCommandError('TypeMismatch', "'pipeline' option must be specified as an array");
  validateStages(pipeline);
  const mingoOptions = pipelineOptions(options);
  try {
    return runStages(docs, pipeline, mingoOptions);
  } catch (error) {
    throw toCommandError(error);
  }
}

/**
 * $match, $sort, $skip and $limit stages run here on typed documents (stored ones before any other stage): only
 * the survivors are copied, and a pipeline made of them alone returns documents with their exact BSON types.
 * Every other stage runs in mingo on fresh copies of its input, so that the typed values one stage computes (a
 * Long $sum) reach the next as numbers again. Never returns one of `docs` itself.
 */
function runStages(docs: Document[], pipeline: Document[], options: Partial<Options>): Document[] {
  let current = docs;
  let copied = false;
  for (const stage of pipeline) {
    const narrowed = narrowNatively(current, stage, options);
    if (narrowed !== undefined) {
      current = narrowed;
      continue;
    }
    current = new Aggregator([stage], options).run(clonedLazily(current, fieldsReadBy(stage)));
    copied = true;
  }
  return copied ? current : current.map((doc) => cloneDocument(doc));
}
