// The internal oplog: every mutation of the embedded server is one entry. Change streams read it, and the
// persistence journal stores it, so a restart replays exactly what clients were told happened.
import type { Document, Timestamp } from 'bson';

export interface Namespace {
  db: string;
  coll: string;
}

export interface UpdateDescription {
  updatedFields: Document;
  removedFields: string[];
  truncatedArrays: { field: string; newSize: number }[];
  /** Ambiguous paths → their parts; shown only to change streams with showExpandedEvents. */
  disambiguatedPaths?: Document;
}

export interface IndexSpec {
  /** Index name, e.g. `status_1_createdAt_-1`. */
  name: string;
  key: Document;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  expireAfterSeconds?: number;
}

export interface CollectionOptions {
  changeStreamPreAndPostImages?: { enabled: boolean };
  capped?: boolean;
  size?: number;
  max?: number;
  validator?: Document;
  validationLevel?: 'off' | 'strict' | 'moderate';
  validationAction?: 'error' | 'warn';
  /** Set on views: the source collection and the pipeline every read runs over it. */
  viewOn?: string;
  pipeline?: Document[];
}

interface EntryBase {
  /** Cluster time of this entry; unique and strictly increasing across the whole oplog. */
  ts: Timestamp;
  wallTime: Date;
  /** The collection's UUID (hex), on entries written since it was recorded; change events show it. */
  collectionUuid?: string;
  /** Session and transaction of the write, when it had them. */
  lsid?: Document;
  txnNumber?: number;
}

interface DocumentEntryBase extends EntryBase {
  ns: Namespace;
  documentKey: { _id: unknown };
  /** Pre-image, kept only when the collection has changeStreamPreAndPostImages enabled. */
  preImage?: Document;
  /** True when the collection had changeStreamPreAndPostImages enabled at the time of the write. */
  imagesEnabled?: boolean;
}

export interface InsertEntry extends DocumentEntryBase {
  op: 'insert';
  document: Document;
}

export interface UpdateEntry extends DocumentEntryBase {
  op: 'update';
  updateDescription: UpdateDescription;
  /** The whole document after the update (the journal replays it; updateLookup does not use it). */
  postImage: Document;
}

export interface ReplaceEntry extends DocumentEntryBase {
  op: 'replace';
  postImage: Document;
}

export interface DeleteEntry extends DocumentEntryBase {
  op: 'delete';
}

export interface CreateCollectionEntry extends EntryBase {
  op: 'create';
  ns: Namespace;
  options: CollectionOptions;
  uuid: string;
}

export interface CreateIndexesEntry extends EntryBase {
  op: 'createIndexes';
  ns: Namespace;
  indexes: IndexSpec[];
}

export interface DropIndexesEntry extends EntryBase {
  op: 'dropIndexes';
  ns: Namespace;
  names: string[];
}

export interface CollModEntry extends EntryBase {
  op: 'modify';
  ns: Namespace;
  options: CollectionOptions;
}

export interface DropEntry extends EntryBase {
  op: 'drop';
  ns: Namespace;
}

export interface RenameEntry extends EntryBase {
  op: 'rename';
  ns: Namespace;
  to: Namespace;
  dropTarget: boolean;
  /** UUID (hex) of the collection the rename replaced, when it replaced one. */
  droppedTargetUuid?: string;
}

export interface DropDatabaseEntry extends EntryBase {
  op: 'dropDatabase';
  ns: { db: string };
}

export type DocumentEntry = InsertEntry | UpdateEntry | ReplaceEntry | DeleteEntry;
export type OplogEntry =
  | DocumentEntry
  | CreateCollectionEntry
  | CreateIndexesEntry
  | DropIndexesEntry
  | CollModEntry
  | DropEntry
  | RenameEntry
  | DropDatabaseEntry;
