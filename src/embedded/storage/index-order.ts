// An index's entries in key order, for sorted reads and explain's IXSCAN: built the first time a sorted read asks
// for it, then kept up to date at O(1) per write (changes wait in side lists that reads merge in and fold into the
// sorted base once they have grown), so writes to a collection nobody reads sorted pay nothing.
import { compareValues } from '../query/index.js';
import type { FieldRange } from './filter-bounds.js';

export interface OrderedEntry {
  /** The document's value for each index field (null when missing), in index order. */
  readonly values: readonly unknown[];
  readonly idKey: string;
}

/** Pending changes beyond this share of the base (or this many) are folded in by the next read. */
const FOLD_SHARE = 16;
const FOLD_MIN = 1_024;

export class IndexOrder {
  private base: OrderedEntry[];
  private added: OrderedEntry[] = [];
  private addedSorted = true;
  /** Entries no longer live (removed or replaced), skipped by walks until the next fold. */
  private readonly removed = new Set<OrderedEntry>();
  /** idKey → its live entry. */
  private readonly live = new Map<string, OrderedEntry>();

  /** `directions` holds each field's 1 or -1 from the key pattern. */
  constructor(
    private readonly directions: readonly number[],
    entries: OrderedEntry[],
  ) {
    for (const entry of entries) this.live.set(entry.idKey, entry);
    this.base = entries.sort(this.compareEntries);
  }

  /** More pending changes than a fold is worth keeping: the owner drops the order, the next read rebuilds it. */
  get overgrown(): boolean {
    return this.added.length + this.removed.size > Math.max(this.base.length, FOLD_MIN) * 4;
  }

  add(idKey: string, values: readonly unknown[]): void {
    this.remove(idKey);
    const entry = { values, idKey };
    this.live.set(idKey, entry);
    this.added.push(entry);
    this.addedSorted = false;
  }

  remove(idKey: string): void {
    const entry = this.live.get(idKey);
    if (!entry) return;
    this.live.delete(idKey);
    this.removed.add(entry);
  }

  /**
   * The live entries in index order (`direction` 1) or reverse (-1); with `prefix`, only those whose first fields
   * equal it, and with `range`, only those whose next field lies in it; both found by binary search.
   */
  *walk(direction: 1 | -1, prefix: readonly unknown[] = [], range: FieldRange = {}): Generator<OrderedEntry> {
    this.settle();
    yield* this.merge(direction, prefix, range);
  }

  /** base and added merged in order, without the removed entries. */
  private *merge(direction: 1 | -1, prefix: readonly unknown[], bounds: FieldRange): Generator<OrderedEntry> {
    const { base, added, removed } = this;
    // In entry order a descending field runs from its upper bound to its lower one.
    const descending = (this.directions[prefix.length] ?? 1) < 0;
    const first = descending ? bounds.upper : bounds.lower;
    const last = descending ? bounds.lower : bounds.upper;
    const startKey = first ? [...prefix, first.value] : prefix;
    const endKey = last ? [...prefix, last.value] : prefix;
    const startInclusive = first?.inclusive ?? true;
    const endInclusive = last?.inclusive ?? true;
    // Positions of the first and one past the last entry within prefix and range, in each sorted list.
    const range = (list: OrderedEntry[]): [number, number] => [
      lowerBound(list, (entry) => {
        const compared = this.comparePrefix(entry.values, startKey);
        return startInclusive ? compared < 0 : compared <= 0;
      }),
      lowerBound(list, (entry) => {
        const compared = this.comparePrefix(entry.values, endKey);
        return endInclusive ? compared <= 0 : compared < 0;
      }),
    ];
    const [baseFrom, baseTo] = range(base);
    const [addedFrom, addedTo] = range(added);
    let b = direction === 1 ? baseFrom : baseTo - 1;
    let a = direction === 1 ? addedFrom : addedTo - 1;
    const inBase = (): boolean => b >= baseFrom && b < baseTo;
    const inAdded = (): boolean => a >= addedFrom && a < addedTo;
    while (inBase() || inAdded()) {
      let entry: OrderedEntry;
      if (!inAdded() || (inBase() && this.compareEntries(base[b]!, added[a]!) * direction < 0)) {
        entry = base[b]!;
        b += direction;
      } else {
        entry = added[a]!;
        a += direction;
      }
      if (!removed.has(entry)) yield entry;
    }
  }

  /** Sorts the added entries, and folds everything into the base once the pending changes are many. */
  private settle(): void {
    if (!this.addedSorted) {
      this.added.sort(this.compareEntries);
      this.addedSorted = true;
    }
    const pending = this.added.length + this.removed.size;
    if (pending <= Math.max(FOLD_MIN, this.base.length / FOLD_SHARE)) return;
    const merged: OrderedEntry[] = [];
    for (const entry of this.merge(1, [], {})) merged.push(entry);
    this.base = merged;
    this.added = [];
    this.removed.clear();
  }

  private readonly compareEntries = (a: OrderedEntry, b: OrderedEntry): number => {
    const byValues = this.comparePrefix(a.values, b.values);
    if (byValues !== 0) return byValues;
    // Ties (equal keys) in a fixed order, so that the merge of base and added is well defined.
    return a.idKey < b.idKey ? -1 : a.idKey > b.idKey ? 1 : 0;
  };

  /** Compares the first `prefix.length` values (all of them when `prefix` is as long) in index directions. */
  private comparePrefix(values: readonly unknown[], prefix: readonly unknown[]): number {
    for (let at = 0; at < prefix.length; at++) {
      const compared = compareValues(values[at], prefix[at]);
      if (compared !== 0) return compared * (this.directions[at] ?? 1);
    }
    return 0;
  }
}

/** The first position in sorted `list` where `before` turns false. */
function lowerBound(list: readonly OrderedEntry[], before: (entry: OrderedEntry) => boolean): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (before(list[middle]!)) low = middle + 1;
    else high = middle;
  }
  return low;
}
