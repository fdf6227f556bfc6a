// Canonical string keys: values MongoDB treats as equal map to the same key (for _id lookups and indexes).
import type { Binary, BSONRegExp, Code, ObjectId, Timestamp } from 'bson';
import { bsonTag } from './bson-type-name.js';
import { numericKey, numericValue } from './bson-numbers.js';

const NULL_KEY = 'n';

/**
 * The first character names the type class (so 1 and '1' differ); numbers share one class whatever their
 * representation. Composite values encode their children with JSON so no two structures collide.
 */
export function valueKey(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return 's' + value;
    case 'number':
      return 'd' + (Number.isSafeInteger(value) ? String(value === 0 ? 0 : value) : numericKey(value));
    case 'boolean':
      return value ? 'b1' : 'b0';
    case 'undefined':
      return NULL_KEY;
    case 'bigint':
      return 'd' + value.toString();
    case 'object':
      return value === null ? NULL_KEY : objectKey(value);
    default:
      return 'f' + String(value);
  }
}

function objectKey(value: object): string {
  if (Array.isArray(value)) return 'a' + JSON.stringify(value.map(valueKey));
  if (value instanceof Date) return 't' + String(value.getTime());
  if (value instanceof RegExp) return 'r' + JSON.stringify([value.source, value.flags]);
  if (value instanceof Uint8Array) return 'x0:' + Buffer.from(value).toString('base64');
  const tag = bsonTag(value);
  switch (tag) {
    case undefined:
      return documentKey(value as Record<string, unknown>);
    case 'ObjectId':
      return objectIdKey(value as ObjectId);
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return 'd' + numericKey(numericValue(value) ?? Number.NaN);
    case 'Binary': {
      const binary = value as Binary;
      const bytes = Buffer.from(binary.buffer.buffer, binary.buffer.byteOffset, binary.position);
      return 'x' + String(binary.sub_type) + ':' + bytes.toString('base64');
    }
    case 'Timestamp':
      return 'T' + String((value as Timestamp).t) + ':' + String((value as Timestamp).i);
    case 'BSONSymbol':
      return 's' + String((value as { value: unknown }).value);
    case 'BSONRegExp':
      return 'r' + JSON.stringify([(value as BSONRegExp).pattern, (value as BSONRegExp).options]);
    case 'MinKey':
      return 'm';
    case 'MaxKey':
      return 'M';
    case 'Code':
      return 'c' + JSON.stringify([String((value as Code).code), valueKey((value as Code).scope ?? null)]);
    default:
      return tag + documentKey(value as Record<string, unknown>);
  }
}

interface PackedObjectId {
  i0?: unknown;
  i1: number;
  i2: number;
  i3: number;
}

/**
 * bson 7 keeps an ObjectId as four 24-bit integers; eight 12-bit chars encode those bytes ~10x faster than
 * toHexString(), and _id lookups are the hottest use of valueKey. Other layouts fall back to hex.
 */
function objectIdKey(id: ObjectId): string {
  const packed = id as unknown as PackedObjectId;
  if (typeof packed.i0 !== 'number') return 'o' + id.toHexString();
  const { i0, i1, i2, i3 } = packed as { i0: number; i1: number; i2: number; i3: number };
  return (
    'o' +
    String.fromCharCode(
      i0 >>> 12,
      i0 & 4095,
      i1 >>> 12,
      i1 & 4095,
      i2 >>> 12,
      i2 & 4095,
      i3 >>> 12,
      i3 & 4095,
    )
  );
}

/** Field order matters: {a:1,b:2} and {b:2,a:1} are different values in MongoDB. */
function documentKey(doc: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key of Object.keys(doc)) parts.push(key, valueKey(doc[key]));
  return 'O' + JSON.stringify(parts);
}
