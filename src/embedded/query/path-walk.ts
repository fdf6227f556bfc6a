// MongoDB's implicit array traversal for dotted paths: 'a.b' reaches b inside every document of array a.
import { isPlainDocument } from './bson-type-name.js';

const INDEX = /^\d+$/;

/** Splits a dotted path once, at compile time. */
export function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('.');
}

/**
 * True when `leaf` accepts some value the path reaches. A missing field reaches `undefined`; a numeric part
 * indexes arrays; a non-numeric part on an array descends into its document elements (not nested arrays).
 */
export function someAlongPath(
  value: unknown,
  parts: readonly string[],
  index: number,
  leaf: (v: unknown) => boolean,
): boolean {
  if (index === parts.length) return leaf(value);
  const part = parts[index] as string;
  if (Array.isArray(value)) {
    if (INDEX.test(part)) {
      if (someAlongPath(value[Number(part)], parts, index + 1, leaf)) return true;
      for (const element of value) {
        if (isPlainDocument(element) && part in element && someAlongPath(element, parts, index, leaf))
          return true;
      }
      return false;
    }
    for (const element of value) {
      if (isPlainDocument(element) && someAlongPath(element, parts, index, leaf)) return true;
    }
    return false;
  }
  if (isPlainDocument(value)) return someAlongPath(value[part], parts, index + 1, leaf);
  return leaf(undefined);
}

/** Every value a path reaches (arrays at the end are returned whole); used by sort keys. */
export function valuesAlongPath(value: unknown, parts: readonly string[]): unknown[] {
  const found: unknown[] = [];
  someAlongPath(value, parts, 0, (v) => {
    found.push(v);
    return false;
  });
  return found;
}

/** The value at a dotted path without array traversal except numeric indexes (undefined when missing). */
export function getPath(doc: unknown, parts: readonly string[]): unknown {
  let current = doc;
  for (const part of parts) {
    if (Array.isArray(current)) {
      if (!INDEX.test(part)) return undefined;
      current = current[Number(part)];
    } else if (isPlainDocument(current)) {
      current = current[part];
    } else {
      return undefined;
    }
  }
  return current;
}
