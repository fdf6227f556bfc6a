// `$group` stages of the counting kind (`{_id: '$status', n: {$sum: 1}}`, the driver's countDocuments
// `{_id: 1, n: {$sum: 1}}`), run on the stored documents in slices instead of through mingo on copies of them.
import type { Document } from 'bson';
import { isPlainDocument } from '../query/index.js';
import type { ReadBudget } from './read-budget.js';
import { scanSliced } from './read-budget.js';

/** A `$group` this file runs: its key is a constant or one top-level field, every accumulator `{$sum: 1}`. */
export interface CountingGroup {
  /** The field whose value is the group key, or undefined for one group over everything. */
  readonly keyField: string | undefined;
  readonly constantKey: unknown;
  readonly counters: readonly string[];
}

/** The stage as a CountingGroup, or undefined when it needs mingo. */
export function countingGroupOf(stage: Document | undefined): CountingGroup | undefined {
  if (!stage || !isPlainDocument(stage.$group)) return undefined;
  const spec = stage.$group;
  if (!('_id' in spec)) return undefined;
  const key: unknown = spec._id;
  let keyField: string | undefined;
  if (typeof key === 'string' && key.startsWith('$')) {
    keyField = key.slice(1);
    // Dotted paths and `$$variables` have array and scope rules the general path applies.
    if (keyField === '' || keyField.includes('.') || keyField.startsWith('$')) return undefined;
  } else if (!isPlainConstant(key)) return undefined;
  const counters: string[] = [];
  for (const [name, accumulator] of Object.entries(spec)) {
    if (name === '_id') continue;
    if (!isPlainDocument(accumulator) || Object.keys(accumulator).length !== 1) return undefined;
    if (accumulator.$sum !== 1) return undefined;
    counters.push(name);
  }
  return { keyField, constantKey: keyField === undefined ? key : undefined, counters };
}

/**
 * `{$count: 'name'}` as the CountingGroup it equals (`{_id: null, name: {$sum: 1}}` without the _id), or undefined
 * for anything else (a name mingo must refuse).
 */
export function countStageName(stage: Document | undefined): string | undefined {
  const name: unknown = stage?.$count;
  if (stage === undefined || Object.keys(stage).length !== 1 || typeof name !== 'string') return undefined;
  if (name === '' || name.startsWith('$') || name.includes('.') || name === '_id') return undefined;
  return name;
}

/** Strings, booleans, null and finite numbers group by plain equality; anything else is left to mingo. */
function isPlainConstant(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/**
 * The group documents (in order of each key's first document), or undefined when a key value is not a plain
 * constant (a Long, a sub-document...): mingo then runs the stage, with MongoDB's rules for those.
 */
export async function runCountingGroup(
  docs: Iterable<Document>,
  group: CountingGroup,
  budget: ReadBudget,
): Promise<Document[] | undefined> {
  const counts = new Map<unknown, number>();
  let plain = true;
  const { keyField } = group;
  await scanSliced(
    docs,
    (doc) => {
      let key: unknown = group.constantKey;
      if (keyField !== undefined) {
        key = doc[keyField] ?? null;
        if (!isPlainConstant(key)) {
          plain = false;
          return false;
        }
        // -0 and 0 are one key (Map compares with SameValueZero already); so are 5 and 5.0 as JS numbers.
      }
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return true;
    },
    budget,
  );
  if (!plain) return undefined;
  const out: Document[] = [];
  for (const [key, n] of counts) {
    const groupDoc: Document = { _id: key };
    for (const counter of group.counters) groupDoc[counter] = n;
    out.push(groupDoc);
  }
  return out;
}
