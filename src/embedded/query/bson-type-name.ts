// BSON type identification for values as the server holds them (promoted JS values plus bson classes).

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The `_bsontype` tag every bson class instance carries, or undefined for plain JS values. */
export function bsonTag(value: object): string | undefined {
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

/** True for plain objects (documents), false for arrays, Dates, RegExps and bson class instances. */
export function isPlainDocument(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function isInt32(value: number): boolean {
  return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX;
}

const TAG_NAMES: Record<string, string> = {
  ObjectId: 'objectId',
  Long: 'long',
  Int32: 'int',
  Double: 'double',
  Decimal128: 'decimal',
  Binary: 'binData',
  Timestamp: 'timestamp',
  MinKey: 'minKey',
  MaxKey: 'maxKey',
  BSONSymbol: 'symbol',
  BSONRegExp: 'regex',
  DBRef: 'object',
  DBPointer: 'dbPointer',
};

/**
 * MongoDB's `$type` alias for a value. A promoted JS number reports what the serializer would write back:
 * 'int' for an int32-range integer, 'double' otherwise.
 */
export function bsonTypeName(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return isInt32(value) ? 'int' : 'double';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'undefined':
      return 'undefined';
    case 'bigint':
      return 'long';
    case 'function':
      return 'javascript';
    case 'object':
      break;
    default:
      return 'object';
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  const tag = bsonTag(value);
  if (tag === undefined) return value instanceof Uint8Array ? 'binData' : 'object';
  if (tag === 'Code') return (value as { scope?: unknown }).scope ? 'javascriptWithScope' : 'javascript';
  return TAG_NAMES[tag] ?? 'object';
}

/** MongoDB's numeric type codes for the `$type` operator. */
export const TYPE_CODES: Record<number, string> = {
  1: 'double',
  2: 'string',
  3: 'object',
  4: 'array',
  5: 'binData',
  6: 'undefined',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  10: 'null',
  11: 'regex',
  12: 'dbPointer',
  13: 'javascript',
  14: 'symbol',
  15: 'javascriptWithScope',
  16: 'int',
  17: 'timestamp',
  18: 'long',
  19: 'decimal',
  [-1]: 'minKey',
  127: 'maxKey',
};

/**
 * The rank of a value's type in MongoDB's cross-type sort order (MinKey < null < numbers < strings < objects <
 * arrays < BinData < ObjectId < bool < Date < Timestamp < RegExp < code < MaxKey). Missing sorts with null.
 */
export function typeRank(value: unknown): number {
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 3;
    case 'string':
      return 4;
    case 'boolean':
      return 9;
    case 'undefined':
      return 2;
    case 'function':
      return 14;
    case 'object':
      break;
    default:
      return 5;
  }
  if (value === null) return 2;
  if (Array.isArray(value)) return 6;
  if (value instanceof Date) return 10;
  if (value instanceof RegExp) return 12;
  switch (bsonTag(value)) {
    case undefined:
      return value instanceof Uint8Array ? 7 : 5;
    case 'MinKey':
      return 1;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return 3;
    case 'BSONSymbol':
      return 4;
    case 'Binary':
      return 7;
    case 'ObjectId':
      return 8;
    case 'Timestamp':
      return 11;
    case 'BSONRegExp':
      return 12;
    case 'DBPointer':
      return 13;
    case 'Code':
      return 14;
    case 'MaxKey':
      return 16;
    default:
      return 5;
  }
}
