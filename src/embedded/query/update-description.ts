// Computes a change stream's updateDescription by diffing a document before and after an update.
import { bsonTag, isPlainDocument } from './bson-type-name.js';
import { cloneDocument } from './clone-document.js';
import { compareValues } from './compare-values.js';
import type { Document } from './document.js';

export interface UpdateDescription {
  updatedFields: Document;
  removedFields: string[];
  truncatedArrays: { field: string; newSize: number }[];
}

function representation(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  if (Array.isArray(value)) return 'array';
  return bsonTag(value) ?? (isPlainDocument(value) ? 'document' : (value.constructor?.name ?? 'object'));
}

/** Identical values: same representation, same value, same field order (what makes nModified count). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (representation(a) !== representation(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((element, index) => sameValue(element, other[index]));
  }
  if (isPlainDocument(a)) {
    const other = b as Document;
    const keysA = Object.keys(a);
    const keysB = Object.keys(other);
    return (
      keysA.length === keysB.length &&
      keysA.every((key, index) => key === keysB[index] && sameValue(a[key], other[key]))
    );
  }
  if (typeof a === 'number') return Object.is(a, b) || a === b;
  return compareValues(a, b) === 0;
}

function diffArrays(before: unknown[], after: unknown[], path: string, into: UpdateDescription): void {
  if (after.length < before.length) {
    const isPrefix = after.every((element, index) => sameValue(element, before[index]));
    if (!isPrefix) {
      // Elements removed from the middle ($pull): MongoDB reports the whole new array.
      into.updatedFields[path] = cloneDocument(after);
      return;
    }
    into.truncatedArrays.push({ field: path, newSize: after.length });
    return;
  }
  for (let index = 0; index < after.length; index++) {
    const elementPath = `${path}.${String(index)}`;
    if (index >= before.length) into.updatedFields[elementPath] = cloneDocument(after[index]);
    else diffValues(before[index], after[index], elementPath, into);
  }
}

function diffValues(before: unknown, after: unknown, path: string, into: UpdateDescription): void {
  if (sameValue(before, after)) return;
  if (isPlainDocument(before) && isPlainDocument(after)) diffDocuments(before, after, path + '.', into);
  else if (Array.isArray(before) && Array.isArray(after)) diffArrays(before, after, path, into);
  else into.updatedFields[path] = cloneDocument(after);
}

function diffDocuments(before: Document, after: Document, prefix: string, into: UpdateDescription): void {
  for (const key of Object.keys(before)) {
    if (!(key in after)) into.removedFields.push(prefix + key);
  }
  for (const key of Object.keys(after)) {
    if (!(key in before)) into.updatedFields[prefix + key] = cloneDocument(after[key]);
    else diffValues(before[key], after[key], prefix + key, into);
  }
}

/** Dotted paths of changed fields, removed fields and truncated arrays between two versions of a document. */
export function describeUpdate(before: Document, after: Document): UpdateDescription {
  const description: UpdateDescription = { updatedFields: {}, removedFields: [], truncatedArrays: [] };
  diffDocuments(before, after, '', description);
  return description;
}
