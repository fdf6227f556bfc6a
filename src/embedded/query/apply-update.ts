import { update } from 'mingo';
import type { Document } from './document.js';
import { cloneDocument } from './clone-document.js';
export interface ApplyUpdateOptions {
  arrayFilters?: Document[];
  isUpsertInsert?: boolean;
  /** The filter that matched the document; needed by the positional `$` operator. */
  query?: Document;
}
export interface UpdateDescription {
  updatedFields: Document;
  removedFields: string[];
  truncatedArrays: { field: string; newSize: number }[];
}
export interface UpdateOutcome {
  document: Document;
  modified: boolean;
  updateDescription: UpdateDescription;
}
export function applyUpdate(doc: Document, updateSpec: Document | Document[], options: ApplyUpdateOptions = {}): UpdateOutcome {
  const document = cloneDocument(doc);
  const fields = update(document, updateSpec as never, options.arrayFilters, options.query);
  return { document, modified: fields.length > 0, updateDescription: { updatedFields: {}, removedFields: [], truncatedArrays: [] } };
}
