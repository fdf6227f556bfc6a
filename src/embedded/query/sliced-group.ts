// $group and $bucket in slices, with the results mingo's stages give: documents are copied and put in their groups a
// slice at a time, the common accumulators ($sum, $avg, $first, $last) fold as documents arrive, and any other one is
// evaluated by mingo on its group's copies once every group is known (one call per group: a single group's
// $push or $stdDevPop over every document is the part that still runs in one piece).
import { evalExpr } from 'mingo/core';
import * as pipelineOperators from 'mingo/operators/pipeline';
import { Lazy } from 'mingo/lazy';
import { HashMap, assert, compare, findInsertIndex, isNil, resolve } from 'mingo/util';
import type { Options } from 'mingo/types';
import { arithmetic } from './bson-numbers.js';
import { copyComputeOptions, type ComputeOptions } from './compute-options.js';
import { isPlainDocument } from './bson-type-name.js';
import type { Document } from './document.js';
import type { PipelineBudget } from './pipeline-budget.js';
import { clonedLazily } from './run-pipeline.js';
import { fieldsReadBy } from './stage-dependencies.js';
import {
  PLAIN_VALUE_OPERATOR,
  addToTypedSum,
  isDecimal,
  isNumber,
  typedMean,
  typedSourceOrSelf,
} from './typed-arithmetic.js';

/** How one output field of a group is computed. */
type Accumulation =
  | { kind: 'count'; factor: number }
  | { kind: 'sum' | 'avg'; path: string }
  | { kind: 'first' | 'last' | 'mingo'; expression: unknown };

/** A group's running state: one slot per output field, its copies only when a field needs mingo. */
interface GroupState {
  count: number;
  sums: unknown[];
  numbers: number[];
  decimals: boolean[];
  first: Document | undefined;
  last: Document | undefined;
  copies: Document[];
}

/** A plain field path operand (`'$a.b'`), which typed-arithmetic's $sum/$avg read from the typed source. */
function fieldPath(operand: unknown): string | undefined {
  return typeof operand === 'string' &&
    operand.length > 1 &&
    operand.startsWith('$') &&
    !operand.startsWith('$$')
    ? operand.slice(1)
    : undefined;
}

/** Which accumulations fold here, as typed-arithmetic.ts and typed-value-operators.ts compute them for a group. */
function accumulationOf(expression: unknown): Accumulation {
  if (!isPlainDocument(expression)) return { kind: 'mingo', expression };
  const names = Object.keys(expression);
  const name = names[0];
  if (names.length !== 1 || name === undefined) return { kind: 'mingo', expression };
  const operand: unknown = expression[name];
  const path = fieldPath(operand);
  if (name === '$sum' && typeof operand === 'number') return { kind: 'count', factor: operand };
  if ((name === '$sum' || name === '$avg') && path !== undefined) {
    return { kind: name === '$sum' ? 'sum' : 'avg', path };
  }
  if (name === '$first' || name === '$last')
    return { kind: name === '$first' ? 'first' : 'last', expression };
  return { kind: 'mingo', expression };
}

class GroupAccumulator {
  private readonly keepCopies: boolean;

  constructor(private readonly fields: ReadonlyArray<readonly [string, Accumulation]>) {
    this.keepCopies = fields.some(([, accumulation]) => accumulation.kind === 'mingo');
  }

  get evaluatesGroups(): boolean {
    return this.keepCopies;
  }

  newState(): GroupState {
    const slots = this.fields.length;
    return {
      count: 0,
      sums: new Array<unknown>(slots).fill(0),
      numbers: new Array<number>(slots).fill(0),
      decimals: new Array<boolean>(slots).fill(false),
      first: undefined,
      last: undefined,
      copies: [],
    };
  }

