// A secondary index: value keys → document ids. Enforces uniqueness and serves equality lookups.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { compileFilter, valueKey } from '../query/index.js';
import type { IndexSpec } from './oplog-entry.js';
import { formatKeyValue, valuesAtParts, valuesAtPath } from './document-paths.js';
import { IndexOrder, type OrderedEntry } from './index-order.js';
import type { FieldRange } from './filter-bounds.js';

/** Thrown by unique checks; the command layer turns it into a writeError or a command error. */
export class DuplicateKeyError extends MongoCommandError {
  constructor(namespace: string, indexName: string, keyPattern: Document, keyValue: Document) {
    super(
      'DuplicateKey',
      `E11000 duplicate key error collection: ${namespace} index: ${indexName} dup key: ${formatKeyValue(keyValue)}`,
      {
        extra: { keyPattern, keyValue },
      },
    );
  }
}

const KEY_SEPARATOR = '\u0000';
/** Compound keys over several arrays explode combinatorially; MongoDB refuses "parallel arrays" too. */
const MAX_KEYS_PER_DOCUMENT = 10_000;

/** A document's keys in one index: full compound keys, and the keys of its first field. */
export interface IndexKeys {
  full: string[];
  first: string[];
}

export class CollectionIndex {
  readonly fields: string[];
  /** Each field split on dots, once. */
  private readonly fieldParts: string[][];
  /** The distinct top-level fields the index reads. */
  private readonly topFields: string[];
  private readonly partialMatcher: ((doc: Document) => boolean) | undefined;
  /** Full key → ids of the documents holding it. */
  private readonly byKey = new Map<string, Set<string>>();
  /** First field's key → ids; serves equality on an index prefix. */
  private readonly byFirstField = new Map<string, Set<string>>();
  /**
   * Whether some document ever held an array on an indexed path (mongod's multikey flag; never cleared). Until then
   * every document has exactly one key, so the sets of distinct keys are disjoint and a count can add their sizes.
   */
  private multikeyFlag = false;
  /** The entries in key order, once a sorted read asked for them (index-order.ts); kept only while not multikey. */
  private order: IndexOrder | undefined;

  constructor(readonly spec: IndexSpec) {
    this.fields = Object.keys(spec.key);
    this.fieldParts = this.fields.map((field) => field.split('.'));
    this.topFields = [...new Set(this.fieldParts.map((parts) => parts[0] as string))];
    this.partialMatcher = spec.partialFilterExpression
      ? compileFilter(spec.partialFilterExpression)
      : undefined;
  }

  get name(): string {
    return this.spec.name;
  }

  get unique(): boolean {
    return this.spec.unique === true;
  }

  /** Usable to answer queries: holds every document (not sparse, not partial). */
  get complete(): boolean {
    return !this.spec.sparse && !this.partialMatcher;
  }

  /** Whether the index's partial filter (if any) admits `doc`: a TTL index only expires documents it covers. */
  covers(doc: Document): boolean {
    return this.partialMatcher === undefined || this.partialMatcher(doc);
  }

  private includes(doc: Document): boolean {
    if (this.partialMatcher && !this.partialMatcher(doc)) return false;
    if (this.spec.sparse && this.fieldParts.every((parts) => valuesAtParts(doc, parts).length === 0))
      return false;
    return true;
  }

  /**
   * True when `next` has the same keys here as `previous` because every top-level field the index reads holds the
   * same value (documents are never mutated in place, so an identical reference means an identical subtree).
   * A partial index also depends on its filter's fields, so it is always recomputed.
   */
  keysUnchanged(previous: Document, next: Document): boolean {
    if (this.partialMatcher) return false;
    for (const field of this.topFields) {
      if (previous[field] !== next[field] || field in previous !== field in next) return false;
    }
    return true;
  }

  get multikey(): boolean {
    return this.multikeyFlag;
  }

  /** The keys a document has in this index: several when an indexed field holds an array. */
  keysOf(doc: Document): IndexKeys {
    if (!this.includes(doc)) return { full: [], first: [] };
    let combinations: string[][] = [[]];
    for (const parts of this.fieldParts) {
      if (!this.multikeyFlag && pathHoldsArray(doc, parts)) this.multikeyFlag = true;
      const values = valuesAtParts(doc, parts);
      const keys =
        values.length === 0 ? [valueKey(null)] : [...new Set(values.map((value) => valueKey(value)))];
      const next: string[][] = [];
      for (const prefix of combinations) for (const key of keys) next.push([...prefix, key]);
      if (next.length > MAX_KEYS_PER_DOCUMENT) {
        throw new MongoCommandError('BadValue', `cannot index parallel arrays in index ${this.name}`);
      }
      combinations = next;
    }
    const full = combinations.map((parts) => parts.join(KEY_SEPARATOR));
    const first = [...new Set(combinations.map((parts) => parts[0] ?? ''))];
    return { full, first };
  }

  /** Key pattern and values shown in a duplicate key error. */
  private describe(doc: Document): Document {
    const keyValue: Document = {};
    for (const field of this.fields) keyValue[field] = valuesAtPath(doc, field)[0] ?? null;
    return keyValue;
  }

  /** Throws DuplicateKeyError when `doc` (with id key `idKey`) would collide with another document. */
  checkUnique(namespace: string, doc: Document, idKey: string, keys = this.keysOf(doc).full): void {
    if (!this.unique) return;
    for (const key of keys) {
      const holders = this.byKey.get(key);
      if (!holders) continue;
      for (const holder of holders) {
        if (holder !== idKey)
          throw new DuplicateKeyError(namespace, this.name, this.spec.key, this.describe(doc));
      }
    }
  }

