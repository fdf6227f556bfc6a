// Reading dotted paths out of documents the way indexes see them, and formatting key values for errors.
import { ObjectId } from 'bson';

/**
 * Values at a dotted path; arrays on the way are traversed (multikey), an array at the end contributes its
 * elements (an empty array contributes `undefined`, as MongoDB indexes it). Missing → [].
 */
export function valuesAtPath(doc: unknown, path: string): unknown[] {
  return valuesAtParts(doc, path.split('.'));
}

/** valuesAtPath for a path already split on dots. */
export function valuesAtParts(doc: unknown, parts: readonly string[]): unknown[] {
  const out: unknown[] = [];
  collect(doc, parts, 0, out);
  return out;
}

function collect(value: unknown, parts: readonly string[], index: number, out: unknown[]): void {
  if (index === parts.length) {
    if (Array.isArray(value)) {
      if (value.length === 0) out.push(undefined);
      else for (const element of value) out.push(element);
    } else {
      out.push(value);
    }
    return;
  }
  if (Array.isArray(value)) {
    const part = parts[index]!;
    if (/^\d+$/.test(part)) {
      collect(value[Number(part)], parts, index + 1, out);
      return;
    }
    for (const element of value) collect(element, parts, index, out);
    return;
  }
  if (value === null || typeof value !== 'object' || value instanceof Date) return;
  const record = value as Record<string, unknown>;
  const part = parts[index]!;
  if (!(part in record)) return;
  collect(record[part], parts, index + 1, out);
}

/** MongoDB's shell-like rendering of a key value: `{ name: "x", n: 1 }`. */
export function formatKeyValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof ObjectId) return `ObjectId('${value.toHexString()}')`;
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (Array.isArray(value)) return `[ ${value.map(formatKeyValue).join(', ')} ]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const bsonType = (value as { _bsontype?: string })._bsontype;
    if (bsonType) return `${bsonType}(${JSON.stringify(value)})`;
    if (entries.length === 0) return '{}';
    return `{ ${entries.map(([key, inner]) => `${key}: ${formatKeyValue(inner)}`).join(', ')} }`;
  }
  return typeof value === 'symbol' ? value.toString() : 'undefined';
}
