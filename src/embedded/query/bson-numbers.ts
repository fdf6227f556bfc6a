// Numbers across JS number, bigint and the bson wrappers (Long beyond 2^53, Int32, Double, Decimal128).
import { Decimal128, Long } from 'bson';
import { bsonTag } from './bson-type-name.js';

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

export type ArithmeticOperation = 'add' | 'multiply';

/**
 * Adds or multiplies two BSON numbers keeping MongoDB's type promotion: Decimal128 wins, then doubles;
 * integers stay exact (a Long when the result leaves the safe range).
 */
export function arithmetic(operation: ArithmeticOperation, left: unknown, right: unknown): unknown {
  const a = numericValue(left);
  const b = numericValue(right);
  if (a === undefined || b === undefined) throw new TypeError('arithmetic on a non-number');
  const isDecimal = bsonTag(left as object) === 'Decimal128' || bsonTag(right as object) === 'Decimal128';
  const bothIntegers = isExactInteger(a) && isExactInteger(b);
  if (bothIntegers && !isDecimal) {
    const result = operation === 'add' ? BigInt(a) + BigInt(b) : BigInt(a) * BigInt(b);
    return result >= BigInt(Number.MIN_SAFE_INTEGER) && result <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(result)
      : Long.fromBigInt(result);
  }
  const result = operation === 'add' ? Number(a) + Number(b) : Number(a) * Number(b);
  return isDecimal ? Decimal128.fromString(String(result)) : result;
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
