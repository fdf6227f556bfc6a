// How a changed document finds the sagas waiting for it without a scan of every open wait: each wait stores one
// key per top-level equality field of its filter, `<ns> <field> <value>`, in an indexed array; a changed document
// yields a key for each of its top-level fields (and for each element of an array field), and one indexed `$in`
// query finds the candidates. The filter itself is then checked against the stored document by MongoDB.
//
// Values are keyed so that what MongoDB's equality treats as equal gives the same key: numbers of every BSON type
// by their numeric value, everything else by its canonical Extended JSON (which keeps embedded documents' field
// order, as MongoDB's equality does).
import { EJSON, type Document } from 'bson';

const SEPARATOR = '\u0000';

/** The key of one value: numbers by value (int32 5, Long 5 and double 5.0 are equal in a query). */
function valueKey(value: unknown): string {
  const number = numericValue(value);
  if (number !== undefined) return `n:${number}`;
  return `v:${EJSON.stringify({ v: value }, { relaxed: false })}`;
}

function numericValue(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return undefined;
  const bsontype = (value as { _bsontype?: unknown })._bsontype;
  if (bsontype === 'Int32' || bsontype === 'Double')
    return String((value as { valueOf(): number }).valueOf());
  if (bsontype === 'Long') {
    const long = value as { toBigInt(): bigint };
    const big = long.toBigInt();
    // Beyond 2^53 a double cannot equal it unless it is that exact value: the integer's digits key both.
    return Number.isSafeInteger(Number(big)) ? String(Number(big)) : big.toString();
  }
  return undefined;
}

function key(ns: string, field: string, value: unknown): string {
  return `${ns}${SEPARATOR}${field}${SEPARATOR}${valueKey(value)}`;
}

/** A filter value that MongoDB compares for plain equality: not an operator document, not null (null also matches a missing field). */
function equalityValue(value: unknown): { value: unknown } | null {
  if (value === null || value === undefined) return null;
  if (value instanceof RegExp || (value as { _bsontype?: unknown })?._bsontype === 'BSONRegExp') return null;
  if (
    typeof value === 'object' &&
    !Array.isArray(value) &&
    (value as { _bsontype?: unknown })._bsontype === undefined
  ) {
    const keys = Object.keys(value);
    if (keys.length > 0 && keys.every((name) => name.startsWith('$'))) {
      return keys.length === 1 && '$eq' in value ? equalityValue(value.$eq) : null;
    }
  }
  // An array value matches an equal array, or an array field holding it as an element: both key the same way below.
  return { value };
}

/**
 * The keys of a wait's filter: one per top-level field compared for equality (a plain value or `$eq`), from the
 * filter itself and from the members of a top-level `$and`. Empty when it has none, which a wait refuses.
 */
export function waitKeysOfFilter(ns: string, filter: Document): string[] {
  const keys = new Set<string>();
  const visit = (part: Document): void => {
    for (const [field, value] of Object.entries(part)) {
      if (field === '$and' && Array.isArray(value)) {
        for (const member of value)
          if (typeof member === 'object' && member !== null) visit(member as Document);
        continue;
      }
      if (field.startsWith('$') || field.includes('.')) continue;
      const equal = equalityValue(value);
      if (equal) keys.add(key(ns, field, equal.value));
    }
  };
  visit(filter);
  return [...keys];
}

/** The keys a changed document can match: each top-level field's value, and each element of an array field. */
export function waitKeysOfDocument(ns: string, document: Document): string[] {
  const keys = new Set<string>();
  for (const [field, value] of Object.entries(document)) {
    if (value === null || value === undefined) continue;
    keys.add(key(ns, field, value));
    if (Array.isArray(value))
      for (const element of value) if (element != null) keys.add(key(ns, field, element));
  }
  return [...keys];
}

/** `<database>.<collection>`. */
export function waitNamespace(database: string, collection: string): string {
  return `${database}.${collection}`;
}

/** `[database, collection]` of a `<database>.<collection>` (database names hold no `.`). */
export function splitNamespace(ns: string): [string, string] {
  const dot = ns.indexOf('.');
  return [ns.slice(0, dot), ns.slice(dot + 1)];
}
