// What a change stream needs from the storage engine: the oplog, plus lookups for fullDocument modes.
import type { Document } from '../query/index.js';
import type { Oplog } from '../storage/oplog.js';
import type { CollectionOptions, Namespace } from '../storage/oplog-entry.js';

export interface ChangeStreamSource {
  oplog: Oplog;
  /**
   * Current version of a document by `_id`, or null (for fullDocument 'updateLookup'). The stream only reads
   * it; user stages run on a copy.
   */
  findDocumentById(ns: Namespace, id: unknown): Document | null;
  /** Collection options now (e.g. changeStreamPreAndPostImages), or null if the collection does not exist. */
  collectionOptions(ns: Namespace): CollectionOptions | null;
}
