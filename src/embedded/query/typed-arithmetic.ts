// Aggregation arithmetic that keeps MongoDB's numeric types: $sum/$avg (as accumulators and expressions), $add,
// $subtract and $multiply. Pipelines run on copies whose Longs and whole doubles are JS numbers (mingo's operators
// need numbers); each copy is tagged with the document it was made from, so these operators read their field
// operands with the exact BSON type there. They return typed values (Long, Double(2)) only where the next stage
// gets a fresh copy again: at the top of a stage's expression, in a tagged document, and not inside a stock
// operator (which sees plain numbers, as before).
import { Decimal128 } from 'bson';
import { evalExpr } from 'mingo/core';
import type { Options } from 'mingo/types';
import { resolve } from 'mingo/util';
import { arithmetic, asDouble, numericValue } from './bson-numbers.js';
import { bsonTag } from './bson-type-name.js';
import { cloneForExpressions } from './clone-document.js';

/** On a pipeline copy: the document (exact types) it was copied from. */
export const TYPED_SOURCE = Symbol('typedSource');

export function tagTypedSource<T extends object>(copy: T, source: object): T {
  Object.defineProperty(copy, TYPED_SOURCE, { value: source, enumerable: false });
  return copy;
}

function typedSourceOf(value: unknown): object | undefined {
  return typeof value === 'object' && value !== null
    ? ((value as Record<symbol, unknown>)[TYPED_SOURCE] as object | undefined)
    : undefined;
}

export type OperatorFn = (obj: unknown, expr: unknown, options: Options) => unknown;

/** How many stock operators are being evaluated around the current call: inside one, results must be plain. */
let stockDepth = 0;

/**
 * An internal operator that evaluates its argument as a stock operator would: typed operators inside it give plain
 * numbers. `$group` keys go through it, so that 5 and Long(5) still fall in one group as in MongoDB.
 */
export const PLAIN_VALUE_OPERATOR = '$_plainValue';
const plainValue: OperatorFn = (obj, expr, options) => evalExpr(obj, expr, options);

/** The typed source of a pipeline copy, or the document itself. */
export function typedSourceOrSelf<T>(doc: T): T {
  return (typedSourceOf(doc) as T | undefined) ?? doc;
}

/** Wraps mingo's stock expression operators so that typed operators evaluated inside them return plain numbers. */
export function wrapStockOperators(operators: Record<string, unknown>): Record<string, OperatorFn> {
  const wrapped: Record<string, OperatorFn> = {};
  for (const [name, operator] of Object.entries({ ...operators, [PLAIN_VALUE_OPERATOR]: plainValue })) {
    if (typeof operator !== 'function') continue;
    const stock = operator;
    wrapped[name] = (obj, expr, options) => {
      stockDepth += 1;
      try {
        return stock(obj, expr, options);
      } finally {
        stockDepth -= 1;
      }
    };
  }
  return wrapped;
}

/** Calls one of mingo's own operators as a stock one: typed operators inside it answer plain numbers. */
export function callStock(stock: OperatorFn, obj: unknown, expr: unknown, options: Options): unknown {
  stockDepth += 1;
  try {
    return stock(obj, expr, options);
  } finally {
    stockDepth -= 1;
  }
}

/** Runs a typed operator: operands are evaluated as top-level ones; the result is plain when it must be. */
export function typedOperator(
  compute: (obj: unknown, expr: unknown, options: Options) => unknown,
): OperatorFn {
  return (obj, expr, options) => {
    const outerDepth = stockDepth;
    const typedContext = outerDepth === 0 && isTaggedContext(obj);
    stockDepth = 0;
    let result: unknown;
    try {
      result = compute(obj, expr, options);
    } finally {
      stockDepth = outerDepth;
    }
    return typedContext ? result : cloneForExpressions(result);
  };
}

/** A tagged document, or (for an accumulator) a group of them. */
function isTaggedContext(obj: unknown): boolean {
  return Array.isArray(obj) ? typedSourceOf(obj[0]) !== undefined : typedSourceOf(obj) !== undefined;
}

/** An operand's value, read from the tagged source document when it is a plain field path. */
export function typedOperand(obj: unknown, expr: unknown, options: Options): unknown {
  if (typeof expr === 'string' && expr.startsWith('$') && !expr.startsWith('$$')) {
    const source = typedSourceOf(obj);
    if (source !== undefined) return resolve(source as Record<string, unknown>, expr.slice(1));
  }
  return evalExpr(obj, expr, options);
}

