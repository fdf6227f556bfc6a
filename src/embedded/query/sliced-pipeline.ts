// The aggregate command's pipeline runner: the same results as runPipeline (run-pipeline.ts), with every stage's work
// cut into slices between which the budget lets other connections' commands run and checks maxTimeMS.
import { Aggregator } from 'mingo/aggregator';
import type { Options } from 'mingo/types';
import { isPlainDocument } from './bson-type-name.js';
import { cloneDocument } from './clone-document.js';
import { compileFilterWithOptions } from './compile-filter.js';
import { computeOptionsFor, type ComputeOptions } from './compute-options.js';
import type { Document } from './document.js';
import { filterInSlices, type PipelineBudget } from './pipeline-budget.js';
import {
  clonedLazily,
  isCount,
  pipelineOptions,
  toCommandError,
  validateStages,
  type RunPipelineOptions,
} from './run-pipeline.js';
import { bucketInSlices, groupInSlices } from './sliced-group.js';
import { lookupInSlices } from './sliced-lookup.js';
import { sortInSlices } from './sliced-sort.js';
import { fieldsReadBy } from './stage-dependencies.js';

/**
 * Stages whose output for a document depends on that document alone: mingo runs them on a chunk at a time, which
 * gives what one run over every document gives.
 */
const PER_DOCUMENT_STAGES = new Set([
  '$project',
  '$addFields',
  '$set',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
  '$unwind',
  '$redact',
  '$graphLookup',
]);

/** Documents handed to mingo at a time by a per-document stage; the clock is read after each chunk. */
const CHUNK_SIZE = 64;

interface SlicedRun {
  readonly options: Partial<Options>;
  readonly computeOptions: ComputeOptions;
  readonly budget: PipelineBudget;
}

/**
 * runPipeline in slices. Snapshot rule: `docs` are read as they are (stored documents are never modified in place),
 * and the collections `$lookup`/`$graphLookup`/`$unionWith` read are what `options.resolveCollection` answers, which
 * the caller takes when the command starts.
 */
export async function runPipelineInSlices(
  docs: Document[],
  pipeline: Document[],
  options: RunPipelineOptions,
  budget: PipelineBudget,
): Promise<Document[]> {
  validateStages(pipeline);
  const mingoOptions = pipelineOptions(options);
  try {
    let computeOptions: ComputeOptions | undefined;
    const run: SlicedRun = {
      options: mingoOptions,
      budget,
      // Built only when a stage goes to mingo: pipelines of native stages (a count's) pay nothing for it.
      get computeOptions() {
        return (computeOptions ??= computeOptionsFor(mingoOptions));
      },
    };
    return await runStagesInSlices(docs, pipeline, run);
  } catch (error) {
    throw toCommandError(error);
  }
}

/** run-pipeline.ts's runStages: typed documents through the native stages, fresh copies into every mingo one. */
async function runStagesInSlices(
  docs: Document[],
  pipeline: Document[],
  run: SlicedRun,
): Promise<Document[]> {
  let current = docs;
  let copied = false;
  for (const stage of pipeline) {
    const narrowed = await narrowInSlices(current, stage, run);
    if (narrowed !== undefined) {
      current = narrowed;
      continue;
    }
    current = await mingoStageInSlices(current, stage, run);
    copied = true;
  }
  if (copied) return current;
  const out = new Array<Document>(current.length);
  for (let index = 0; index < current.length; index++) {
    out[index] = cloneDocument(current[index] as Document);
    if (run.budget.due()) await run.budget.pause();
  }
  return out;
}

