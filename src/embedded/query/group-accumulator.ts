// The accumulators of a $group or $bucket computed a document at a time, with the results typed-arithmetic.ts,
// typed-value-operators.ts and mingo give over a whole group: $sum, $avg fold; $first/$last keep one document;
// $push, $addToSet, $min and $max gather each document's value and reduce once, in one linear pass. Any other
// accumulator is left to mingo over the group's copies (one call per group, the part that is not sliced).
import { evalExpr } from 'mingo/core';
import { HashMap, compare, isNil, resolve } from 'mingo/util';
import { arithmetic, numericValue } from './bson-numbers.js';
import { isPlainDocument } from './bson-type-name.js';
import { cloneForExpressions } from './clone-document.js';
import { copyComputeOptions, type ComputeOptions } from './compute-options.js';
import type { Document } from './document.js';
import { addToTypedSum, isDecimal, isNumber, typedMean } from './typed-arithmetic.js';
import type { PipelineBudget } from './pipeline-budget.js';

/** How one output field of a group is computed; `path` when the operand is a plain field path. */
type Accumulation =
  | { kind: 'count'; factor: number }
  | { kind: 'sum' | 'avg'; path: string }
  | { kind: 'push' | 'addToSet' | 'min' | 'max'; operand: unknown; path: string | undefined }
  | { kind: 'first' | 'last' | 'mingo'; expression: unknown };

/** A group's running state: one slot per output field; its copies only when a field needs mingo. */
export interface GroupState {
  count: number;
  sums: unknown[];
  numbers: number[];
  decimals: boolean[];
  /** Per gathering slot: each document's value as mingo's $push gives it, and (for $min/$max) as stored. */
  values: unknown[][];
  typedValues: unknown[][];
  first: Document | undefined;
  last: Document | undefined;
  copies: Document[];
}

/** A plain field path operand (`'$a.b'`): mingo resolves it on the copy, typedOperand on the stored document. */
export function fieldPath(operand: unknown): string | undefined {
  return typeof operand === 'string' &&
    operand.length > 1 &&
    operand.startsWith('$') &&
    !operand.startsWith('$$')
    ? operand.slice(1)
    : undefined;
}

const GATHERING = { $push: 'push', $addToSet: 'addToSet', $min: 'min', $max: 'max' } as const;

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
  if (Object.hasOwn(GATHERING, name) && !isNil(operand)) {
    const kind = GATHERING[name as keyof typeof GATHERING];
    // typed-value-operators' $min/$max evaluate a computed operand's stored-type candidates with the group as $$ROOT;
    // mingo keeps that case.
    if (path !== undefined || kind === 'push' || kind === 'addToSet') return { kind, operand, path };
  }
  if (name === '$first' || name === '$last')
    return { kind: name === '$first' ? 'first' : 'last', expression };
  return { kind: 'mingo', expression };
}

export class GroupAccumulator {
  private readonly fields: ReadonlyArray<readonly [string, Accumulation]>;
  /** Some field is evaluated by mingo over the group's copies. */
  readonly keepsCopies: boolean;
  /** Some field needs each document's copy as it arrives. */
  readonly copiesEach: boolean;
  /** mingo's $push evaluates its operand with the document as $$ROOT. */
  private readonly documentOptions: ComputeOptions;

  constructor(
    output: Document,
    /** The copy mingo's stage would have made of a document. */
    readonly copyOf: (doc: Document) => Document,
    options: ComputeOptions,
  ) {
    this.fields = Object.keys(output).map((name) => [name, accumulationOf(output[name])] as const);
    this.keepsCopies = this.fields.some(([, accumulation]) => accumulation.kind === 'mingo');
    this.copiesEach =
      this.keepsCopies ||
      this.fields.some(([, accumulation]) => 'path' in accumulation && accumulation.path === undefined);
    this.documentOptions = copyComputeOptions(options);
  }

  newState(): GroupState {
    const slots = this.fields.length;
    return {
      count: 0,
      sums: new Array<unknown>(slots).fill(0),
      numbers: new Array<number>(slots).fill(0),
      decimals: new Array<boolean>(slots).fill(false),
      values: Array.from({ length: slots }, () => []),
      typedValues: Array.from({ length: slots }, () => []),
      first: undefined,
      last: undefined,
      copies: [],
    };
  }

