// Checks a trigger filter at definition time. The watcher pushes it into the change stream's `$match` with
// every field prefixed by `fullDocument.`, so only query operators that survive that rewrite are allowed.

const LOGICAL_OPERATORS = new Set(['$and', '$or', '$nor']);

const FIELD_OPERATORS = new Set([
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
  '$type',
  '$regex',
  '$options',
  '$not',
  '$mod',
  '$size',
  '$all',
  '$elemMatch',
  '$bitsAllSet',
  '$bitsAnySet',
  '$bitsAllClear',
  '$bitsAnyClear',
]);

/** Operators MongoDB accepts in a query but that cannot work on a change stream's `fullDocument`. */
const UNSUPPORTED = new Map([
  ['$expr', 'its field references ($field) would not be rewritten to fullDocument.*'],
  ['$where', 'JavaScript is not allowed in a change stream $match'],
  ['$text', 'text search is not allowed in a change stream $match'],
  ['$jsonSchema', 'use the input schema to validate documents instead'],
  ['$near', 'geospatial queries need an index and are not allowed in a change stream $match'],
  ['$nearSphere', 'geospatial queries need an index and are not allowed in a change stream $match'],
]);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Every problem with `filter`, each naming its path from `filter`; empty when it is fine. */
export function findFilterProblems(filter: unknown, path = 'filter'): string[] {
  if (!isPlainObject(filter)) {
    return [`${path} must be a MongoDB query object like { status: 'paid' }, got ${kindOf(filter)}`];
  }
  return Object.entries(filter).flatMap(([key, value]) => checkQueryEntry(key, value, `${path}.${key}`));
}

function checkQueryEntry(key: string, value: unknown, path: string): string[] {
  if (key.startsWith('$')) {
    if (LOGICAL_OPERATORS.has(key)) return checkLogical(value, path);
    if (key === '$comment') return [];
    const reason = UNSUPPORTED.get(key);
    if (reason !== undefined) return [`${path}: ${key} is not supported in a trigger filter (${reason})`];
    return [
      `${path}: ${key} is not a top-level query operator; use a field name, or $and / $or / $nor, ` +
        'with field operators like $eq or $in inside a field',
    ];
  }
  const fieldProblem = checkFieldPath(key, path);
  if (fieldProblem !== undefined) return [fieldProblem];
  return checkFieldCondition(value, path);
}

function checkLogical(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    return [`${path} must be a non-empty array of query objects`];
  }
  return value.flatMap((clause, index) => findFilterProblems(clause, `${path}[${index}]`));
}

function checkFieldPath(key: string, path: string): string | undefined {
  if (key === '') return `${path}: a field name cannot be empty`;
  if (key.includes('\0')) return `${path}: a field name cannot contain a NUL character`;
  if (key.split('.').some((segment) => segment === '' || segment.startsWith('$'))) {
    return `${path}: "${key}" is not a valid field path (no empty segments, no segment starting with $)`;
  }
  return undefined;
}

// A condition is either a literal (equality) or an object of operators; a mix of both is a mistake.
function checkFieldCondition(condition: unknown, path: string): string[] {
  if (!isPlainObject(condition)) return [];
  const keys = Object.keys(condition);
  const operators = keys.filter((key) => key.startsWith('$'));
  if (operators.length === 0) return [];
  if (operators.length !== keys.length) {
    return [`${path} mixes operators (${operators.join(', ')}) with field names; use one or the other`];
  }
  return operators.flatMap((operator) => {
    const operand = condition[operator];
    const operatorPath = `${path}.${operator}`;
    if (!FIELD_OPERATORS.has(operator)) {
      const reason = UNSUPPORTED.get(operator);
      return [
        reason !== undefined
          ? `${operatorPath}: ${operator} is not supported in a trigger filter (${reason})`
          : `${operatorPath}: ${operator} is not a known query operator`,
      ];
    }
    if ((operator === '$in' || operator === '$nin' || operator === '$all') && !Array.isArray(operand)) {
      return [`${operatorPath} must be an array`];
    }
    if (operator === '$not') return checkFieldCondition(operand, operatorPath);
    if (operator === '$elemMatch') return checkElemMatch(operand, operatorPath);
    return [];
  });
}

// $elemMatch holds either a query on the array's documents or operators on its scalar elements.
function checkElemMatch(operand: unknown, path: string): string[] {
  if (!isPlainObject(operand)) return [`${path} must be a query object`];
  const keys = Object.keys(operand);
  if (keys.length > 0 && keys.every((key) => key.startsWith('$') && FIELD_OPERATORS.has(key))) {
    return checkFieldCondition(operand, path);
  }
  return findFilterProblems(operand, path);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return `a ${typeof value}`;
}
