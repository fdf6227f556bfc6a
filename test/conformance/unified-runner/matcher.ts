// "Evaluating Matches" of the unified test format: expected vs actual values with the $$ operators, flexible
// numeric comparison, and extra fields allowed only in root-level documents.
import { EJSON } from 'bson';
import {
  Binary,
  BSONRegExp,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  type Document,
} from 'mongodb';

/** Entities the $$matchesEntity and $$sessionLsid operators refer to. */
export interface MatchEntities {
  value(name: string): unknown;
  sessionLsid(name: string): Document;
}

export class MatchError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path || '(root)'}: ${message}`);
    this.name = 'MatchError';
  }
}

export function isPlainDocument(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * An actual value that should be matched as a document: plain objects, and the driver's option classes (ReadConcern,
 * WriteConcern, …) it puts in command documents; Maps (e.g. a sort) become plain objects. BSON values do not count.
 */
function asActualDocument(value: unknown): Document | undefined {
  if (value instanceof Map) return Object.fromEntries(value as Map<string, unknown>);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  if (value instanceof Date || value instanceof RegExp || value instanceof Uint8Array) return undefined;
  if ('_bsontype' in value) return undefined;
  return value;
}

/** The single `$$operator` key of an expected value, if it is an operator document. */
function operatorOf(expected: unknown): string | undefined {
  if (!isPlainDocument(expected)) return undefined;
  const keys = Object.keys(expected);
  return keys.length === 1 && keys[0]!.startsWith('$$') ? keys[0] : undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    const text = EJSON.stringify(value, { relaxed: true });
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** A JS number for int32/int64/double values in any wrapper; undefined for everything else (Decimal128 excluded). */
function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Int32 || value instanceof Double) return value.valueOf();
  return undefined;
}

/** BSON type names as `$type` spells them. Promoted JS numbers lost their int/long/double distinction. */
function bsonTypesOf(value: unknown): string[] {
  if (value === null) return ['null'];
  if (value === undefined) return ['undefined'];
  if (typeof value === 'string') return ['string'];
  if (typeof value === 'boolean') return ['bool'];
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return ['double', 'number'];
    return Math.abs(value) <= 2 ** 31 ? ['int', 'long', 'double', 'number'] : ['long', 'double', 'number'];
  }
  if (typeof value === 'bigint' || value instanceof Long) return ['long', 'number'];
  if (value instanceof Int32) return ['int', 'number'];
  if (value instanceof Double) return ['double', 'number'];
  if (value instanceof Decimal128) return ['decimal', 'number'];
  if (Array.isArray(value)) return ['array'];
  if (value instanceof Date) return ['date'];
  if (value instanceof ObjectId) return ['objectId'];
  if (value instanceof Binary) return ['binData'];
  if (value instanceof Timestamp) return ['timestamp'];
  if (value instanceof RegExp || value instanceof BSONRegExp) return ['regex'];
  if (value instanceof MinKey) return ['minKey'];
  if (value instanceof MaxKey) return ['maxKey'];
  const bsontype = (value as { _bsontype?: unknown })._bsontype;
  if (bsontype === 'Code') return ['javascript'];
  if (typeof value === 'object') return ['object'];
  return [typeof value];
}

function scalarEquals(expected: unknown, actual: unknown): boolean {
  const expectedNumber = numericValue(expected);
  const actualNumber = numericValue(actual);
  if (expectedNumber !== undefined || actualNumber !== undefined) return expectedNumber === actualNumber;
  if (expected instanceof Decimal128 || actual instanceof Decimal128) {
    return (
      expected instanceof Decimal128 &&
      actual instanceof Decimal128 &&
      expected.toString() === actual.toString()
    );
  }
  if (expected instanceof ObjectId) return actual instanceof ObjectId && expected.equals(actual);
  if (expected instanceof Date) return actual instanceof Date && expected.getTime() === actual.getTime();
  if (expected instanceof Timestamp) return actual instanceof Timestamp && expected.equals(actual);
  if (expected instanceof Binary) {
    return (
      actual instanceof Binary &&
      expected.sub_type === actual.sub_type &&
      Buffer.from(expected.buffer).equals(Buffer.from(actual.buffer))
    );
  }
  if (expected === null || typeof expected !== 'object') return expected === actual;
  // Regex, Code, MinKey/MaxKey and other wrappers: compare their canonical Extended JSON.
  return describe(expected) === describe(actual);
}

/**
 * Throws MatchError at the first difference. `isRoot` allows extra keys in `actual` (root-level documents).
 */
export function assertMatches(
  expected: unknown,
  actual: unknown,
  entities: MatchEntities,
  isRoot = true,
  path = '',
): void {
  const operator = operatorOf(expected);
  if (operator) {
    matchOperator(operator, (expected as Document)[operator], actual, entities, isRoot, path);
    return;
  }
  if (isPlainDocument(expected)) {
    const actualDocument = asActualDocument(actual);
    if (!actualDocument) throw new MatchError(path, `expected a document, got ${describe(actual)}`);
    matchDocument(expected, actualDocument, entities, isRoot, path);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new MatchError(path, `expected an array, got ${describe(actual)}`);
    if (actual.length !== expected.length) {
      throw new MatchError(
        path,
        `expected ${expected.length} elements, got ${actual.length}: ${describe(actual)}`,
      );
    }
    expected.forEach((item, index) =>
      assertMatches(item, actual[index], entities, false, `${path}[${index}]`),
    );
    return;
  }
  if (!scalarEquals(expected, actual)) {
    throw new MatchError(path, `expected ${describe(expected)}, got ${describe(actual)}`);
  }
}

function matchDocument(
  expected: Document,
  actual: Document,
  entities: MatchEntities,
  isRoot: boolean,
  path: string,
): void {
  for (const [key, value] of Object.entries(expected)) {
    const keyPath = path ? `${path}.${key}` : key;
    const actualValue: unknown = actual[key];
    const keyOperator = operatorOf(value);
    if (keyOperator === '$$exists') {
      const shouldExist = (value as Document).$$exists as boolean;
      if (shouldExist && actualValue === undefined)
        throw new MatchError(keyPath, 'expected the key to exist');
      if (!shouldExist && actualValue !== undefined) {
        throw new MatchError(keyPath, `expected no such key, got ${describe(actualValue)}`);
      }
      continue;
    }
    if (actualValue === undefined) {
      if (keyOperator === '$$unsetOrMatches') continue;
      throw new MatchError(keyPath, `missing; expected ${describe(value)}`);
    }
    assertMatches(value, actualValue, entities, false, keyPath);
  }
  if (!isRoot) {
    const extra = Object.keys(actual).filter((key) => !(key in expected) && actual[key] !== undefined);
    if (extra.length > 0)
      throw new MatchError(path, `unexpected keys ${extra.join(', ')} in ${describe(actual)}`);
  }
}

function matchOperator(
  operator: string,
  argument: unknown,
  actual: unknown,
  entities: MatchEntities,
  isRoot: boolean,
  path: string,
): void {
  switch (operator) {
    case '$$exists':
      // Only meaningful as a key's value; at value level `true` means "present".
      if ((argument === true) === (actual === undefined)) {
        throw new MatchError(path, `$$exists: ${String(argument)} but got ${describe(actual)}`);
      }
      return;
    case '$$type': {
      const wanted = Array.isArray(argument) ? (argument as string[]) : [argument as string];
      if (actual === undefined)
        throw new MatchError(path, `expected a value of type ${wanted.join('|')}, got none`);
      const types = bsonTypesOf(actual);
      if (!wanted.some((type) => types.includes(type))) {
        throw new MatchError(
          path,
          `expected type ${wanted.join('|')}, got ${types[0]} (${describe(actual)})`,
        );
      }
      return;
    }
    case '$$unsetOrMatches':
      if (actual === undefined) return;
      assertMatches(argument, actual, entities, isRoot, path);
      return;
    case '$$matchesEntity':
      assertMatches(entities.value(argument as string), actual, entities, isRoot, path);
      return;
    case '$$sessionLsid':
      assertMatches(entities.sessionLsid(argument as string), actual, entities, false, path);
      return;
    case '$$matchesHexBytes': {
      const hex = String(argument).toLowerCase();
      if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error(`malformed $$matchesHexBytes ${String(argument)}`);
      const actualHex =
        actual instanceof Binary
          ? Buffer.from(actual.buffer).toString('hex')
          : Buffer.isBuffer(actual) || actual instanceof Uint8Array
            ? Buffer.from(actual).toString('hex')
            : typeof actual === 'string'
              ? Buffer.from(actual, 'latin1').toString('hex')
              : undefined;
      if (actualHex !== hex) throw new MatchError(path, `expected bytes ${hex}, got ${describe(actual)}`);
      return;
    }
    case '$$lte': {
      const limit = numericValue(argument);
      const value = numericValue(actual);
      if (limit === undefined || value === undefined || value > limit) {
        throw new MatchError(path, `expected a number <= ${describe(argument)}, got ${describe(actual)}`);
      }
      return;
    }
    case '$$matchAsDocument': {
      if (typeof actual !== 'string')
        throw new MatchError(path, `expected an Extended JSON string, got ${describe(actual)}`);
      assertMatches(argument, EJSON.parse(actual, { relaxed: false }), entities, false, path);
      return;
    }
    case '$$matchAsRoot':
      assertMatches(argument, actual, entities, true, path);
      return;
    default:
      throw new Error(`unsupported special operator ${operator} at ${path || '(root)'}`);
  }
}
