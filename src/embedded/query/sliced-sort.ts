// A stable sort that pauses between slices: sorted runs merged pairwise, so that a $sort of 100,000 documents never
// holds the event loop for its whole n log n.
import type { PipelineBudget } from './pipeline-budget.js';

/** Documents sorted in one piece: below this a pause would cost more than the sort. */
const RUN_LENGTH = 512;

/**
 * The same order as `items.slice().sort(compare)` (both are stable: equal items keep their input order, since
 * each run is sorted stably and a merge takes from the left run on ties); never modifies `items`.
 */
export async function sortInSlices<T>(
  items: readonly T[],
  compare: (left: T, right: T) => number,
  budget: PipelineBudget,
): Promise<T[]> {
  const count = items.length;
  if (count <= RUN_LENGTH) return items.slice().sort(compare);
  let source: T[] = new Array<T>(count);
  for (let start = 0; start < count; start += RUN_LENGTH) {
    const run = items.slice(start, start + RUN_LENGTH).sort(compare);
    for (let offset = 0; offset < run.length; offset++) source[start + offset] = run[offset] as T;
    if (budget.dueNow()) await budget.pause();
  }
  let target: T[] = new Array<T>(count);
  for (let width = RUN_LENGTH; width < count; width *= 2) {
    for (let left = 0; left < count; left += 2 * width) {
      const middle = Math.min(left + width, count);
      const end = Math.min(left + 2 * width, count);
      let fromLeft = left;
      let fromRight = middle;
      let at = left;
      while (fromLeft < middle && fromRight < end) {
        const leftItem = source[fromLeft] as T;
        const rightItem = source[fromRight] as T;
        if (compare(rightItem, leftItem) < 0) {
          target[at++] = rightItem;
          fromRight++;
        } else {
          target[at++] = leftItem;
          fromLeft++;
        }
        if (budget.due()) await budget.pause();
      }
      while (fromLeft < middle) target[at++] = source[fromLeft++] as T;
      while (fromRight < end) target[at++] = source[fromRight++] as T;
    }
    [source, target] = [target, source];
  }
  return source;
}
