// Compiles the condition on one field of a filter ({age: {$gte: 18}}, {tags: 'x'}, {name: /^a/i}) to a predicate.
import type { Binary, BSONRegExp } from 'bson';
import { MongoCommandError } from '../errors.js';
import { bsonTag, isPlainDocument, TYPE_CODES, typeRank } from './bson-type-name.js';
import { bsonTypeName } from './bson-type-name.js';
import { integerValue, isNumeric, numericValue } from './bson-numbers.js';
import { compareValues, valuesEqual, type ValueCompare } from './compare-values.js';
import type { Document } from './document.js';
import { someAlongPath, splitPath } from './path-walk.js';
import { valueKey } from './value-key.js';

export type Predicate = (root: unknown) => boolean;
type ValueTest = (value: unknown) => boolean;
/** Compiles a nested filter (for $elemMatch on documents) without importing compile-filter (no cycle). */
export type NestedCompiler = (filter: Document) => Predicate;

const badValue = (message: string): MongoCommandError => new MongoCommandError('BadValue', message);

/** Most operators test the value and, when it is an array, each of its elements ({tags: 'x'} matches ['x']). */
function elementwise(test: ValueTest): ValueTest {
  return (value) => test(value) || (Array.isArray(value) && value.some(test));
}

function alongPath(parts: readonly string[], test: ValueTest): Predicate {
  if (parts.length === 0) return test;
  if (parts.length === 1) {
    const key = parts[0] as string;
    return (root) => (isPlainDocument(root) ? test(root[key]) : someAlongPath(root, parts, 0, test));
  }
  return (root) => someAlongPath(root, parts, 0, test);
}

const not =
  (predicate: Predicate): Predicate =>
  (root) =>
    !predicate(root);

function allOf(predicates: Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0] as Predicate;
  return (root) => predicates.every((predicate) => predicate(root));
}

function isRegexValue(value: unknown): value is RegExp | BSONRegExp {
  return (
    value instanceof RegExp ||
    (typeof value === 'object' && value !== null && bsonTag(value) === 'BSONRegExp')
  );
}

const REGEX_OPTIONS = /^[imxsu]*$/;