  /** Ids of the documents holding a full key (from keysOf). */
  holders(key: string): ReadonlySet<string> {
    return this.byKey.get(key) ?? EMPTY;
  }

  add(doc: Document, idKey: string): void {
    const { full, first } = this.keysOf(doc);
    for (const key of full) addTo(this.byKey, key, idKey);
    for (const key of first) addTo(this.byFirstField, key, idKey);
    if (this.order) this.orderAdd(doc, idKey, full.length > 0);
  }

  /**
   * The index's entries in key order (forward or reverse), with `prefix` the values of its first fields when they
   * are pinned; undefined while the index cannot serve a sort (multikey, sparse or partial). `documents` resolves ids.
   */
  ordered(
    direction: 1 | -1,
    prefix: readonly unknown[],
    range: FieldRange,
    documents: ReadonlyMap<string, Document>,
  ): Iterable<OrderedEntry> | undefined {
    if (!this.complete) return undefined;
    return this.orderOf(documents)?.walk(direction, prefix, range);
  }

  /**
   * The documents whose first field lies in `range`, in key order, for a caller that applies its own filter after
   * (the TTL monitor). A sparse or partial index serves it too: a range with bounds holds no missing value.
   * Undefined while the index is multikey.
   */
  inRange(range: FieldRange, documents: ReadonlyMap<string, Document>): Iterable<Document> | undefined {
    const order = this.orderOf(documents);
    if (!order) return undefined;
    return (function* () {
      for (const entry of order.walk(1, [], range)) {
        const doc = documents.get(entry.idKey);
        if (doc) yield doc;
      }
    })();
  }

  /** The key order, built from `documents` on first use; undefined while the index is multikey. */
  private orderOf(documents: ReadonlyMap<string, Document>): IndexOrder | undefined {
    if (this.multikeyFlag) return undefined;
    if (!this.order) {
      const entries: OrderedEntry[] = [];
      for (const [idKey, doc] of documents) entries.push({ values: this.orderValues(doc), idKey });
      this.order = new IndexOrder(
        this.fields.map((field) => (Number(this.spec.key[field]) < 0 ? -1 : 1)),
        entries,
      );
      // Documents may have turned the index multikey while their values were read.
      if (this.multikeyFlag) this.order = undefined;
    }
    return this.order;
  }

  /** A document's values for the index order: one per field (null when missing), the index being single-key. */
  private orderValues(doc: Document): unknown[] {
    return this.fieldParts.map((parts) => {
      if (pathHoldsArray(doc, parts)) this.multikeyFlag = true;
      return valuesAtParts(doc, parts)[0] ?? null;
    });
  }

  private orderAdd(doc: Document, idKey: string, indexed: boolean): void {
    const values = this.orderValues(doc);
    if (this.multikeyFlag || !this.order) {
      this.order = undefined;
      return;
    }
    if (indexed) this.order.add(idKey, values);
    else this.order.remove(idKey);
    if (this.order.overgrown) this.order = undefined;
  }

  /** Moves a document from its `previous` keys to `nextKeys` (those of `next`); nothing to do when they are kept. */
  replace(previous: Document, idKey: string, nextKeys: IndexKeys, next: Document): void {
    const before = this.keysOf(previous);
    if (sameKeys(before.full, nextKeys.full) && sameKeys(before.first, nextKeys.first)) return;
    for (const key of before.full) removeFrom(this.byKey, key, idKey);
    for (const key of before.first) removeFrom(this.byFirstField, key, idKey);
    for (const key of nextKeys.full) addTo(this.byKey, key, idKey);
    for (const key of nextKeys.first) addTo(this.byFirstField, key, idKey);
    if (this.order) this.orderAdd(next, idKey, nextKeys.full.length > 0);
  }

  remove(doc: Document, idKey: string): void {
    const { full, first } = this.keysOf(doc);
    for (const key of full) removeFrom(this.byKey, key, idKey);
    for (const key of first) removeFrom(this.byFirstField, key, idKey);
    this.order?.remove(idKey);
  }

  /** Ids of documents whose first indexed field equals `value`. */
  lookupFirst(value: unknown): ReadonlySet<string> {
    return this.byFirstField.get(valueKey(value)) ?? EMPTY;
  }

  /**
   * How many documents have one of `values` in the first field, without reading them; undefined while the index is
   * multikey (a document may then hold several of the values).
   */
  countFirst(values: readonly unknown[]): number | undefined {
    if (this.multikeyFlag) return undefined;
    let total = 0;
    for (const key of new Set(values.map((value) => valueKey(value)))) {
      total += this.byFirstField.get(key)?.size ?? 0;
    }
    return total;
  }

  /** Ids of documents whose indexed fields equal `values` (one per field, in index order). */
  lookup(values: unknown[]): ReadonlySet<string> {
    return this.byKey.get(values.map((value) => valueKey(value)).join(KEY_SEPARATOR)) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<string> = new Set();

/** Whether an array lies anywhere on `parts` in `doc` (at the end or on the way). */
function pathHoldsArray(doc: Document, parts: readonly string[]): boolean {
  let value: unknown = doc;
  for (const part of parts) {
    if (value === null || typeof value !== 'object') return false;
    value = (value as Record<string, unknown>)[part];
    if (Array.isArray(value)) return true;
  }
  return false;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((key, index) => key === b[index]);
}

function addTo(map: Map<string, Set<string>>, key: string, id: string): void {
  const set = map.get(key);
  if (set) set.add(id);
  else map.set(key, new Set([id]));
}

function removeFrom(map: Map<string, Set<string>>, key: string, id: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) map.delete(key);
}
