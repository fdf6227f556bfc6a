// The document an upsert inserts before applying its update: the filter's equality conditions.
import { isPlainDocument } from './bson-type-name.js';
import { cloneDocument } from './clone-document.js';
import type { Document } from './document.js';

function setPath(target: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let current = target;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    const next = current[part];
    if (!isPlainDocument(next)) current[part] = {};
    current = current[part] as Document;
  }
  current[parts[parts.length - 1] as string] = cloneDocument(value);
}

function collect(filter: Document, seed: Document): void {
  for (const key of Object.keys(filter)) {
    const condition = filter[key];
    if (key === '$and') {
      if (Array.isArray(condition))
        for (const clause of condition) if (isPlainDocument(clause)) collect(clause, seed);
      continue;
    }
    if (key.startsWith('$')) continue;
    if (isPlainDocument(condition)) {
      const operators = Object.keys(condition);
      if (operators[0]?.startsWith('$')) {
        // {a: {$eq: 1}} seeds a; a one-element {$in: [x]} is an equality too, as in MongoDB.
        if ('$eq' in condition) setPath(seed, key, condition.$eq);
        else if (Array.isArray(condition.$in) && condition.$in.length === 1)
          setPath(seed, key, condition.$in[0]);
        continue;
      }
    }
    if (condition instanceof RegExp) continue;
    setPath(seed, key, condition);
  }
}

/**
 * Equality fields of a filter (top level and inside $and) as a document; dotted paths become nested objects.
 * Range conditions, $or branches and regexes contribute nothing.
 */
export function upsertSeed(filter: Document): Document {
  const seed: Document = {};
  collect(filter, seed);
  return seed;
}
