// Computes a change stream's updateDescription by diffing a document before and after an update.
import { bsonTag, isPlainDocument } from './bson-type-name.js';
import { compareValues } from './compare-values.js';
import type { Document } from './document.js';

export interface UpdateDescription {
  updatedFields: Document;
  removedFields: string[];
  truncatedArrays: { field: string; newSize: number }[];
  /**
   * Dotted paths that do not say which parts are array indexes (`a.1` on `{a: {'1': …}}`) or that hold field
   * names with dots, mapped to their parts (indexes as numbers). Change streams show it with showExpandedEvents.
   */
  disambiguatedPaths?: Document;
}

/** A path part at `position`: array indexes are numbers, field names strings. */
type PathPart = string | number;

/** MongoDB disambiguates a path with a dotted field name, or a digits-only field name below the top level. */
function isAmbiguous(parts: readonly PathPart[]): boolean {
  return parts.some(
    (part, position) =>
      typeof part === 'string' && (part.includes('.') || (position > 0 && /^\d+$/.test(part))),
  );
}

function note(into: UpdateDescription, path: string, parts: readonly PathPart[]): void {
  if (!isAmbiguous(parts)) return;
  into.disambiguatedPaths ??= {};
  into.disambiguatedPaths[path] = [...parts];
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

function setField(into: UpdateDescription, path: string, parts: readonly PathPart[], value: unknown): void {
  // Shared, not copied: stored documents are never mutated in place (updates copy on write), and change streams
  // run user stages other than $match on a copy of the event.
  into.updatedFields[path] = value;
  note(into, path, parts);
}

function diffArrays(
  before: unknown[],
  after: unknown[],
  path: string,
  parts: PathPart[],
  into: UpdateDescription,
): void {
  if (after.length < before.length) {
    const isPrefix = after.every((element, index) => sameValue(element, before[index]));
    if (!isPrefix) {
      // Elements removed from the middle ($pull): MongoDB reports the whole new array.
      setField(into, path, parts, after);
      return;
    }
    into.truncatedArrays.push({ field: path, newSize: after.length });
    note(into, path, parts);
    return;
  }
  for (let index = 0; index < after.length; index++) {
    if (index < before.length && sameValue(before[index], after[index])) continue;
    const elementPath = `${path}.${String(index)}`;
    const elementParts = [...parts, index];
    if (index >= before.length) setField(into, elementPath, elementParts, after[index]);
    else diffValues(before[index], after[index], elementPath, elementParts, into);
  }
}

function diffValues(
  before: unknown,
  after: unknown,
  path: string,
  parts: PathPart[],
  into: UpdateDescription,
): void {
  if (sameValue(before, after)) return;
  if (isPlainDocument(before) && isPlainDocument(after))
    diffDocuments(before, after, path + '.', parts, into);
  else if (Array.isArray(before) && Array.isArray(after)) diffArrays(before, after, path, parts, into);
  else setField(into, path, parts, after);
}

function diffDocuments(
  before: Document,
  after: Document,
  prefix: string,
  parts: PathPart[],
  into: UpdateDescription,
): void {
  for (const key of Object.keys(before)) {
    if (!(key in after)) {
      into.removedFields.push(prefix + key);
      note(into, prefix + key, [...parts, key]);
    }
  }
  for (const key of Object.keys(after)) {
    if (!(key in before)) setField(into, prefix + key, [...parts, key], after[key]);
    // Unchanged fields (the common case) allocate no path parts.
    else if (!sameValue(before[key], after[key]))
      diffValues(before[key], after[key], prefix + key, [...parts, key], into);
  }
}

/** Dotted paths of changed fields, removed fields and truncated arrays between two versions of a document. */
export function describeUpdate(before: Document, after: Document): UpdateDescription {
  const description: UpdateDescription = { updatedFields: {}, removedFields: [], truncatedArrays: [] };
  diffDocuments(before, after, '', [], description);
  return description;
}
