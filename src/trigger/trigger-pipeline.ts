// Turns a saga's trigger into a change-stream pipeline: the operation types and the user's filter are matched
// by the server, with every field path rewritten to `fullDocument.<path>`.
import type { Document } from 'mongodb';
import type { ResolvedTrigger } from '../definition/trigger.js';
import { SagastreamError } from '../errors/sagastream-error.js';
import { partitionCondition, type TriggerPartition } from './trigger-partition.js';

const LOGICAL_OPERATORS = new Set(['$and', '$or', '$nor']);

/** Why an operator cannot be pushed into a change stream's `$match`. */
const UNSUPPORTED_OPERATORS = new Map([
  ['$expr', 'its field references ($field) would not be rewritten to fullDocument.*'],
  ['$where', 'JavaScript is not allowed in a change stream $match'],
  ['$text', 'text search is not allowed in a change stream $match'],
  ['$jsonSchema', 'use the input schema to validate documents instead'],
]);

type TriggerShape = Pick<ResolvedTrigger, 'on' | 'filter'>;

/**
 * The `$match` stage of a trigger's change stream (of one partition's share of it). `invalidate` events always
 * pass: the watcher must see the collection being dropped or renamed to continue after it with `startAfter` and
 * reconcile; every partition sees them.
 */
export function triggerPipeline(trigger: TriggerShape, partition?: TriggerPartition): Document[] {
  const matching = {
    operationType: { $in: [...trigger.on] },
    ...prefixFilter(trigger.filter),
    // A user filter cannot hold $expr (refused below), so this one is the only one.
    ...(partition ? { $expr: partitionCondition('$documentKey._id', partition) } : {}),
  };
  return [{ $match: { $or: [matching, { operationType: 'invalidate' }] } }];
}

/** Update events carry no document unless asked: `updateLookup` fetches the current version. */
export function triggerFullDocument(trigger: Pick<ResolvedTrigger, 'on'>): 'updateLookup' | undefined {
  return trigger.on.includes('update') ? 'updateLookup' : undefined;
}

/**
 * Rewrites a query on a document into the same query on `<prefix>.*` of a change event. Operators on a field
 * (`{ total: { $gt: 0 } }`, including `$elemMatch` contents, which are relative to the array) are kept as
 * they are; `$and` / `$or` / `$nor` are rewritten clause by clause.
 * @throws SagastreamError `INVALID_DEFINITION` for operators that cannot work on `fullDocument`.
 */
export function prefixFilter(
  filter: Readonly<Record<string, unknown>>,
  prefix = 'fullDocument',
  path = 'trigger.filter',
): Document {
  const rewritten: Document = {};
  for (const [key, condition] of Object.entries(filter)) {
    if (!key.startsWith('$')) {
      rewritten[`${prefix}.${key}`] = condition;
    } else if (LOGICAL_OPERATORS.has(key)) {
      if (!Array.isArray(condition)) {
        throw invalidFilter(`${path}.${key} must be an array of query objects`);
      }
      rewritten[key] = condition.map((clause: unknown, index) => {
        if (typeof clause !== 'object' || clause === null || Array.isArray(clause)) {
          throw invalidFilter(`${path}.${key}[${index}] must be a query object`);
        }
        return prefixFilter(clause as Record<string, unknown>, prefix, `${path}.${key}[${index}]`);
      });
    } else if (key === '$comment') {
      rewritten[key] = condition;
    } else {
      const reason =
        UNSUPPORTED_OPERATORS.get(key) ?? 'only $and, $or, $nor and $comment are allowed at top level';
      throw invalidFilter(`${path}.${key} is not supported in a trigger filter (${reason})`);
    }
  }
  return rewritten;
}

function invalidFilter(problem: string): SagastreamError {
  return new SagastreamError(
    'INVALID_DEFINITION',
    `${problem}. Express the condition on document fields with query operators such as $eq, $in or $gt.`,
  );
}
