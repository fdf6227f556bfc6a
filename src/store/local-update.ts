// Applies the `$set` / `$unset` of a transition to a saga document held in memory, so a worker that just wrote a
// transition knows the saga's new state without reading it back. Only what the store's transitions use: dotted
// paths through objects and array indexes, onto fields that exist or objects that can hold them.
import { BSON } from 'mongodb';

function parentOf(doc: Record<string, unknown>, path: string): [Record<string, unknown>, string] {
  const parts = path.split('.');
  let target: Record<string, unknown> = doc;
  for (const part of parts.slice(0, -1)) {
    let next = target[part];
    if (next === null || typeof next !== 'object') {
      next = {};
      target[part] = next;
    }
    target = next as Record<string, unknown>;
  }
  return [target, parts[parts.length - 1]!];
}

/**
 * MongoDB (5.0+) applies an update's fields in order of their names, numeric names by number, so the new fields
 * of one `$set` land in that order whatever order the update lists them in.
 */
function comparePaths(left: string, right: string): number {
  const a = left.split('.');
  const b = right.split('.');
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const [x, y] = [a[index]!, b[index]!];
    if (x === y) continue;
    const numeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    if (numeric) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** `$set: set, $unset: unset` on `doc`, in place, with new fields in the order MongoDB adds them. */
export function applyLocally(doc: object, set: Record<string, unknown>, unset: readonly string[] = []): void {
  const root = doc as Record<string, unknown>;
  const ordered = Object.entries(set).sort(([left], [right]) => comparePaths(left, right));
  for (const [path, value] of ordered) {
    const [parent, key] = parentOf(root, path);
    parent[key] = value;
  }
  for (const path of unset) {
    const [parent, key] = parentOf(root, path);
    delete parent[key];
  }
}

/** The driver's default: an `undefined` field is stored as null, not left out. */
const AS_THE_DRIVER_WRITES = { ignoreUndefined: false } as const;

/** `doc` as MongoDB would return it: serialised to BSON and read again with the driver's defaults (a deep copy). */
export function copyOfStored<T extends object>(doc: T): T {
  return BSON.deserialize(BSON.serialize(doc, AS_THE_DRIVER_WRITES)) as T;
}

/** A single value as MongoDB would return it (see copyOfStored). */
export function roundTrip(value: unknown): unknown {
  return copyOfStored({ value }).value;
}
