// `$group` stages of the counting and summing kind (`{_id: '$status', n: {$sum: 1}}`, the driver's countDocuments
// `{_id: 1, n: {$sum: 1}}`, `{_id: '$input.currency', total: {$sum: '$input.amount'}}`), run on the stored documents
// in slices instead of through mingo on copies of them; anything they cannot answer exactly goes back to mingo.
import type { Document } from 'bson';
import { isPlainDocument } from '../query/index.js';
import type { ReadBudget } from './read-budget.js';
import { scanSliced } from './read-budget.js';

/** One accumulator: `{$sum: 1}` counts (no `path`), `{$sum: '$a.b'}` sums the int32 values at `path`. */
interface SumAccumulator {
  readonly name: string;
  readonly path: readonly string[] | undefined;
}

/** A `$group` this file runs: its key a constant or one field path, every accumulator a SumAccumulator. */
export interface SimpleGroup {
  /** The path whose value is the group key, or undefined for one group over everything. */
  readonly keyPath: readonly string[] | undefined;
  readonly constantKey: unknown;
  readonly accumulators: readonly SumAccumulator[];
}

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/** `'$a.b'` as ['a', 'b']; undefined for anything else (`$$variables`, empty parts, `__proto__`). */
function fieldPath(expression: unknown): string[] | undefined {
  if (typeof expression !== 'string' || !expression.startsWith('$') || expression.startsWith('$$'))
    return undefined;
  const parts = expression.slice(1).split('.');
  return parts.every((part) => part !== '' && part !== '__proto__') ? parts : undefined;
}

/** The stage as a SimpleGroup, or undefined when it needs mingo. */
export function simpleGroupOf(stage: Document | undefined): SimpleGroup | undefined {
  if (!stage || !isPlainDocument(stage.$group)) return undefined;
  const spec = stage.$group;
  if (!('_id' in spec)) return undefined;
  const key: unknown = spec._id;
  const keyPath = fieldPath(key);
  if (keyPath === undefined && !isPlainConstant(key)) return undefined;
  const accumulators: SumAccumulator[] = [];
  for (const [name, accumulator] of Object.entries(spec)) {
    if (name === '_id') continue;
    if (!isPlainDocument(accumulator) || Object.keys(accumulator).length !== 1) return undefined;
    const summed: unknown = accumulator.$sum;
    const path = summed === 1 ? undefined : fieldPath(summed);
    if (summed !== 1 && path === undefined) return undefined;
    accumulators.push({ name, path });
  }
  return { keyPath, constantKey: keyPath === undefined ? key : undefined, accumulators };
}

/** Whether the group only counts (every accumulator `{$sum: 1}`). */
export function isCountingGroup(group: SimpleGroup): boolean {
  return group.accumulators.every((accumulator) => accumulator.path === undefined);
}

/**
 * `{$count: 'name'}`'s output field (it equals `{_id: null, name: {$sum: 1}}` without the _id), or undefined for
 * anything else (a name mingo must refuse).
 */
export function countStageName(stage: Document | undefined): string | undefined {
  const name: unknown = stage?.$count;
  if (stage === undefined || Object.keys(stage).length !== 1 || typeof name !== 'string') return undefined;
  if (name === '' || name.startsWith('$') || name.includes('.') || name === '_id') return undefined;
  return name;
}

/** Strings, booleans, null and finite JS numbers group by plain equality; anything else is left to mingo. */
function isPlainConstant(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** Marks a value this file leaves to mingo: an array on the path (whose rules differ by operator). */
const UNSUPPORTED = Symbol('unsupported');

/** The value at `path` (undefined when missing); UNSUPPORTED when an array lies on it. */
function valueAt(doc: Document, path: readonly string[]): unknown {
  let value: unknown = doc;
  for (const part of path) {
    if (Array.isArray(value)) return UNSUPPORTED;
    if (!isPlainDocument(value) || !Object.hasOwn(value, part)) return undefined;
    value = value[part];
  }
  return Array.isArray(value) ? UNSUPPORTED : value;
}

/**
 * The group documents (in order of each key's first document), or undefined when mingo must run the stage: a key
 * that is not a plain constant (a Long, a date, a sub-document), an array on a path, or a summed value that is a
 * number other than a JS int32 (a double, a Long...) or a sum leaving the int32 range, whose result types mingo's
 * typed arithmetic decides. $sum ignores values that are not numbers, as MongoDB's does.
 */
export async function runSimpleGroup(
  docs: Iterable<Document>,
  group: SimpleGroup,
  budget: ReadBudget,
): Promise<Document[] | undefined> {
  const totals = new Map<unknown, number[]>();
  let supported = true;
  const { keyPath, accumulators } = group;
  await scanSliced(
    docs,
    (doc) => {
      let key: unknown = group.constantKey;
      if (keyPath !== undefined) {
        key = valueAt(doc, keyPath) ?? null;
        // -0 and 0 are one key (Map compares with SameValueZero); a missing key and null are one group, as in MongoDB.
        if (!isPlainConstant(key)) return (supported = false);
      }
      let sums = totals.get(key);
      if (!sums) totals.set(key, (sums = accumulators.map(() => 0)));
      for (let at = 0; at < accumulators.length; at++) {
        const path = accumulators[at]!.path;
        let added = 1;
        if (path !== undefined) {
          const value = valueAt(doc, path);
          if (value === UNSUPPORTED) return (supported = false);
          if (typeof value !== 'number') {
            if (typeof value === 'object' && value !== null && '_bsontype' in value)
              return (supported = false);
            continue;
          }
          // A double (-0, a fraction, an integer beyond int32) makes the sum a double: mingo's typed arithmetic.
          if (!Number.isInteger(value) || value > INT32_MAX || value < INT32_MIN || Object.is(value, -0))
            return (supported = false);
          added = value;
        }
        const sum = sums[at]! + added;
        if (sum > INT32_MAX || sum < INT32_MIN) return (supported = false);
        sums[at] = sum;
      }
      return true;
    },
    budget,
  );
  if (!supported) return undefined;
  const out: Document[] = [];
  for (const [key, sums] of totals) {
    const groupDoc: Document = { _id: key };
    for (const [at, accumulator] of accumulators.entries()) groupDoc[accumulator.name] = sums[at];
    out.push(groupDoc);
  }
  return out;
}
