// $first, $last, $min, $max, $round and $abs with MongoDB's numeric types: the first four give back one of their
// operands, so they return it as stored (a Long stays a Long, a whole double a double); $round and $abs keep their
// input's type ($round of a whole double is a double, of an int an int; $abs of a Long a Long, of the int32 minimum
// a Long). mingo computes on plain numbers; these read the typed operands from the copy's source (typed-arithmetic.ts).
import { Decimal128, Long } from 'bson';
import { evalExpr } from 'mingo/core';
import type { Options } from 'mingo/types';
import { MongoCommandError } from '../errors.js';
import { asDouble, numericValue } from './bson-numbers.js';
import { bsonTag, isInt32 } from './bson-type-name.js';
import {
  accumulatedValues,
  callStock,
  isNumber,
  typedOperand,
  typedOperator,
  type OperatorFn,
} from './typed-arithmetic.js';

/** The operand whose value is mingo's plain `result`, in the order given, so the stored type comes back. */
function typedEqual(result: unknown, candidates: readonly unknown[]): unknown {
  if (typeof result !== 'number' || Number.isNaN(result)) return result;
  for (const candidate of candidates) {
    if (isNumber(candidate) && Number(numericValue(candidate)) === result) return candidate;
  }
  return result;
}

/** The values a $first/$last/$min/$max picks from: one per document of a group, else the operand's elements. */
function pickedFrom(obj: unknown, expr: unknown, options: Options): unknown[] {
  return accumulatedValues(obj, expr, options);
}

function picking(stock: OperatorFn, order: 'first' | 'last'): OperatorFn {
  return typedOperator((obj, expr, options) => {
    const result = callStock(stock, obj, expr, options);
    const candidates = pickedFrom(obj, expr, options);
    return typedEqual(result, order === 'first' ? candidates : candidates.reverse());
  });
}

type IntegerKind = 'int' | 'long';

/** int32 or Long for an integer input, else undefined (doubles and decimals round through mingo). */
function integerKind(value: unknown): IntegerKind | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && isInt32(value) ? 'int' : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const tag = bsonTag(value);
  return tag === 'Long' ? 'long' : tag === 'Int32' ? 'int' : undefined;
}

/** Rounds an integer to a negative number of decimal places, half to even (as $round does). */
function roundInteger(value: bigint, place: number): bigint {
  if (place >= 0) return value;
  const unit = 10n ** BigInt(-place);
  const magnitude = value < 0n ? -value : value;
  const remainder = magnitude % unit;
  let rounded = magnitude - remainder;
  if (remainder * 2n > unit || (remainder * 2n === unit && (rounded / unit) % 2n === 1n)) rounded += unit;
  return value < 0n ? -rounded : rounded;
}

function integerResult(value: bigint, kind: IntegerKind): unknown {
  if (kind === 'int' && value >= -2147483648n && value <= 2147483647n) return Number(value);
  return Long.fromBigInt(value);
}

function rounding(stock: OperatorFn): OperatorFn {
  return typedOperator((obj, expr, options) => {
    const operands = Array.isArray(expr) ? (expr as unknown[]) : undefined;
    const input = operands ? typedOperand(obj, operands[0], options) : undefined;
    const kind = integerKind(input);
    const place = operands && operands.length > 1 ? evalExpr(obj, operands[1], options) : 0;
    if (kind && typeof place === 'number' && Number.isInteger(place) && place >= -20 && place <= 100) {
      return integerResult(roundInteger(BigInt(numericValue(input)!), place), kind);
    }
    if (operands && typeof input === 'object' && input !== null && bsonTag(input) === 'Decimal128') {
      // mingo rounds numbers only: the decimal's value goes in as a literal (exact to a double's precision).
      const literal = [Number(numericValue(input)), ...operands.slice(1)];
      return Decimal128.fromString(String(callStock(stock, obj, literal, options)));
    }
    const result = callStock(stock, obj, expr, options);
    if (typeof result !== 'number' || input === null || input === undefined) return result;
    return asDouble(result);
  });
}

const LONG_MIN = Long.MIN_VALUE;

function absolute(stock: OperatorFn): OperatorFn {
  return typedOperator((obj, expr, options) => {
    const operand = Array.isArray(expr) && expr.length === 1 ? (expr[0] as unknown) : expr;
    const input = typedOperand(obj, operand, options);
    if (input === null || input === undefined) return null;
    const kind = integerKind(input);
    if (kind === 'long') {
      const long = input as Long;
      if (long.equals(LONG_MIN)) {
        throw new MongoCommandError('Location28680', "can't take $abs of long long min");
      }
      return long.isNegative() ? long.negate() : long;
    }
    if (kind === 'int') return integerResult(BigInt(Math.abs(Number(numericValue(input)))), 'int');
    if (typeof input === 'number') return asDouble(Math.abs(input));
    if (typeof input === 'object' && bsonTag(input) === 'Double') {
      return asDouble(Math.abs(Number(numericValue(input))));
    }
    if (typeof input === 'object' && bsonTag(input) === 'Decimal128') {
      return Decimal128.fromString((input as Decimal128).toString().replace(/^-/, ''));
    }
    return callStock(stock, obj, expr, options);
  });
}

/**
 * mingo has $min/$max only as accumulators; as an expression it applies them to the operand's values, as its
 * computeOperator does for any accumulator used outside $group.
 */
function accumulatorAsExpression(accumulator: OperatorFn): OperatorFn {
  return (obj, expr, options) =>
    Array.isArray(obj)
      ? accumulator(obj, expr, options)
      : accumulator(evalExpr(obj, expr, options), null, options);
}

/**
 * The typed operators, to register ahead of mingo's; `expressions` and `accumulators` are mingo's own, which
 * compute the values these give back with their stored types.
 */
export function typedValueOperators(
  expressions: Record<string, unknown>,
  accumulators: Record<string, unknown>,
): Record<string, OperatorFn> {
  const stockOf = (name: string): OperatorFn => expressions[name] as OperatorFn;
  const accumulatorOf = (name: string): OperatorFn =>
    accumulatorAsExpression(accumulators[name] as OperatorFn);
  return {
    $first: picking(stockOf('$first'), 'first'),
    $last: picking(stockOf('$last'), 'last'),
    $min: picking(accumulatorOf('$min'), 'first'),
    $max: picking(accumulatorOf('$max'), 'first'),
    $round: rounding(stockOf('$round')),
    $abs: absolute(stockOf('$abs')),
  };
}
