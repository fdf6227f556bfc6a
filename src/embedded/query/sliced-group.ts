// $group and $bucket in slices, with the results mingo's stages give: documents are put in their groups a slice at a
// time and the common accumulators are computed as they arrive (group-accumulator.ts); the others are evaluated by
// mingo on each group's copies once every group is known. With a field path key and accumulators that read field
// paths nothing is copied: the key is read from the stored document and only it is copied.
import { evalExpr } from 'mingo/core';
import * as pipelineOperators from 'mingo/operators/pipeline';
import { Lazy } from 'mingo/lazy';
import { HashMap, assert, compare, findInsertIndex, isNil, resolve } from 'mingo/util';
import type { Options } from 'mingo/types';
import { isPlainDocument } from './bson-type-name.js';
import { cloneForExpressions } from './clone-document.js';
import { copyComputeOptions, type ComputeOptions } from './compute-options.js';
import type { Document } from './document.js';
import { GroupAccumulator, fieldPath, type GroupState } from './group-accumulator.js';
import type { PipelineBudget } from './pipeline-budget.js';
import { pipelineCopy } from './run-pipeline.js';
import { fieldsReadBy } from './stage-dependencies.js';
import { PLAIN_VALUE_OPERATOR } from './typed-arithmetic.js';

/**
 * How a document's group key is read: mingo evaluates `expression` on the document's copy. A field path there
 * resolves on the copy (mingo's computeExpression does just that), which is the copy of what it resolves to on the
 * document, so without accumulators needing copies none is made. Also answers the copy when one was made.
 */
function keyReader(
  key: unknown,
  expression: unknown,
  accumulator: GroupAccumulator,
  options: ComputeOptions,
): (doc: Document) => [unknown, Document | undefined] {
  const path = fieldPath(key);
  if (path === undefined) {
    return (doc) => {
      const copy = accumulator.copyOf(doc);
      return [evalExpr(copy, expression, options), copy];
    };
  }
  if (accumulator.copiesEach) {
    return (doc) => {
      const copy = accumulator.copyOf(doc);
      return [resolve(copy, path), copy];
    };
  }
  return (doc) => [cloneForExpressions(resolve(doc, path)), undefined];
}

/**
 * `{$group}` over `docs` (stage input: stored documents or a previous stage's output), as the $group of
 * run-pipeline.ts computes it; undefined for a spec mingo should judge (no `_id`, not a document).
 */
export async function groupInSlices(
  docs: readonly Document[],
  spec: unknown,
  options: ComputeOptions,
  budget: PipelineBudget,
): Promise<Document[] | undefined> {
  if (!isPlainDocument(spec) || !('_id' in spec)) return undefined;
  const { _id: idSpec, ...accumulators } = spec;
  const keyExpression = { [PLAIN_VALUE_OPERATOR]: idSpec };
  const fields = fieldsReadBy({ $group: spec });
  const accumulator = new GroupAccumulator(accumulators, (doc) => pipelineCopy(doc, fields), options);
  const keyOf = keyReader(idSpec, keyExpression, accumulator, options);
  const groups = HashMap.init<unknown, GroupState>();
  for (const doc of docs) {
    const [rawKey, copy] = keyOf(doc);
    // mingo's groupBy: a missing key is null.
    const key = rawKey ?? null;
    let state = groups.get(key);
    if (state === undefined) {
      state = accumulator.newState();
      groups.set(key, state);
    }
    accumulator.add(state, doc, copy);
    if (budget.due()) await budget.pause();
  }
  const groupOptions = copyComputeOptions(options);
  const out: Document[] = [];
  for (const groupId of Array.from(groups.keys())) {
    const output: Document = { _id: groupId };
    await accumulator.finish(
      groups.get(groupId) as GroupState,
      output,
      groupOptions.update({ root: null, groupId }),
      budget,
    );
    out.push(output);
    if (accumulator.keepsCopies ? budget.dueNow() : budget.due()) await budget.pause();
  }
  return out;
}

interface BucketSpec {
  groupBy: unknown;
  boundaries: unknown[];
  default?: unknown;
  output?: Document;
}

/**
 * `{$bucket}` over `docs`, as mingo's $bucket computes it (its checks first, by mingo itself; every boundary's
 * bucket in order, empty ones too, then the default's when it holds documents; output fields, then `_id`).
 */
export async function bucketInSlices(
  docs: readonly Document[],
  spec: unknown,
  options: ComputeOptions,
  budget: PipelineBudget,
): Promise<Document[] | undefined> {
  if (!isPlainDocument(spec) || !Array.isArray(spec.boundaries)) return undefined;
  const output = spec.output ?? { count: { $sum: 1 } };
  if (!isPlainDocument(output) || Object.keys(output).some((name) => name.startsWith('$'))) return undefined;
  // mingo checks the boundaries and the default when the stage is built.
  (pipelineOperators.$bucket as (c: unknown, e: unknown, o: Options) => unknown)(Lazy([]), spec, options);
  const { boundaries, default: defaultKey, groupBy } = spec as unknown as BucketSpec;
  const lower: unknown = boundaries[0];
  const upper: unknown = boundaries[boundaries.length - 1];
  const names = Object.keys(output);
  const fields = fieldsReadBy({ $bucket: spec });
  const accumulator = new GroupAccumulator(output, (doc) => pipelineCopy(doc, fields), options);
  const buckets = boundaries.slice(0, -1).map(() => accumulator.newState());
  const defaultBucket = accumulator.newState();
  const keyOf = keyReader(groupBy, groupBy, accumulator, options);
  for (const doc of docs) {
    const [key, copy] = keyOf(doc);
    if (isNil(key) || compare(key, lower) < 0 || compare(key, upper) >= 0) {
      assert(!isNil(defaultKey), '$bucket require a default for out of range values');
      accumulator.add(defaultBucket, doc, copy);
    } else {
      const index = findInsertIndex(boundaries, key);
      accumulator.add(buckets[Math.max(0, index - 1)] as GroupState, doc, copy);
    }
    if (budget.due()) await budget.pause();
  }
  const keyed: Array<[unknown, GroupState]> = boundaries
    .slice(0, -1)
    .map((bound, at) => [bound, buckets[at]!]);
  if (!isNil(defaultKey) && defaultBucket.count > 0) keyed.push([defaultKey, defaultBucket]);
  const out: Document[] = [];
  for (const [key, state] of keyed) {
    const fields: Document = {};
    if (state.count === 0) {
      // An empty bucket: mingo's accumulators over no documents (a plain 0 count, a null average).
      for (const name of names) fields[name] = evalExpr([], output[name], options);
    } else await accumulator.finish(state, fields, options, budget);
    fields._id = key;
    out.push(fields);
    if (budget.dueNow()) await budget.pause();
  }
  return out;
}