/** run-pipeline.ts's narrowNatively: $match, $sort, $skip and $limit on typed documents; undefined for others. */
async function narrowInSlices(
  docs: Document[],
  stage: Document,
  run: SlicedRun,
): Promise<Document[] | undefined> {
  if (isPlainDocument(stage.$match)) {
    const matcher = compileFilterWithOptions(stage.$match, run.options);
    return filterInSlices(docs, matcher, run.budget);
  }
  if (isPlainDocument(stage.$sort) && Object.keys(stage.$sort).length > 0) {
    return sortInSlices(docs, stage.$sort, run.options.collation, run.budget);
  }
  if (isCount(stage.$skip)) return docs.slice(stage.$skip);
  if (isCount(stage.$limit) && stage.$limit > 0) return docs.slice(0, stage.$limit);
  return undefined;
}

/** A stage mingo computes (on copies of `docs`), or one computed here as mingo would. */
async function mingoStageInSlices(docs: Document[], stage: Document, run: SlicedRun): Promise<Document[]> {
  const name = Object.keys(stage)[0] as string;
  const spec: unknown = stage[name];
  if (PER_DOCUMENT_STAGES.has(name) || (name === '$lookup' && isPipelineLookup(spec))) {
    return perDocumentInChunks(docs, stage, run);
  }
  if (name === '$lookup') {
    const joined = await lookupInSlices(docs, spec, run.options.collectionResolver, run.budget);
    if (joined) return joined;
  }
  if (name === '$group') {
    const grouped = await groupInSlices(docs, spec, run.computeOptions, run.budget);
    if (grouped) return grouped;
  }
  if (name === '$bucket') {
    const bucketed = await bucketInSlices(docs, spec, run.computeOptions, run.budget);
    if (bucketed) return bucketed;
  }
  if (name === '$sortByCount') {
    // mingo's $sortByCount is this $group and a stable sort by count, descending.
    return runStagesInSlices(
      docs,
      [{ $group: { _id: spec, count: { $sum: 1 } } }, { $sort: { count: -1 } }],
      run,
    );
  }
  if (name === '$facet' && isPlainDocument(spec)) {
    const faceted = await facetInSlices(docs, spec, run);
    if (faceted) return faceted;
  }
  // Any other stage needs all of its input at once: the copies are made in slices, mingo's run is one piece.
  const copies: Document[] = [];
  for (const copy of clonedLazily(docs, fieldsReadBy(stage))) {
    copies.push(copy);
    if (run.budget.due()) await run.budget.pause();
  }
  return new Aggregator([stage], run.computeOptions).run<Document>(copies);
}

/**
 * A `$lookup` joining by a sub-pipeline alone: each document's join runs on its own, unlike a local/foreign field
 * join, which indexes the whole foreign collection each time mingo's stage starts.
 */
function isPipelineLookup(spec: unknown): boolean {
  return isPlainDocument(spec) && spec.localField === undefined && spec.foreignField === undefined;
}

async function perDocumentInChunks(docs: Document[], stage: Document, run: SlicedRun): Promise<Document[]> {
  const fields = fieldsReadBy(stage);
  const out: Document[] = [];
  for (let start = 0; start < docs.length; start += CHUNK_SIZE) {
    const chunk = docs.slice(start, start + CHUNK_SIZE);
    const results = new Aggregator([stage], run.computeOptions).run<Document>(clonedLazily(chunk, fields));
    for (const result of results) out.push(result);
    if (run.budget.dueNow()) await run.budget.pause();
  }
  return out;
}

/**
 * run-pipeline.ts's $facet: each sub-pipeline runs on the stage's input as a pipeline does; undefined when a
 * sub-pipeline is not an array, for mingo's stage to refuse.
 */
async function facetInSlices(
  docs: Document[],
  spec: Document,
  run: SlicedRun,
): Promise<Document[] | undefined> {
  const subPipelines = Object.entries(spec);
  if (!subPipelines.every(([, subPipeline]) => Array.isArray(subPipeline))) return undefined;
  for (const [, subPipeline] of subPipelines) validateStages(subPipeline as unknown[]);
  const facets: Document = {};
  for (const [name, subPipeline] of subPipelines) {
    facets[name] = await runStagesInSlices(docs, subPipeline as Document[], run);
  }
  return [facets];
}
