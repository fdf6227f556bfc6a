// mongod's hashed-index function (BSONElementHasher::hash64 with the default seed 0), behind the
// `$toHashedIndexKey` expression: the first 8 bytes (little-endian) of the MD5 of the seed, the value's canonical
// type and its BSON bytes, with every number squashed to a 64-bit integer first (so 3, 3.7 and Long(3) agree).
// Checked against mongod's own test vectors (test/unit/embedded/query/hashed-index-key.test.ts).
import { createHash, type Hash } from 'node:crypto';
import { Long, type Binary, type ObjectId, type Timestamp } from 'bson';
import { MongoCommandError } from '../errors.js';
import { numericValue } from './bson-numbers.js';
import { bsonTag, isPlainDocument } from './bson-type-name.js';

/** mongod's canonical type numbers (canonicalizeBSONType): types that compare alike hash alike. */
const CANONICAL_TYPE = {
  minKey: -1,
  endOfObject: 0,
  undefined: 0,
  null: 5,
  number: 10,
  string: 15,
  object: 20,
  array: 25,
  binData: 30,
  objectId: 35,
  bool: 40,
  date: 45,
  timestamp: 47,
  regex: 50,
  code: 60,
  maxKey: 127,
} as const;

const LONG_MAX = 2n ** 63n - 1n;
const LONG_MIN = -(2n ** 63n);

/** The hash mongod stores in a hashed index for `value` (missing hashes as null, as `$toHashedIndexKey` does). */
export function hashedIndexKey(value: unknown): Long {
  const md5 = createHash('md5');
  md5.update(int32(0)); // the seed
  hashElement(md5, value, null);
  return Long.fromBigInt(md5.digest().readBigInt64LE(0));
}

function hashElement(md5: Hash, value: unknown, fieldName: string | null): void {
  const { type, bytes, children } = encode(value);
  md5.update(int32(type));
  if (fieldName !== null) md5.update(cstring(fieldName));
  if (bytes) md5.update(bytes);
  if (children) {
    for (const [name, child] of children) hashElement(md5, child, name);
    md5.update(int32(CANONICAL_TYPE.endOfObject)); // the EOO element: no name, no value
  }
}

interface Encoded {
  type: number;
  bytes?: Buffer;
  children?: Iterable<[string, unknown]>;
}

function encode(value: unknown): Encoded {
  if (value === null || value === undefined) return { type: CANONICAL_TYPE.null };
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return { type: CANONICAL_TYPE.number, bytes: int64(squashToLong(value)) };
    case 'string':
      return { type: CANONICAL_TYPE.string, bytes: bsonString(value) };
    case 'boolean':
      return { type: CANONICAL_TYPE.bool, bytes: Buffer.from([value ? 1 : 0]) };
    case 'object':
      return encodeObject(value);
    default:
      throw unhashable(typeof value);
  }
}

function encodeObject(value: object): Encoded {
  if (Array.isArray(value)) {
    return { type: CANONICAL_TYPE.array, children: value.map((item, index) => [String(index), item]) };
  }
  if (value instanceof Date) return { type: CANONICAL_TYPE.date, bytes: int64(BigInt(value.getTime())) };
  if (value instanceof RegExp) return regex(value.source, value.flags);
  if (isPlainDocument(value)) return { type: CANONICAL_TYPE.object, children: Object.entries(value) };
  const tag = bsonTag(value);
  const numeric = numericValue(value);
  if (numeric !== undefined) return { type: CANONICAL_TYPE.number, bytes: int64(squashToLong(numeric)) };
  switch (tag) {
    case 'ObjectId':
      return { type: CANONICAL_TYPE.objectId, bytes: Buffer.from((value as ObjectId).id) };
    case 'Binary': {
      const binary = value as Binary;
      const data = binary.value();
      return {
        type: CANONICAL_TYPE.binData,
        bytes: Buffer.concat([int32(data.length), Buffer.from([binary.sub_type]), data]),
      };
    }
    case 'Timestamp': {
      const timestamp = value as Timestamp;
      return {
        type: CANONICAL_TYPE.timestamp,
        bytes: Buffer.concat([int32(timestamp.getLowBits()), int32(timestamp.getHighBits())]),
      };
    }
    case 'BSONSymbol':
      return { type: CANONICAL_TYPE.string, bytes: bsonString((value as { value: string }).value) };
    case 'BSONRegExp': {
      const { pattern, options } = value as { pattern: string; options: string };
      return regex(pattern, options);
    }
    case 'Code': {
      const code = value as { code: string; scope: unknown };
      if (code.scope !== null && code.scope !== undefined) throw unhashable('javascriptWithScope');
      return { type: CANONICAL_TYPE.code, bytes: bsonString(code.code) };
    }
    case 'MinKey':
      return { type: CANONICAL_TYPE.minKey };
    case 'MaxKey':
      return { type: CANONICAL_TYPE.maxKey };
    case 'DBRef':
      return encodeObject((value as { toJSON(): object }).toJSON());
    default:
      throw unhashable(tag ?? 'object');
  }
}

/** BSONElement::safeNumberLong: truncated toward zero, NaN as 0, clamped to the 64-bit range. */
function squashToLong(value: number | bigint): bigint {
  if (typeof value === 'bigint') return value > LONG_MAX ? LONG_MAX : value < LONG_MIN ? LONG_MIN : value;
  if (Number.isNaN(value)) return 0n;
  if (value >= 2 ** 63) return LONG_MAX;
  if (value < -(2 ** 63)) return LONG_MIN;
  return BigInt(Math.trunc(value));
}

function regex(pattern: string, flags: string): Encoded {
  // BSON keeps regex flags sorted.
  const sorted = [...flags].sort().join('');
  return { type: CANONICAL_TYPE.regex, bytes: Buffer.concat([cstring(pattern), cstring(sorted)]) };
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32LE(value);
  return buffer;
}

function int64(value: bigint): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64LE(value);
  return buffer;
}

function cstring(value: string): Buffer {
  return Buffer.concat([Buffer.from(value, 'utf8'), Buffer.from([0])]);
}

/** A BSON string's value: its byte length with the NUL, the bytes, the NUL. */
function bsonString(value: string): Buffer {
  const text = cstring(value);
  return Buffer.concat([int32(text.length), text]);
}

function unhashable(type: string): MongoCommandError {
  return new MongoCommandError('BadValue', `$toHashedIndexKey cannot hash a value of type ${type}`);
}
