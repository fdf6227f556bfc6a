// The first documents of a sort order, kept while scanning: a sorted page without sorting every match.
import type { Document } from 'bson';

/**
 * Holds at most `size` documents, the smallest by `compare` offered so far, in order. Ties keep the order they were
 * offered in, as a stable sort of all of them would.
 */
export class SortedPage {
  private readonly kept: Document[] = [];

  constructor(
    private readonly size: number,
    private readonly compare: (a: Document, b: Document) => number,
  ) {}

  offer(doc: Document): void {
    const { kept } = this;
    if (kept.length === this.size) {
      // The common case once full: one comparison against the last kept document.
      if (this.size === 0 || this.compare(doc, kept[kept.length - 1]!) >= 0) return;
      kept.pop();
    }
    // Upper bound: after every kept document that is not greater, so equal ones stay in arrival order.
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.compare(doc, kept[middle]!) < 0) high = middle;
      else low = middle + 1;
    }
    kept.splice(low, 0, doc);
  }

  get documents(): Document[] {
    return this.kept;
  }
}
