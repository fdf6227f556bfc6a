// Compiles a MongoDB filter once per command into a predicate run per document.
import type { CollationSpec, Options } from 'mingo/types';
import { MongoCommandError } from '../errors.js';
import { isPlainDocument } from './bson-type-name.js';
import { cloneForExpressions } from './clone-document.js';
import { collatedValueCompare } from './collation.js';
import type { ValueCompare } from './compare-values.js';
import type { Document } from './document.js';
import { compileFieldCondition } from './field-condition.js';
import type { Predicate } from './field-condition.js';
import { baseOptions, evaluateExpression, isTruthy } from './mingo-context.js';
import { compileJsonSchema } from './json-schema.js';
import { assertVariablesDefined } from './undefined-variables.js';

export type DocumentMatcher = (doc: Document) => boolean;

const badValue = (message: string): MongoCommandError => new MongoCommandError('BadValue', message);

/** What a compiled filter evaluates with: mingo's options for `$expr`, and the collated comparison if any. */
interface FilterScope {
  options: Partial<Options>;
  collated: ValueCompare | undefined;
  /** A command's own filter: every `$$name` in `$expr` must be defined when it is compiled. */
  checkVariables?: boolean;
}

/** The `let` variables and collation of a command, as the query layer's entry points take them. */
export interface QueryOptions {
  /** Values for `$$name` variables (the command's `let`). */
  variables?: Document;
  /** A parsed collation (see parseCollation); absent or `simple` compares strings binary. */
  collation?: CollationSpec;
}

/** mingo options carrying a command's variables and collation (the base options when it has neither). */
export function mingoOptionsFor(options: QueryOptions): Partial<Options> {
  if (options.variables === undefined && options.collation === undefined) return baseOptions;
  return {
    ...baseOptions,
    ...(options.variables ? { variables: options.variables } : {}),
    ...(options.collation ? { collation: options.collation } : {}),
  };
}

function compileLogical(operator: string, operand: unknown, options: FilterScope): Predicate[] {
  if (!Array.isArray(operand) || operand.length === 0) throw badValue(`${operator} must be a nonempty array`);
  return operand.map((clause) => {
    if (!isPlainDocument(clause)) throw badValue('$or/$and/$nor entries need to be full objects');
    return compileDocument(clause, options);
  });
}

function compileExpr(expression: unknown, scope: FilterScope): Predicate {
  if (scope.checkVariables) assertVariablesDefined(expression, scope.options.variables);
  return (doc) => {
    try {
      // mingo's operators treat a bson Long or Double as an object: they see a copy with those as numbers.
      return isTruthy(evaluateExpression(cloneForExpressions(doc), expression, scope.options));
    } catch (error) {
      if (error instanceof MongoCommandError) throw error;
      throw new MongoCommandError('BadValue', `Invalid $expr: ${(error as Error).message}`, { cause: error });
    }
  };
}

function compileClause(key: string, operand: unknown, options: FilterScope): Predicate | undefined {
  if (!key.startsWith('$')) {
    return compileFieldCondition(
      key,
      operand,
      (nested) => compileDocument(nested, options),
      options.collated,
    );
  }
  switch (key) {
    case '$and': {
      const clauses = compileLogical(key, operand, options);
      return (doc) => clauses.every((clause) => clause(doc));
    }
    case '$or': {
      const clauses = compileLogical(key, operand, options);
      return (doc) => clauses.some((clause) => clause(doc));
    }
    case '$nor': {
      const clauses = compileLogical(key, operand, options);
      return (doc) => !clauses.some((clause) => clause(doc));
    }
    case '$expr':
      return compileExpr(operand, options);
    case '$comment':
      return undefined;
    case '$alwaysTrue':
      return () => true;
    case '$alwaysFalse':
      return () => false;
    case '$where':
      throw badValue('$where is not supported by the embedded server');
    case '$text':
      throw new MongoCommandError('IndexNotFound', 'text index required for $text query');
    case '$jsonSchema':
      return compileJsonSchema(operand);
    default:
      throw badValue(`unknown top level operator: ${key}`);
  }
}

function compileDocument(filter: Document, options: FilterScope): Predicate {
  const predicates: Predicate[] = [];
  for (const key of Object.keys(filter)) {
    const predicate = compileClause(key, filter[key], options);
    if (predicate !== undefined) predicates.push(predicate);
  }
  switch (predicates.length) {
    case 0:
      return () => true;
    case 1:
      return predicates[0] as Predicate;
    case 2: {
      const [first, second] = predicates as [Predicate, Predicate];
      return (doc) => first(doc) && second(doc);
    }
    default:
      return (doc) => predicates.every((predicate) => predicate(doc));
  }
}

/**
 * Compiles `filter` with the mingo options `$expr` is evaluated with (a pipeline passes its own so `$$vars`
 * from `$lookup`'s `let` resolve).
 */
export function compileFilterWithOptions(filter: Document, options: Partial<Options>): DocumentMatcher {
  if (!isPlainDocument(filter)) throw badValue('filter must be an object');
  return compileDocument(filter, { options, collated: collatedValueCompare(options.collation) });
}

/**
 * The full query language: field conditions with implicit array traversal, logical operators and `$expr`.
 * Throws MongoCommandError('BadValue') for malformed filters, as MongoDB does at parse time.
 */
export function compileFilter(filter: Document, options: QueryOptions = {}): DocumentMatcher {
  if (!isPlainDocument(filter)) throw badValue('filter must be an object');
  const mingoOptions = mingoOptionsFor(options);
  return compileDocument(filter, {
    options: mingoOptions,
    collated: collatedValueCompare(mingoOptions.collation),
    checkVariables: true,
  });
}
