// Reads in an index's key order: the filter's equality on leading index fields and a range on the next one become
// the bounds of a walk over the index order (index-order.ts), which also serves a sort that follows the index.
import type { Document } from 'bson';
import type { CollectionIndex } from './collection-index.js';
import { equalityValues, rangeOf, type FieldRange } from './filter-bounds.js';
import type { IndexOrder, OrderedEntry } from './index-order.js';

/** What ordered reads need of a collection (collection.ts), without importing it. */
export interface OrderedSource {
  readonly documents: ReadonlyMap<string, Document>;
  readonly indexes: ReadonlyMap<string, CollectionIndex>;
  idOrder(): IndexOrder;
}

export interface OrderedCandidates {
  readonly indexName: string;
  readonly keyPattern: Document;
  /** How many leading index fields the filter pins by equality. */
  readonly pinned: number;
  /** Whether a range on the next field bounds the walk. */
  readonly ranged: boolean;
  /** Whether the documents come in the requested sort's order. */
  readonly sorted: boolean;
  readonly direction: 1 | -1;
  readonly documents: Iterable<Document>;
}

interface OrderCandidate {
  readonly name: string;
  readonly fields: readonly string[];
  readonly keyPattern: Document;
  readonly walk: (
    direction: 1 | -1,
    prefix: unknown[],
    range: FieldRange,
  ) => Iterable<OrderedEntry> | undefined;
}

/**
 * The best index walk for `filter` (and `sort`, which it must then produce), or undefined when none is better than
 * what the caller has: without a sort, only a walk bounded by a range is offered (equality alone is served by the
 * hash lookups of Collection.plan); with one, any index whose order gives the sort after the pinned fields.
 */
export function orderedCandidates(
  source: OrderedSource,
  filter: Document,
  sort: Document | undefined,
): OrderedCandidates | undefined {
  // The common case on the hot path (find by equality, no sort): nothing to walk, decided without allocating.
  if (sort === undefined && !hasRange(filter)) return undefined;
  const sortFields = sort ? Object.keys(sort) : [];
  const sortDirections = sortFields.map((field) => sort?.[field] as unknown);
  const isDirection = (d: unknown): d is 1 | -1 => d === 1 || d === -1;
  if (!sortDirections.every(isDirection)) return undefined;
  const candidates: OrderCandidate[] = [
    {
      name: '_id_',
      fields: ['_id'],
      keyPattern: { _id: 1 },
      walk: (direction, prefix, range) => source.idOrder().walk(direction, prefix, range),
    },
  ];
  for (const index of source.indexes.values()) {
    candidates.push({
      name: index.name,
      fields: index.fields,
      keyPattern: index.spec.key,
      walk: (direction, prefix, range) => index.ordered(direction, prefix, range, source.documents),
    });
  }
  let best: { score: number; make: () => OrderedCandidates | undefined } | undefined;
  for (const candidate of candidates) {
    const { fields } = candidate;
    const prefix: unknown[] = [];
    while (prefix.length < fields.length) {
      const values = equalityValues(filter[fields[prefix.length]!]);
      if (values?.length !== 1) break;
      prefix.push(values[0]);
    }
    const rangeField = fields[prefix.length];
    const range = rangeField === undefined ? undefined : rangeOf(filter[rangeField]);
    let direction: 1 | -1 | undefined = 1;
    if (sortFields.length > 0) {
      // The sort may start at any pinned field (a constant sorts nothing) but must then follow the index's fields.
      direction = undefined;
      for (let start = prefix.length; start >= 0 && direction === undefined; start--) {
        direction = walkDirection(candidate, start, sortFields, sortDirections);
      }
      if (direction === undefined) continue;
    } else if (!range) continue;
    const score = prefix.length * 2 + (range ? 1 : 0);
    if (best && best.score >= score) continue;
    const walkDirectionChosen = direction;
    best = {
      score,
      make: () => {
        const entries = candidate.walk(walkDirectionChosen, prefix, range ?? {});
        if (!entries) return undefined;
        return {
          indexName: candidate.name,
          keyPattern: candidate.keyPattern,
          pinned: prefix.length,
          ranged: range !== undefined,
          sorted: sortFields.length > 0,
          direction: walkDirectionChosen,
          documents: resolveEntries(source.documents, entries),
        };
      },
    };
  }
  return best?.make();
}

function hasRange(filter: Document): boolean {
  for (const field in filter) if (rangeOf(filter[field]) !== undefined) return true;
  return false;
}

function* resolveEntries(
  documents: ReadonlyMap<string, Document>,
  entries: Iterable<OrderedEntry>,
): Iterable<Document> {
  for (const { idKey } of entries) {
    const doc = documents.get(idKey);
    if (doc) yield doc;
  }
}

/**
 * 1 when walking the index forward from field `start` gives `sortFields` in their directions, -1 when walking it
 * backward does, undefined when neither does.
 */
function walkDirection(
  candidate: OrderCandidate,
  start: number,
  sortFields: readonly string[],
  sortDirections: readonly (1 | -1)[],
): 1 | -1 | undefined {
  let direction: 1 | -1 | undefined;
  for (let at = 0; at < sortFields.length; at++) {
    const field = candidate.fields[start + at];
    if (field === undefined || field !== sortFields[at]) return undefined;
    const wanted = sortDirections[at]!;
    const relative = Number(candidate.keyPattern[field]) < 0 ? -wanted : wanted;
    if (direction !== undefined && relative !== direction) return undefined;
    direction = relative === 1 ? 1 : -1;
  }
  return direction;
}