  /** Adds `doc` to a group; `copy` is its copy when copiesEach. */
  add(state: GroupState, doc: Document, copy: Document | undefined): void {
    state.count++;
    state.first ??= doc;
    state.last = doc;
    if (this.keepsCopies) state.copies.push(copy!);
    for (let slot = 0; slot < this.fields.length; slot++) {
      const accumulation = (this.fields[slot] as readonly [string, Accumulation])[1];
      switch (accumulation.kind) {
        case 'sum':
        case 'avg': {
          // typedOperand reads a field path from the copy's typed source: the document itself.
          const value: unknown = resolve(doc, accumulation.path);
          if (!isNumber(value)) break;
          state.sums[slot] = addToTypedSum(state.sums[slot], value);
          state.numbers[slot] = (state.numbers[slot] as number) + 1;
          if (isDecimal(value)) state.decimals[slot] = true;
          break;
        }
        case 'push':
        case 'addToSet':
        case 'min':
        case 'max':
          this.gather(state, slot, accumulation, doc, copy);
          break;
        default:
      }
    }
  }

  private gather(
    state: GroupState,
    slot: number,
    accumulation: Extract<Accumulation, { kind: 'push' | 'addToSet' | 'min' | 'max' }>,
    doc: Document,
    copy: Document | undefined,
  ): void {
    let value: unknown;
    if (accumulation.path !== undefined) {
      // What resolving the path on the copy gives: the copy of what it resolves to on the document.
      const stored: unknown = resolve(doc, accumulation.path);
      value = cloneForExpressions(stored);
      if (accumulation.kind === 'min' || accumulation.kind === 'max') state.typedValues[slot]!.push(stored);
    } else {
      // mingo's $push: the operand evaluated with the document's copy as $$ROOT.
      value = evalExpr(copy, accumulation.operand, this.documentOptions.update({ root: copy }));
    }
    state.values[slot]!.push(value ?? null);
  }

  /** The output fields of a non-empty group, in the stage's order, as mingo's evaluation of each would give them. */
  async finish(
    state: GroupState,
    output: Document,
    options: ComputeOptions,
    budget: PipelineBudget,
  ): Promise<void> {
    for (let slot = 0; slot < this.fields.length; slot++) {
      const [name, accumulation] = this.fields[slot] as readonly [string, Accumulation];
      const values = state.values[slot] as unknown[];
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
        case 'push':
          output[name] = values;
          break;
        case 'addToSet':
          output[name] = await uniqueInSlices(values, budget);
          break;
        case 'min':
        case 'max':
          output[name] = await pickedInSlices(
            values,
            state.typedValues[slot] as unknown[],
            accumulation.kind,
            budget,
          );
          break;
        // $first/$last read one document of the group: the typed operand of that one is what they return.
        case 'first':
          output[name] = evalExpr([this.copyOf(state.first!)], accumulation.expression, options);
          break;
        case 'last':
          output[name] = evalExpr([this.copyOf(state.last!)], accumulation.expression, options);
          break;
        case 'mingo':
          output[name] = evalExpr(state.copies, accumulation.expression, options);
          break;
      }
    }
  }
}

/**
 * typed-value-operators' $min/$max over a group: mingo's accumulator (the first, or last, of the values sorted stably
 * with its `compare`, null when that is null or missing; $min leaves those out first), then the first stored operand
 * with that value (typed-value-operators' typedEqual). One pass finds the same value: the first smallest, the last largest.
 */
async function pickedInSlices(
  values: readonly unknown[],
  typedValues: readonly unknown[],
  kind: 'min' | 'max',
  budget: PipelineBudget,
): Promise<unknown> {
  let best: unknown = undefined;
  let found = false;
  for (const value of values) {
    if (budget.due()) await budget.pause();
    if (kind === 'min' && isNil(value)) continue;
    if (!found || (kind === 'min' ? compare(value, best) < 0 : compare(value, best) >= 0)) best = value;
    found = true;
  }
  const result = isNil(best) ? null : best;
  if (typeof result !== 'number' || Number.isNaN(result)) return result;
  // typedEqual's search, a slice at a time.
  for (const candidate of typedValues) {
    if (isNumber(candidate) && Number(numericValue(candidate)) === result) return candidate;
    if (budget.due()) await budget.pause();
  }
  return result;
}

/** mingo's `unique` (first occurrences, in order, by its value equality), a slice at a time. */
async function uniqueInSlices(values: readonly unknown[], budget: PipelineBudget): Promise<unknown[]> {
  const seen = HashMap.init<unknown, true>();
  for (const value of values) {
    seen.set(value, true);
    if (budget.due()) await budget.pause();
  }
  return Array.from(seen.keys());
}
