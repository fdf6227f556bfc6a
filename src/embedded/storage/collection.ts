// One collection: documents by canonical _id key (O(1) lookups), secondary indexes, and query planning.
import { UUID, type Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { valueKey } from '../query/index.js';
import { CollectionIndex, DuplicateKeyError, type IndexKeys } from './collection-index.js';
import type { CollectionOptions, IndexSpec, Namespace } from './oplog-entry.js';
import { equalityValues } from './filter-bounds.js';
import { IndexOrder } from './index-order.js';
import { orderedCandidates, type OrderedCandidates } from './ordered-read.js';

export const ID_INDEX_NAME = '_id_';

export class Collection {
  /** Documents keyed by valueKey(_id); Map order is insertion order, which is MongoDB's natural order here. */
  readonly documents = new Map<string, Document>();
  readonly indexes = new Map<string, CollectionIndex>();

  constructor(
    public ns: Namespace,
    readonly uuid: UUID = new UUID(),
    public options: CollectionOptions = {},
  ) {}

  private uuidHex: string | undefined;
  /** Record ids (find's showRecordId), given out lazily so that writes pay nothing until someone asks. */
  private recordIds: Map<string, number> | undefined;
  private nextRecordId = 1;
  private idOrderCache: IndexOrder | undefined;

  /** The UUID as hex, computed once: oplog entries carry it on every write. */
  get uuidString(): string {
    this.uuidHex ??= this.uuid.toHexString();
    return this.uuidHex;
  }

  get fullName(): string {
    return `${this.ns.db}.${this.ns.coll}`;
  }

  get imagesEnabled(): boolean {
    return this.options.changeStreamPreAndPostImages?.enabled === true;
  }

  get size(): number {
    return this.documents.size;
  }

  /** Every document in natural order (a transaction's view overrides this with what its snapshot sees). */
  allDocuments(): Iterable<Document> {
    return this.documents.values();
  }

  findById(id: unknown): Document | undefined {
    return this.documents.get(valueKey(id));
  }

  /** Throws DuplicateKeyError when inserting `doc` would break `_id` or a unique index. */
  checkInsert(doc: Document): void {
    const idKey = valueKey(doc._id);
    if (this.documents.has(idKey)) {
      throw new DuplicateKeyError(this.fullName, ID_INDEX_NAME, { _id: 1 }, { _id: doc._id as unknown });
    }
    for (const index of this.indexes.values()) index.checkUnique(this.fullName, doc, idKey);
  }

  insert(doc: Document): void {
    this.checkInsert(doc);
    const idKey = valueKey(doc._id);
    this.documents.set(idKey, doc);
    for (const index of this.indexes.values()) index.add(doc, idKey);
    this.idOrderCache?.add(idKey, [doc._id as unknown]);
  }

  /** Swaps a document for its new version (same _id), keeping its natural-order position. */
  replace(previous: Document, next: Document): void {
    const idKey = valueKey(previous._id);
    // Keys computed once per index whose fields may have changed: for the unique check, then to move the entry.
    const moves: { index: CollectionIndex; keys: IndexKeys }[] = [];
    for (const index of this.indexes.values()) {
      if (index.keysUnchanged(previous, next)) continue;
      const keys = index.keysOf(next);
      index.checkUnique(this.fullName, next, idKey, keys.full);
      moves.push({ index, keys });
    }
    this.documents.set(idKey, next);
    for (const { index, keys } of moves) index.replace(previous, idKey, keys, next);
  }

  remove(doc: Document): void {
    const idKey = valueKey(doc._id);
    if (!this.documents.delete(idKey)) return;
    this.recordIds?.delete(idKey);
    for (const index of this.indexes.values()) index.remove(doc, idKey);
    this.idOrderCache?.remove(idKey);
  }

  /** Builds an index over the existing documents; fails without side effects on a duplicate. */
  addIndex(spec: IndexSpec): void {
    const index = new CollectionIndex(spec);
    for (const [idKey, doc] of this.documents) {
      index.checkUnique(this.fullName, doc, idKey);
      index.add(doc, idKey);
    }
    this.indexes.set(spec.name, index);
  }

  indexSpecs(): IndexSpec[] {
    return [
      { name: ID_INDEX_NAME, key: { _id: 1 } },
      ...[...this.indexes.values()].map((index) => index.spec),
    ];
  }

  /**
   * A document's record id: stable while it lives (updates keep it), increasing in natural order. Ids are assigned
   * to every document without one, in natural order, when first asked for: documents inserted since the last
   * assignment all come after those that already have one, so the order holds.
   */
  recordIdOf(doc: Document): number {
    const idKey = valueKey(doc._id);
    this.recordIds ??= new Map();
    let recordId = this.recordIds.get(idKey);
    if (recordId === undefined) {
      for (const key of this.documents.keys()) {
        if (!this.recordIds.has(key)) this.recordIds.set(key, this.nextRecordId++);
      }
      recordId = this.recordIds.get(idKey) ?? this.nextRecordId++;
    }
    return recordId;
  }

  /**
   * Documents that may match `filter`: by `_id` or an index when the filter pins one by equality, else all.
   * The caller still applies the full filter.
   */
  candidates(
    filter: Document,
    planned: { documents: Iterable<Document> } = this.plan(filter),
  ): Iterable<Document> {
    return planned.documents;
  }

  /** The candidates of `filter` and the index that found them (undefined for a collection scan). */
  plan(filter: Document): { indexName: string | undefined; documents: Iterable<Document> } {
    const idCondition = isPlainSubdocument(filter._id) ? [filter._id] : equalityValues(filter._id);
    if (idCondition) {
      const found: Document[] = [];
      for (const value of idCondition) {
        const doc = this.documents.get(valueKey(value));
        if (doc) found.push(doc);
      }
      return { indexName: ID_INDEX_NAME, documents: found };
    }
    let best: ReadonlySet<string> | undefined;
    let bestName: string | undefined;
    for (const index of this.indexes.values()) {
      if (!index.complete) continue;
      const first = index.fields[0];
      if (first === undefined) continue;
      const values = equalityValues(filter[first]);
      if (!values || values.length === 0) continue;
      if (values.length > 1) {
        // `$in` on the first field (the sweeper's {status: {$in: [...]}}): the union of one lookup per value.
        const union = new Set<string>();
        for (const value of values) for (const id of index.lookupFirst(value)) union.add(id);
        if (!best || union.size < best.size) [best, bestName] = [union, index.name];
        continue;
      }
      const allFields = index.fields.map((field) => equalityValues(filter[field]));
      const ids = allFields.every((v) => v?.length === 1)
        ? index.lookup(allFields.map((v) => v![0]))
        : index.lookupFirst(values[0]);
      if (!best || ids.size < best.size) [best, bestName] = [ids, index.name];
    }
    if (best) return { indexName: bestName, documents: this.resolve(best) };
    return { indexName: undefined, documents: this.documents.values() };
  }

  /**
   * The number of documents matching `filter` when an index answers it alone ({field: v}, {$eq}, {$in} on the first
   * field of a complete, non-multikey index, the driver's countDocuments by status), without reading them;
   * undefined when the documents must be read.
   */
  countByIndex(filter: Document): { n: number; indexName: string } | undefined {
    const fields = Object.keys(filter);
    if (fields.length !== 1) return undefined;
    const field = fields[0] as string;
    const values = equalityValues(filter[field]);
    if (!values || values.length === 0) return undefined;
    if (field === '_id') {
      let found = 0;
      for (const key of new Set(values.map((value) => valueKey(value))))
        if (this.documents.has(key)) found += 1;
      return { n: found, indexName: ID_INDEX_NAME };
    }
    for (const index of this.indexes.values()) {
      if (!index.complete || index.fields[0] !== field) continue;
      const counted = index.countFirst(values);
      if (counted !== undefined) return { n: counted, indexName: index.name };
    }
    return undefined;
  }

  /**
   * The documents that may match `filter` in the key order of an index (ordered-read.ts), or undefined when no
   * index order serves the filter and sort.
   */
  orderedCandidates(filter: Document, sort: Document | undefined): OrderedCandidates | undefined {
    return orderedCandidates(this, filter, sort);
  }

  /** The `_id` index's key order, built on first use and kept up to date by insert and remove from then on. */
  idOrder(): IndexOrder {
    if (!this.idOrderCache) {
      const entries = [...this.documents].map(([idKey, doc]) => ({ values: [doc._id as unknown], idKey }));
      this.idOrderCache = new IndexOrder([1], entries);
    }
    return this.idOrderCache;
  }

  private *resolve(ids: ReadonlySet<string>): Iterable<Document> {
    // Copy first: the caller may modify the collection (and so the index set) while iterating.
    for (const idKey of [...ids]) {
      const doc = this.documents.get(idKey);
      if (doc) yield doc;
    }
  }
}

function isPlainSubdocumentValue(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date)
    return false;
  return typeof (value as { _bsontype?: unknown })._bsontype !== 'string' && !(value instanceof RegExp);
}

function isPlainSubdocument(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date)
    return false;
  if (typeof (value as { _bsontype?: unknown })._bsontype === 'string' || value instanceof RegExp)
    return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => !key.startsWith('$'));
}

export function assertValidId(id: unknown): void {
  if (isPlainSubdocumentValue(id)) {
    const dollar = Object.keys(id).find((key) => key.startsWith('$'));
    if (dollar !== undefined) {
      throw new MongoCommandError(
        'DollarPrefixedFieldName',
        `_id fields may not contain '$'-prefixed fields: ${dollar} is not valid for storage.`,
      );
    }
  }
  if (Array.isArray(id))
    throw new MongoCommandError('InvalidIdField', `The '_id' value cannot be of type array`);
  if (id instanceof RegExp)
    throw new MongoCommandError('InvalidIdField', `The '_id' value cannot be of type regex`);
}
