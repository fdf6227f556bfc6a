// A sort that pauses between slices, for $sort over a whole collection: each document's sort values are read once
// into one flat array, and an array of indexes (no object per document, so little for the collector to do) is
// sorted in runs and merged pairwise, so that the n log n comparisons never hold the event loop in one piece.
import { compileSortKeys } from './compile-sort.js';
import type { CollationSpec } from 'mingo/types';
import type { Document } from './document.js';
import type { PipelineBudget } from './pipeline-budget.js';

/** Indexes sorted in one piece: below this a pause would cost more than the sort. */
const RUN_LENGTH = 512;

/**
 * `docs` in compileSort's order, equal documents in input order (the same as `docs.slice().sort(compileSort(...))`,
 * which is stable); never modifies `docs`.
 */
export async function sortInSlices(
  docs: readonly Document[],
  sort: Document,
  collation: CollationSpec | undefined,
  budget: PipelineBudget,
): Promise<Document[]> {
  const sortKeys = compileSortKeys(sort, collation);
  const width = sortKeys.width;
  const count = docs.length;
  const values = new Array<unknown>(count * width);
  for (let index = 0; index < count; index++) {
    for (let key = 0; key < width; key++) values[index * width + key] = sortKeys.valueAt(docs[index]!, key);
    if (budget.due()) await budget.pause();
  }
  // Ties go by input position, so that the order is the stable one whatever the sort algorithm.
  const compare = (left: number, right: number): number => {
    for (let key = 0; key < width; key++) {
      const order = sortKeys.compareAt(key, values[left * width + key], values[right * width + key]);
      if (order !== 0) return order;
    }
    return left - right;
  };
  const order = await sortIndexesInSlices(count, compare, budget);
  const out = new Array<Document>(count);
  for (let at = 0; at < count; at++) {
    out[at] = docs[order[at]!]!;
    if (budget.due()) await budget.pause();
  }
  return out;
}

/** The indexes 0..count-1 sorted by `compare` (a total order), in sorted runs merged pairwise. */
async function sortIndexesInSlices(
  count: number,
  compare: (left: number, right: number) => number,
  budget: PipelineBudget,
): Promise<Uint32Array> {
  let source = new Uint32Array(count);
  for (let index = 0; index < count; index++) source[index] = index;
  for (let start = 0; start < count; start += RUN_LENGTH) {
    source.subarray(start, Math.min(start + RUN_LENGTH, count)).sort(compare);
    if (budget.dueNow()) await budget.pause();
  }
  let target = new Uint32Array(count);
  for (let width = RUN_LENGTH; width < count; width *= 2) {
    for (let left = 0; left < count; left += 2 * width) {
      const middle = Math.min(left + width, count);
      const end = Math.min(left + 2 * width, count);
      let fromLeft = left;
      let fromRight = middle;
      let at = left;
      while (fromLeft < middle && fromRight < end) {
        const leftIndex = source[fromLeft]!;
        const rightIndex = source[fromRight]!;
        if (compare(rightIndex, leftIndex) < 0) {
          target[at++] = rightIndex;
          fromRight++;
        } else {
          target[at++] = leftIndex;
          fromLeft++;
        }
        if (budget.due()) await budget.pause();
      }
      while (fromLeft < middle) target[at++] = source[fromLeft++]!;
      while (fromRight < end) target[at++] = source[fromRight++]!;
    }
    [source, target] = [target, source];
  }
  return source;
}