/** Builds a JS RegExp from MongoDB's pattern and options ('x' is emulated by dropping unescaped whitespace). */
export function buildRegex(pattern: unknown, options: unknown): RegExp {
  let source: string;
  let flags = '';
  if (pattern instanceof RegExp) {
    source = pattern.source;
    flags = pattern.flags.replace(/[gy]/g, '');
  } else if (isRegexValue(pattern)) {
    source = (pattern as BSONRegExp).pattern;
    flags = (pattern as BSONRegExp).options;
  } else if (typeof pattern === 'string') {
    source = pattern;
  } else {
    throw badValue('$regex has to be a string');
  }
  if (options !== undefined) {
    if (typeof options !== 'string') throw badValue('$options has to be a string');
    flags = options;
  }
  if (!REGEX_OPTIONS.test(flags)) {
    const bad = [...flags].find((flag) => !'imxsu'.includes(flag)) ?? flags;
    throw badValue(`invalid flag in regex options: ${bad}`);
  }
  if (flags.includes('x')) {
    source = source.replace(/\\\s|\s+|#[^\n]*/g, (match) => (match.startsWith('\\') ? match : ''));
    flags = flags.replace('x', '');
  }
  try {
    return new RegExp(source, [...new Set(flags)].join(''));
  } catch (error) {
    throw new MongoCommandError('BadValue', `Regular expression is invalid: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function regexTest(regex: RegExp): ValueTest {
  return (value) => {
    if (typeof value === 'string') return regex.test(value);
    if (typeof value !== 'object' || value === null) return false;
    if (bsonTag(value) === 'BSONSymbol') return regex.test(String((value as { value: unknown }).value));
    if (isRegexValue(value)) {
      const [source, flags] =
        value instanceof RegExp ? [value.source, value.flags] : [value.pattern, value.options];
      return source === regex.source && flags === regex.flags;
    }
    return false;
  };
}

function equalityTest(operand: unknown, collated: ValueCompare | undefined): ValueTest {
  if (collated !== undefined) return (value) => collated(value, operand) === 0;
  if (typeof operand === 'string' || typeof operand === 'boolean') {
    return (value) =>
      value === operand || (typeof value === 'object' && value !== null && valuesEqual(value, operand));
  }
  return (value) => valuesEqual(value, operand);
}

/** $gt/$lt only compare within one type class ({$gt: 5} never matches a string), except against MinKey/MaxKey. */
function isNaNValue(value: unknown): boolean {
  return typeof value === 'number' && Number.isNaN(value);
}

/**
 * `$gt`/`$gte`/`$lt`/`$lte`. NaN only equals NaN: every other range comparison with it is false, as in
 * MongoDB (so `{$lte: 0}` does not match NaN, and `{$gte: NaN}` matches only NaN).
 */
function rangeTest(
  operand: unknown,
  accept: (order: number) => boolean,
  collated: ValueCompare | undefined,
): ValueTest {
  const operandRank = typeRank(operand);
  const bracketed = operandRank !== 1 && operandRank !== 16;
  const compare = collated ?? compareValues;
  if (isNaNValue(operand)) return (value) => isNaNValue(value) && accept(0);
  if (typeof operand === 'number') {
    // Fast path for the common numeric range query; other representations take the general route.
    return (value) =>
      typeof value === 'number'
        ? value === value && accept(value < operand ? -1 : value > operand ? 1 : 0)
        : typeRank(value) === operandRank && accept(compare(value, operand));
  }
  return (value) =>
    !isNaNValue(value) && (!bracketed || typeRank(value) === operandRank) && accept(compare(value, operand));
}

function inTest(operand: unknown, operator: string, collated: ValueCompare | undefined): ValueTest {
  if (!Array.isArray(operand)) throw badValue(`${operator} needs an array`);
  const keys = new Set<string>();
  const regexes: ValueTest[] = [];
  const values: unknown[] = [];
  for (const candidate of operand) {
    if (isRegexValue(candidate)) regexes.push(regexTest(buildRegex(candidate, undefined)));
    else if (isPlainDocument(candidate) && Object.keys(candidate)[0]?.startsWith('$')) {
      throw badValue(`cannot nest $ under ${operator}`);
    } else if (collated) values.push(candidate);
    else keys.add(valueKey(candidate));
  }
  // Collated strings have no canonical key, so a collation compares against each candidate.
  if (collated !== undefined) {
    return (value) =>
      values.some((candidate) => collated(value, candidate) === 0) || regexes.some((test) => test(value));
  }
  return (value) => keys.has(valueKey(value)) || regexes.some((test) => test(value));
}

function typeNames(operand: unknown): string[] {
  const list = Array.isArray(operand) ? operand : [operand];
  const known = new Set([...Object.values(TYPE_CODES), 'number']);
  return list.map((entry) => {
    if (typeof entry === 'number' || isNumeric(entry)) {
      const code = Number(numericValue(entry));
      const name = TYPE_CODES[code];
      if (name === undefined) throw badValue(`Invalid numerical type code: ${String(code)}`);
      return name;
    }
    if (typeof entry !== 'string') throw badValue('type must be represented as a number or a string');
    if (!known.has(entry)) throw badValue(`Unknown type name alias: ${entry}`);
    return entry;
  });
}

/**
 * A JS number is an int32 when it is an int32-range integer and a double otherwise (a whole-number double in that
 * range is held as a bson Double, int64 as Long: decode-bson.ts), so the type is exact.
 */
function hasType(value: unknown, name: string): boolean {
  if (name === 'number') return isNumeric(value);
  return bsonTypeName(value) === name;
}

function bitMask(operand: unknown, operator: string): bigint {
  if (Array.isArray(operand)) {
    let mask = 0n;
    for (const position of operand) {
      if (typeof position !== 'number' || !Number.isInteger(position) || position < 0) {
        throw badValue(`bit positions must be non-negative integers (${operator})`);
      }
      mask |= 1n << BigInt(position);
    }
    return mask;
  }
  if (typeof operand === 'object' && operand !== null && bsonTag(operand) === 'Binary') {
    const binary = operand as Binary;
    let mask = 0n;
    for (let i = binary.position - 1; i >= 0; i--) mask = (mask << 8n) | BigInt(binary.buffer[i] ?? 0);
    return mask;
  }
  const mask = integerValue(operand);
  if (mask === undefined || mask < 0n) throw badValue(`${operator} takes an Array, a number, or a BinData`);
  return mask;
}

function bitsTest(operator: string, operand: unknown): ValueTest {
  const mask = bitMask(operand, operator);
  return (value) => {
    const bits = integerValue(value);
    if (bits === undefined) return false;
    const masked = bits & mask;
    switch (operator) {
      case '$bitsAllSet':
        return masked === mask;
      case '$bitsAllClear':
        return masked === 0n;
      case '$bitsAnySet':
        return masked !== 0n;
      default:
        return masked !== mask;
    }
  };
}

function modTest(operand: unknown): ValueTest {
  if (!Array.isArray(operand)) throw badValue('malformed mod, needs to be an array');
  if (operand.length < 2) throw badValue('malformed mod, not enough elements');
  if (operand.length > 2) throw badValue('malformed mod, too many elements');
  const [divisor, remainder] = operand.map((entry) => numericValue(entry));
  if (divisor === undefined || remainder === undefined)
    throw badValue('malformed mod, divisor and remainder must be numbers');
  const d = Math.trunc(Number(divisor));
  const r = Math.trunc(Number(remainder));
  if (d === 0) throw badValue('divisor cannot be 0');
  return (value) => {
    const n = numericValue(value);
    return n !== undefined && Number.isFinite(Number(n)) && Math.trunc(Number(n)) % d === r;
  };
}

/** {$elemMatch: {$gt: 1}} tests elements as values; {$elemMatch: {a: 1}} tests them as documents. */
function elemMatchTest(
  operand: unknown,
  compileNested: NestedCompiler,
  collated: ValueCompare | undefined,
): ValueTest {
  if (!isPlainDocument(operand)) throw badValue('$elemMatch needs an Object');
  const keys = Object.keys(operand);
  const valueMode =
    keys.length > 0 &&
    keys.every((key) => key.startsWith('$') && !['$and', '$or', '$nor', '$expr'].includes(key));
  const elementTest: ValueTest = valueMode
    ? compileFieldCondition('', operand, compileNested, collated)
    : (
        (nested) => (element: unknown) =>
          isPlainDocument(element) && nested(element)
      )(compileNested(operand));
  return (value) => Array.isArray(value) && value.some(elementTest);
}

function compileOperator(
  parts: readonly string[],
  operator: string,
  operand: unknown,
  compileNested: NestedCompiler,
  collated: ValueCompare | undefined,
): Predicate {
  switch (operator) {
    case '$eq':
      return alongPath(parts, elementwise(equalityTest(operand, collated)));
    case '$ne':
      return not(alongPath(parts, elementwise(equalityTest(operand, collated))));
    case '$gt':
      return alongPath(parts, elementwise(rangeTest(operand, (order) => order > 0, collated)));
    case '$gte':
      return alongPath(parts, elementwise(rangeTest(operand, (order) => order >= 0, collated)));
    case '$lt':
      return alongPath(parts, elementwise(rangeTest(operand, (order) => order < 0, collated)));
    case '$lte':
      return alongPath(parts, elementwise(rangeTest(operand, (order) => order <= 0, collated)));
    case '$in':
      return alongPath(parts, elementwise(inTest(operand, '$in', collated)));
    case '$nin':
      return not(alongPath(parts, elementwise(inTest(operand, '$nin', collated))));
    case '$exists': {
      const exists = alongPath(parts, (value) => value !== undefined);
      return operand === false || operand === 0 || operand === null ? not(exists) : exists;
    }
    case '$type': {
      const names = typeNames(operand);
      return alongPath(
        parts,
        elementwise((value) => names.some((name) => hasType(value, name))),
      );
    }
    case '$size': {
      const size = numericValue(operand);
      if (size === undefined) throw badValue('$size needs a number');
      if (!Number.isInteger(Number(size)))
        throw badValue(`Failed to parse $size. Expected an integer: $size: ${String(size)}`);
      if (Number(size) < 0)
        throw badValue(`Failed to parse $size. Expected a non-negative number in: $size: ${String(size)}`);
      return alongPath(parts, (value) => Array.isArray(value) && value.length === Number(size));
    }
    case '$all': {
      if (!Array.isArray(operand)) throw badValue('$all needs an array');
      if (operand.length === 0) return () => false;
      return allOf(
        operand.map((entry) => {
          if (isPlainDocument(entry) && '$elemMatch' in entry) {
            return alongPath(parts, elemMatchTest(entry.$elemMatch, compileNested, collated));
          }
          if (isPlainDocument(entry) && Object.keys(entry)[0]?.startsWith('$'))
            throw badValue('no $ expressions in $all');
          const test = isRegexValue(entry)
            ? regexTest(buildRegex(entry, undefined))
            : equalityTest(entry, collated);
          return alongPath(parts, elementwise(test));
        }),
      );
    }
    case '$elemMatch':
      return alongPath(parts, elemMatchTest(operand, compileNested, collated));
    case '$not': {
      if (isRegexValue(operand))
        return not(alongPath(parts, elementwise(regexTest(buildRegex(operand, undefined)))));
      if (!isPlainDocument(operand)) throw badValue('$not needs a regex or a document');
      if (Object.keys(operand).length === 0) throw badValue('$not cannot be empty');
      return not(compileOperators(parts, operand, compileNested, collated));
    }
    case '$mod':
      return alongPath(parts, elementwise(modTest(operand)));
    case '$bitsAllSet':
    case '$bitsAllClear':
    case '$bitsAnySet':
    case '$bitsAnyClear':
      return alongPath(parts, elementwise(bitsTest(operator, operand)));
    case '$comment':
      return () => true;
    default:
      throw badValue(`unknown operator: ${operator}`);
  }
}

function compileOperators(
  parts: readonly string[],
  spec: Document,
  compileNested: NestedCompiler,
  collated: ValueCompare | undefined,
): Predicate {
  const predicates: Predicate[] = [];
  for (const operator of Object.keys(spec)) {
    if (!operator.startsWith('$')) throw badValue(`unknown operator: ${operator}`);
    if (operator === '$options') {
      if (!('$regex' in spec)) throw badValue('$options needs a $regex');
      continue;
    }
    if (operator === '$regex') {
      predicates.push(alongPath(parts, elementwise(regexTest(buildRegex(spec.$regex, spec.$options)))));
      continue;
    }
    predicates.push(compileOperator(parts, operator, spec[operator], compileNested, collated));
  }
  return predicates.length === 0 ? () => true : allOf(predicates);
}

/**
 * The predicate for `{[path]: spec}`; an empty path tests the value itself (used by $elemMatch on values).
 * `collated` replaces the binary comparison when the command has a collation.
 */
export function compileFieldCondition(
  path: string,
  spec: unknown,
  compileNested: NestedCompiler,
  collated?: ValueCompare,
): Predicate {
  const parts = splitPath(path);
  if (isRegexValue(spec)) return alongPath(parts, elementwise(regexTest(buildRegex(spec, undefined))));
  if (isPlainDocument(spec)) {
    const first = Object.keys(spec)[0];
    if (first !== undefined && first.startsWith('$'))
      return compileOperators(parts, spec, compileNested, collated);
  }
  return alongPath(parts, elementwise(equalityTest(spec, collated)));
}