  add(state: GroupState, copy: Document): void {
    state.count++;
    state.first ??= copy;
    state.last = copy;
    if (this.keepCopies) state.copies.push(copy);
    const source = typedSourceOrSelf(copy);
    for (let slot = 0; slot < this.fields.length; slot++) {
      const accumulation = (this.fields[slot] as readonly [string, Accumulation])[1];
      if (accumulation.kind !== 'sum' && accumulation.kind !== 'avg') continue;
      // typedOperand reads a field path from the copy's typed source.
      const value: unknown = resolve(source, accumulation.path);
      if (!isNumber(value)) continue;
      state.sums[slot] = addToTypedSum(state.sums[slot], value);
      state.numbers[slot] = (state.numbers[slot] as number) + 1;
      if (isDecimal(value)) state.decimals[slot] = true;
    }
  }

  /** The output fields of a non-empty group, in the stage's order, as mingo's evaluation of each would give them. */
  finish(state: GroupState, output: Document, options: ComputeOptions): void {
    for (let slot = 0; slot < this.fields.length; slot++) {
      const [name, accumulation] = this.fields[slot] as readonly [string, Accumulation];
      switch (accumulation.kind) {
        case 'count':
          // typed $sum of a constant: the group's size times it (an int32 count overflows to a long).
          output[name] = arithmetic('multiply', state.count, accumulation.factor);
          break;
        case 'sum':
          output[name] = state.sums[slot];
          break;
        case 'avg':
          output[name] = typedMean(
            state.sums[slot],
            state.numbers[slot] as number,
            state.decimals[slot] === true,
          );
          break;
        // $first/$last read one document of the group: the typed operand of that one is what they return.
        case 'first':
          output[name] = evalExpr([state.first], accumulation.expression, options);
          break;
        case 'last':
          output[name] = evalExpr([state.last], accumulation.expression, options);
          break;
        case 'mingo':
          output[name] = evalExpr(state.copies, accumulation.expression, options);
          break;
      }
    }
  }
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
  const keyExpression = { [PLAIN_VALUE_OPERATOR]: spec._id };
  const names = Object.keys(spec).filter((name) => name !== '_id');
  const accumulator = new GroupAccumulator(names.map((name) => [name, accumulationOf(spec[name])] as const));
  const groups = HashMap.init<unknown, GroupState>();
  for (const copy of clonedLazily(docs as Document[], fieldsReadBy({ $group: spec }))) {
    // mingo's groupBy: a missing key is null.
    const key: unknown = evalExpr(copy, keyExpression, options) ?? null;
    let state = groups.get(key);
    if (state === undefined) {
      state = accumulator.newState();
      groups.set(key, state);
    }
    accumulator.add(state, copy);
    if (budget.due()) await budget.pause();
  }
  const groupOptions = copyComputeOptions(options);
  const out: Document[] = [];
  for (const groupId of Array.from(groups.keys())) {
    const output: Document = { _id: groupId };
    accumulator.finish(
      groups.get(groupId) as GroupState,
      output,
      groupOptions.update({ root: null, groupId }),
    );
    out.push(output);
    if (accumulator.evaluatesGroups ? budget.dueNow() : budget.due()) await budget.pause();
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
  const accumulator = new GroupAccumulator(
    names.map((name) => [name, accumulationOf(output[name])] as const),
  );
  const buckets = boundaries.slice(0, -1).map(() => accumulator.newState());
  const defaultBucket = accumulator.newState();
  for (const copy of clonedLazily(docs as Document[], fieldsReadBy({ $bucket: spec }))) {
    const key: unknown = evalExpr(copy, groupBy, options);
    if (isNil(key) || compare(key, lower) < 0 || compare(key, upper) >= 0) {
      assert(!isNil(defaultKey), '$bucket require a default for out of range values');
      accumulator.add(defaultBucket, copy);
    } else {
      const index = findInsertIndex(boundaries, key);
      accumulator.add(buckets[Math.max(0, index - 1)] as GroupState, copy);
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
    } else accumulator.finish(state, fields, options);
    fields._id = key;
    out.push(fields);
    if (budget.dueNow()) await budget.pause();
  }
  return out;
}
