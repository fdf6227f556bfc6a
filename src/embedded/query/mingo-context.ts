// The mingo operator context the query layer evaluates expressions with: every stock operator, with the
// comparison operators replaced by BSON-aware ones (mingo compares Long/Decimal128 as plain objects).
import { Context, evalExpr } from 'mingo/core';
import type { Options } from 'mingo/types';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import { MongoCommandError } from '../errors.js';
import { compareValues } from './compare-values.js';
import { hashedIndexKey } from './hashed-index-key.js';

/** Aggregation expressions order missing below null ({$eq: ['$missing', null]} is false), unlike queries. */
export function compareExpressionValues(a: unknown, b: unknown): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  return compareValues(a, b);
}

type ExpressionFn = (obj: unknown, expr: unknown, options: Options) => unknown;

function comparison(name: string, test: (order: number) => boolean): ExpressionFn {
  return (obj, expr, options) => {
    const args = evalExpr(obj, expr, options);
    if (!Array.isArray(args) || args.length !== 2) {
      throw new MongoCommandError('BadValue', `Expression ${name} takes exactly 2 arguments.`);
    }
    return test(compareExpressionValues(args[0], args[1]));
  };
}

export const comparisonOverrides: Record<`$${string}`, ExpressionFn> = {
  $eq: comparison('$eq', (order) => order === 0),
  $ne: comparison('$ne', (order) => order !== 0),
  $gt: comparison('$gt', (order) => order > 0),
  $gte: comparison('$gte', (order) => order >= 0),
  $lt: comparison('$lt', (order) => order < 0),
  $lte: comparison('$lte', (order) => order <= 0),
  $cmp: (obj, expr, options) => {
    const args = evalExpr(obj, expr, options) as unknown[];
    return Math.sign(compareExpressionValues(args[0], args[1]));
  },
};

/** `{ $toHashedIndexKey: <expression> }`: mongod's hashed-index hash of the value, a Long (not in mingo). */
export const toHashedIndexKey: ExpressionFn = (obj, expr, options) => {
  const operand = Array.isArray(expr) && expr.length === 1 ? (expr[0] as unknown) : expr;
  return hashedIndexKey(evalExpr(obj, operand, options));
};

/** Every stock mingo operator; overrides registered first win (mingo's Context.from keeps the first). */
export const baseContext: Context = Context.from(
  Context.init({ expression: { ...comparisonOverrides, $toHashedIndexKey: toHashedIndexKey } }),
  Context.init({
    accumulator: accumulatorOperators,
    expression: expressionOperators,
    pipeline: pipelineOperators,
    projection: projectionOperators,
    query: queryOperators,
    window: windowOperators,
  }),
);

export const baseOptions: Partial<Options> = {
  context: baseContext,
  idKey: '_id',
  scriptEnabled: false,
  useStrictMode: true,
  failOnError: true,
};

/** MongoDB's truthiness in expressions: false, null, missing and 0 are false; everything else is true. */
export function isTruthy(value: unknown): boolean {
  if (value === false || value === null || value === undefined || value === 0) return false;
  return true;
}

/** Evaluates an aggregation expression against a document with the base context (or the caller's options). */
export function evaluateExpression(
  doc: unknown,
  expression: unknown,
  options: Options | Partial<Options> = baseOptions,
): unknown {
  return evalExpr(doc, expression, options as Options);
}

/**
 * Evaluates a `let` document (its values are expressions) into `$$name` bindings, against `root` (a $merge's
 * source document) and seeing the `inherited` variables (the command's `let`).
 */
export function evaluateLetVariables(
  definitions: Record<string, unknown>,
  inherited: Record<string, unknown> = {},
  root: unknown = {},
): Record<string, unknown> {
  const variables: Record<string, unknown> = { ...inherited };
  for (const [name, expression] of Object.entries(definitions)) {
    // User variables start lowercase (or non-ASCII); uppercase names are the system's ($$ROOT, $$NOW).
    if (!/^[a-z\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*$/.test(name)) {
      throw new MongoCommandError(
        'FailedToParse',
        `'${name}' starts with an invalid character for a user variable name`,
      );
    }
    variables[name] = evaluateExpression(root, expression, { ...baseOptions, variables });
  }
  return variables;
}
