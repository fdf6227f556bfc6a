// What a collection pipeline starts from: its leading `$match` read through an index (read-plan.ts) (a count without reading
// documents when the index alone answers it), a counting or summing `$group` run natively, and the rest left to runPipeline.
import type { Document } from 'bson';
import { compileFilter, isPlainDocument, type QueryOptions } from '../query/index.js';
import type { Engine } from '../storage/engine.js';
import { countStageName, isCountingGroup, runSimpleGroup, simpleGroupOf } from './native-group.js';
import { planRead } from './read-plan.js';
import { filterSliced, type ReadBudget } from './read-budget.js';
import { isView, readableDocuments, readableDocumentsInSlices } from './readable-documents.js';

export interface PipelineStart {
  /** The documents the remaining stages run on (stored ones: the caller must not modify them). */
  readonly documents: Document[];
  readonly remaining: Document[];
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Runs what it can of `stages` on collection `coll` in slices under `budget`; the stages are already validated.
 * A leading `$match` reads the documents its read plan finds (read-plan.ts) rather than every document.
 */
export async function startCollectionPipeline(
  engine: Engine,
  ns: { db: string; coll: string },
  stages: Document[],
  options: QueryOptions,
  budget: ReadBudget,
): Promise<PipelineStart> {
  const collection = engine.getCollection(ns);
  const first = stages[0];
  if (isView(collection))
    return startWithGroup(await readableDocumentsInSlices(engine, ns, budget), stages, budget);
  if (!collection || !first || !isPlainDocument(first.$match)) {
    return startWithGroup(readableDocuments(engine, ns), stages, budget);
  }
  const filter = first.$match;
  const matcher = compileFilter(filter, options);
  const simpleCollation = !options.collation || options.collation.locale === 'simple';
  const counted = simpleCollation ? countShape(stages) : undefined;
  if (counted) {
    const total = collection.countByIndex(filter)?.n;
    if (total !== undefined) {
      // The driver's countDocuments: $match, optional $skip/$limit, then {$group: {_id: <const>, n: {$sum: 1}}}.
      const n = Math.min(Math.max(0, total - counted.skip), counted.limit);
      return { documents: n > 0 ? [counted.output(n)] : [], remaining: [] };
    }
  }
  const candidates = planRead(collection, filter, undefined, options).documents;
  const matched = await filterSliced(candidates, matcher, budget);
  return startWithGroup(matched, stages.slice(1), budget);
}

async function startWithGroup(
  documents: Document[],
  stages: Document[],
  budget: ReadBudget,
): Promise<PipelineStart> {
  const countName = countStageName(stages[0]);
  if (countName !== undefined) {
    const counted = documents.length > 0 ? [{ [countName]: documents.length }] : [];
    return { documents: counted, remaining: stages.slice(1) };
  }
  const group = simpleGroupOf(stages[0]);
  if (group) {
    const grouped = await runSimpleGroup(documents, group, budget);
    if (grouped) return { documents: grouped, remaining: stages.slice(1) };
  }
  return { documents, remaining: stages };
}

/**
 * `[$match, ($skip | $limit)*, counting $group with a constant key or $count]`: the count it asks for and how its
 * one output document looks, else undefined.
 */
export function countShape(
  stages: Document[],
): { skip: number; limit: number; output: (n: number) => Document } | undefined {
  if (stages.length < 2) return undefined;
  const lastStage = stages[stages.length - 1];
  const countName = countStageName(lastStage);
  const group = simpleGroupOf(lastStage);
  let output: (n: number) => Document;
  if (countName !== undefined) output = (n) => ({ [countName]: n });
  else if (group && group.keyPath === undefined && isCountingGroup(group)) {
    output = (n) => {
      const groupDoc: Document = { _id: group.constantKey };
      for (const accumulator of group.accumulators) groupDoc[accumulator.name] = n;
      return groupDoc;
    };
  } else return undefined;
  let skip = 0;
  let limit = Infinity;
  for (const stage of stages.slice(1, -1)) {
    if (Object.keys(stage).length !== 1) return undefined;
    if (isCount(stage.$skip)) {
      skip += stage.$skip;
      limit = Math.max(0, limit - stage.$skip);
    } else if (isCount(stage.$limit) && stage.$limit > 0) {
      limit = Math.min(limit, stage.$limit);
    } else return undefined;
  }
  return { skip, limit, output };
}