export const isNumber = (value: unknown): boolean =>
  typeof value !== 'boolean' && numericValue(value) !== undefined;
export const isDecimal = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && bsonTag(value) === 'Decimal128';

/** One step of $sum (sliced $group folds with it too): a non-number leaves the total as it is. */
export function addToTypedSum(total: unknown, value: unknown): unknown {
  return isNumber(value) ? arithmetic('add', total, value) : total;
}

/** Sum of the numeric values (others ignored): int32 unless a long, a double or an int32 overflow widens it. */
function typedSum(values: readonly unknown[]): unknown {
  let total: unknown = 0;
  for (const value of values) total = addToTypedSum(total, value);
  return total;
}

/** Mean of `count` numbers summing to `total`: a double (a decimal when one of them is), null when there are none. */
export function typedMean(total: unknown, count: number, anyDecimal: boolean): unknown {
  if (count === 0) return null;
  const mean = Number(numericValue(total)) / count;
  return anyDecimal ? Decimal128.fromString(String(mean)) : asDouble(mean);
}

function typedAverage(values: readonly unknown[]): unknown {
  const numbers = values.filter(isNumber);
  return typedMean(typedSum(numbers), numbers.length, numbers.some(isDecimal));
}

/**
 * The values an accumulator-style operator works on: in $group, the operand of each document of the group; as an
 * expression, one operand's array elements (or the value itself), or each of several operands (arrays skipped).
 */
export function accumulatedValues(obj: unknown, expr: unknown, options: Options): unknown[] {
  if (Array.isArray(obj)) return obj.map((doc) => typedOperand(doc, expr, options));
  if (Array.isArray(expr)) {
    if (expr.length !== 1) return expr.map((operand) => typedOperand(obj, operand, options));
    expr = expr[0];
  }
  const value = typedOperand(obj, expr, options);
  return Array.isArray(value) ? value : [value];
}

/** Operands of $add/$subtract/$multiply, or undefined when one is not a number (dates and errors: mingo's job). */
function numericOperands(obj: unknown, expr: unknown, options: Options): unknown[] | null | undefined {
  if (!Array.isArray(expr)) return undefined;
  const values = expr.map((operand) => typedOperand(obj, operand, options));
  if (values.some((value) => value === null || value === undefined)) return null;
  return values.every(isNumber) ? values : undefined;
}

function arithmeticOperator(
  name: '$add' | '$subtract' | '$multiply',
  stock: OperatorFn,
  combine: (values: unknown[]) => unknown,
): OperatorFn {
  return (obj, expr, options) => {
    const values = numericOperands(obj, expr, options);
    if (values === null) return null;
    if (values === undefined || (name === '$subtract' && values.length !== 2)) {
      return cloneForExpressions(stock(cloneForExpressions(obj), expr, options));
    }
    return combine(values);
  };
}

/** The typed operators, to register ahead of mingo's; `stock` are mingo's own, used for what they do not cover. */
export function typedArithmeticOperators(stock: Record<string, unknown>): Record<string, OperatorFn> {
  const stockOf = (name: string): OperatorFn => stock[name] as OperatorFn;
  return {
    $sum: typedOperator((obj, expr, options) =>
      // `{$sum: 1}` counts: one multiplication instead of a pass (an int32 count overflows to a long).
      Array.isArray(obj) && typeof expr === 'number'
        ? arithmetic('multiply', obj.length, expr)
        : typedSum(accumulatedValues(obj, expr, options)),
    ),
    $avg: typedOperator((obj, expr, options) => typedAverage(accumulatedValues(obj, expr, options))),
    $add: typedOperator(
      arithmeticOperator('$add', stockOf('$add'), (values) =>
        values.reduce((total, value) => arithmetic('add', total, value), 0),
      ),
    ),
    $subtract: typedOperator(
      arithmeticOperator('$subtract', stockOf('$subtract'), ([left, right]) =>
        arithmetic('subtract', left, right),
      ),
    ),
    $multiply: typedOperator(
      arithmeticOperator('$multiply', stockOf('$multiply'), (values) =>
        values.reduce((product, value) => arithmetic('multiply', product, value), 1),
      ),
    ),
  };
}
