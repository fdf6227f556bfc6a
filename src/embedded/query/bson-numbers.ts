// Numbers across JS number, bigint and the bson wrappers (Long beyond 2^53, Int32, Double, Decimal128).
import { Decimal128, Double, Long } from 'bson';
import { bsonTag, isInt32 } from './bson-type-name.js';

/** An exact numeric value: a JS number, or a bigint for integers a double cannot hold exactly. */
export type NumericValue = number | bigint;

const INTEGER_STRING = /^-?\d+$/;

/** The numeric value of a BSON number, or undefined when the value is not a number. */
export function numericValue(value: unknown): NumericValue | undefined {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  if (typeof value !== 'object' || value === null) return undefined;
  switch (bsonTag(value)) {
    case 'Long': {
      const long = value as Long;
      return long.lessThanOrEqual(Number.MAX_SAFE_INTEGER) && long.greaterThanOrEqual(Number.MIN_SAFE_INTEGER)
        ? long.toNumber()
        : long.toBigInt();
    }
    case 'Int32':
    case 'Double':
      return (value as { value: number }).value;
    case 'Decimal128':
      return decimalValue(value as Decimal128);
    default:
      return undefined;
  }
}

function decimalValue(decimal: Decimal128): NumericValue {
  const text = decimal.toString();
  if (INTEGER_STRING.test(text)) {
    const asNumber = Number(text);
    return Number.isSafeInteger(asNumber) ? asNumber : BigInt(text);
  }
  // Decimal128 strings such as 'NaN', '-Infinity', '1.5E+3' parse as doubles; exactness beyond 2^53 is lost.
  return text === 'NaN' || text === '-NaN' ? Number.NaN : Number(text);
}

export function isNumeric(value: unknown): boolean {
  return numericValue(value) !== undefined;
}

/** Orders numbers by value; NaN sorts below every other number and equals itself, as in MongoDB. */
export function compareNumeric(a: NumericValue, b: NumericValue): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a < b) return -1;
    if (a > b) return 1;
    if (a === b) return 0;
    return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : 1;
  }
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number') return compareNumberToBigint(a, b as bigint);
  return -compareNumberToBigint(b as number, a);
}

function compareNumberToBigint(n: number, big: bigint): number {
  if (Number.isNaN(n)) return -1;
  if (!Number.isFinite(n)) return n > 0 ? 1 : -1;
  const floor = BigInt(Math.floor(n));
  if (floor < big) return -1;
  if (floor > big) return 1;
  return Number.isInteger(n) ? 0 : 1;
}

/** The canonical text of a number, equal for equal values whatever their representation. */
export function numericKey(value: NumericValue): string {
  if (typeof value === 'bigint') return value.toString();
  if (Number.isInteger(value)) return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
  return String(value);
}

export type ArithmeticOperation = 'add' | 'subtract' | 'multiply';

type NumericKind = 0 | 1 | 2 | 3;
const INT: NumericKind = 0;
const LONG: NumericKind = 1;
const DOUBLE: NumericKind = 2;
const DECIMAL: NumericKind = 3;

/** The BSON number type of a value the server holds: a JS number is an int32 in int32 range, else a double. */
function numericKind(value: unknown): NumericKind {
  if (typeof value === 'number') return Number.isInteger(value) && isInt32(value) ? INT : DOUBLE;
  if (typeof value === 'bigint') return LONG;
  switch (bsonTag(value as object)) {
    case 'Long':
      return LONG;
    case 'Double':
      return DOUBLE;
    case 'Decimal128':
      return DECIMAL;
    default:
      return INT;
  }
}

/** A double result as the server holds it: a whole number in int32 range stays a Double so it is written back as one. */
export function asDouble(value: number): unknown {
  return Number.isInteger(value) && isInt32(value) && !Object.is(value, -0) ? new Double(value) : value;
}

/**
 * Adds, subtracts or multiplies two BSON numbers keeping MongoDB's type promotion: the wider type wins (int < long < double <
 * decimal); int32 overflow becomes a long; integers stay exact.
 */
export function arithmetic(operation: ArithmeticOperation, left: unknown, right: unknown): unknown {
  const a = numericValue(left);
  const b = numericValue(right);
  if (a === undefined || b === undefined) throw new TypeError('arithmetic on a non-number');
  const kind = Math.max(numericKind(left), numericKind(right)) as NumericKind;
  if (kind <= LONG && isExactInteger(a) && isExactInteger(b)) {
    // Fast path: two int32 results that fit in int32 (the saga store's counters).
    if (typeof a === 'number' && typeof b === 'number') {
      const result = apply(operation, a, b);
      if (kind === INT && isInt32(result)) return result;
    }
    return Long.fromBigInt(apply(operation, BigInt(a), BigInt(b)));
  }
  const result = apply(operation, Number(a), Number(b));
  return kind === DECIMAL ? Decimal128.fromString(String(result)) : asDouble(result);
}

function apply<T extends number | bigint>(operation: ArithmeticOperation, a: T, b: T): T {
  const [x, y] = [a as number, b as number];
  return (operation === 'add' ? x + y : operation === 'subtract' ? x - y : x * y) as T;
}

function isExactInteger(value: NumericValue): boolean {
  return typeof value === 'bigint' || Number.isSafeInteger(value);
}

/** The value as an exact integer for bitwise operations, or undefined for non-integers. */
export function integerValue(value: unknown): bigint | undefined {
  const numeric = numericValue(value);
  if (numeric === undefined) return undefined;
  if (typeof numeric === 'bigint') return numeric;
  return Number.isInteger(numeric) ? BigInt(numeric) : undefined;
}
