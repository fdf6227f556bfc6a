// The field-level update operators ($set, $inc, $push, ...), each applied to one concrete path.
import { Long, Timestamp } from 'bson';
import { MongoCommandError } from '../errors.js';
import { arithmetic, integerValue, isNumeric, numericValue } from './bson-numbers.js';
import { bsonTypeName, isPlainDocument } from './bson-type-name.js';
import { cloneDocument } from './clone-document.js';
import { compareValues, valuesEqual } from './compare-values.js';
import { compileFilter } from './compile-filter.js';
import { compileSort } from './compile-sort.js';
import type { Document } from './document.js';
import { compileFieldCondition } from './field-condition.js';
import type { Predicate } from './field-condition.js';
import { getSlot, resolveSlot, setSlot, unsetSlot } from './update-paths.js';

export interface OperatorContext {
  /** Identifies the document in error messages. */
  documentId: unknown;
  now: Date;
}

export type FieldOperator = (
  doc: Document,
  parts: string[],
  argument: unknown,
  context: OperatorContext,
) => void;

const badValue = (message: string): MongoCommandError => new MongoCommandError('BadValue', message);

function idText(context: OperatorContext): string {
  try {
    return `{_id: ${JSON.stringify(context.documentId) ?? 'undefined'}}`;
  } catch {
    return '{_id: ?}';
  }
}

const $set: FieldOperator = (doc, parts, argument) => {
  const slot = resolveSlot(doc, parts, true) as NonNullable<ReturnType<typeof resolveSlot>>;
  setSlot(slot, cloneDocument(argument));
};

const $unset: FieldOperator = (doc, parts) => {
  const slot = resolveSlot(doc, parts, false);
  if (slot !== undefined) unsetSlot(slot);
};

function arithmeticOperator(name: '$inc' | '$mul', operation: 'add' | 'multiply'): FieldOperator {
  return (doc, parts, argument, context) => {
    if (!isNumeric(argument)) {
      const verb = name === '$inc' ? 'increment' : 'multiply';
      throw new MongoCommandError(
        'TypeMismatch',
        `Cannot ${verb} with non-numeric argument: {${parts.join('.')}: ${String(argument)}}`,
      );
    }
    const slot = resolveSlot(doc, parts, true) as NonNullable<ReturnType<typeof resolveSlot>>;
    const current = getSlot(slot);
    if (current === undefined) {
      // A missing field is created: $inc sets the amount, $mul sets a zero of the argument's type.
      setSlot(slot, name === '$inc' ? argument : arithmetic('multiply', argument, 0));
      return;
    }
    if (!isNumeric(current)) {
      throw new MongoCommandError(
        'TypeMismatch',
        `Cannot apply ${name} to a value of non-numeric type. ${idText(context)} has the field '${parts[parts.length - 1] ?? ''}' of non-numeric type ${bsonTypeName(current)}`,
      );
    }
    setSlot(slot, arithmetic(operation, current, argument));
  };
}

function extremumOperator(keepWhen: (order: number) => boolean): FieldOperator {
  return (doc, parts, argument) => {
    const slot = resolveSlot(doc, parts, true) as NonNullable<ReturnType<typeof resolveSlot>>;
    const current = getSlot(slot);
    if (current === undefined || keepWhen(compareValues(argument, current)))
      setSlot(slot, cloneDocument(argument));
  };
}

function arrayAt(
  doc: Document,
  parts: string[],
  operator: string,
  context: OperatorContext,
  create: boolean,
) {
  const slot = resolveSlot(doc, parts, create);
  if (slot === undefined) return undefined;
  const current = getSlot(slot);
  if (current === undefined) return { slot, array: undefined };
  if (!Array.isArray(current)) {
    throw badValue(
      `The field '${parts.join('.')}' must be an array but is of type ${bsonTypeName(current)} in document ${idText(context)} (${operator})`,
    );
  }
  return { slot, array: current };
}

const PUSH_MODIFIERS = new Set(['$each', '$slice', '$sort', '$position']);

function integerModifier(name: string, value: unknown): number {
  const numeric = numericValue(value);
  if (numeric === undefined || !Number.isInteger(Number(numeric))) {
    throw badValue(
      `The value for ${name} must be an integer value but was given type: ${bsonTypeName(value)}`,
    );
  }
  return Number(numeric);
}

function sortElements(elements: unknown[], spec: unknown): void {
  if (isPlainDocument(spec)) {
    const compare = compileSort(spec);
    elements.sort((a, b) => compare(isPlainDocument(a) ? a : {}, isPlainDocument(b) ? b : {}));
    return;
  }
  const direction = numericValue(spec);
  if (direction !== 1 && direction !== -1) throw badValue('The $sort element value must be either 1 or -1');
  elements.sort((a, b) => direction * compareValues(a, b));
}

const $push: FieldOperator = (doc, parts, argument, context) => {
  let each: unknown[] = [argument];
  let modifiers: Document = {};
  if (isPlainDocument(argument) && '$each' in argument) {
    for (const key of Object.keys(argument)) {
      if (!PUSH_MODIFIERS.has(key)) throw badValue(`Unrecognized clause in $push: ${key}`);
    }
    if (!Array.isArray(argument.$each)) {
      throw badValue(
        `The argument to $each in $push must be an array but it was of type: ${bsonTypeName(argument.$each)}`,
      );
    }
    each = argument.$each;
    modifiers = argument;
  }
  const found = arrayAt(doc, parts, '$push', context, true) as NonNullable<ReturnType<typeof arrayAt>>;
  const array = found.array ?? [];
  const items = each.map((item) => cloneDocument(item));
  if (modifiers.$position !== undefined) {
    const position = integerModifier('$position', modifiers.$position);
    const index = position < 0 ? Math.max(0, array.length + position) : Math.min(position, array.length);
    array.splice(index, 0, ...items);
  } else {
    array.push(...items);
  }
  if (modifiers.$sort !== undefined) sortElements(array, modifiers.$sort);
  if (modifiers.$slice !== undefined) {
    const slice = integerModifier('$slice', modifiers.$slice);
    if (slice >= 0) array.splice(slice);
    else array.splice(0, Math.max(0, array.length + slice));
  }
  if (found.array === undefined) setSlot(found.slot, array);
};

const $addToSet: FieldOperator = (doc, parts, argument, context) => {
  let each: unknown[] = [argument];
  if (isPlainDocument(argument) && '$each' in argument) {
    if (!Array.isArray(argument.$each)) {
      throw badValue(
        `The argument to $each in $addToSet must be an array but it was of type ${bsonTypeName(argument.$each)}`,
      );
    }
    each = argument.$each;
  }
  const found = arrayAt(doc, parts, '$addToSet', context, true) as NonNullable<ReturnType<typeof arrayAt>>;
  const array = found.array ?? [];
  for (const item of each) {
    if (!array.some((existing) => valuesEqual(existing, item))) array.push(cloneDocument(item));
  }
  if (found.array === undefined) setSlot(found.slot, array);
};

/** $pull conditions: an operator document tests values, a plain document is a query on document elements. */
function pullPredicate(condition: unknown): Predicate {
  const nested = (filter: Document): Predicate => compileFilter(filter) as Predicate;
  if (isPlainDocument(condition)) {
    const first = Object.keys(condition)[0];
    if (first !== undefined && first.startsWith('$') && !['$and', '$or', '$nor'].includes(first)) {
      return compileFieldCondition('', condition, nested);
    }
    const matcher = compileFilter(condition);
    return (element) => isPlainDocument(element) && matcher(element);
  }
  if (condition instanceof RegExp) return compileFieldCondition('', condition, nested);
  return (element) => valuesEqual(element, condition);
}

function removeMatching(
  doc: Document,
  parts: string[],
  operator: string,
  context: OperatorContext,
  predicate: Predicate,
): void {
  const found = arrayAt(doc, parts, operator, context, false);
  if (found?.array === undefined) return;
  const kept = found.array.filter((element) => !predicate(element));
  if (kept.length !== found.array.length) setSlot(found.slot, kept);
}

const $pull: FieldOperator = (doc, parts, argument, context) => {
  removeMatching(doc, parts, '$pull', context, pullPredicate(argument));
};

const $pullAll: FieldOperator = (doc, parts, argument, context) => {
  if (!Array.isArray(argument))
    throw badValue(`$pullAll requires an array argument but was given a ${bsonTypeName(argument)}`);
  removeMatching(doc, parts, '$pullAll', context, (element) =>
    argument.some((value) => valuesEqual(element, value)),
  );
};

const $pop: FieldOperator = (doc, parts, argument, context) => {
  const direction = numericValue(argument);
  if (direction !== 1 && direction !== -1) throw badValue(`$pop expects 1 or -1, found: ${String(argument)}`);
  const found = arrayAt(doc, parts, '$pop', context, false);
  if (found?.array === undefined || found.array.length === 0) return;
  setSlot(found.slot, direction === 1 ? found.array.slice(0, -1) : found.array.slice(1));
};

const $rename: FieldOperator = (doc, parts, argument) => {
  const target = (argument as string).split('.');
  const source = resolveSlot(doc, parts, false);
  if (source === undefined || Array.isArray(source.container)) return;
  const value = getSlot(source);
  if (value === undefined) return;
  unsetSlot(source);
  const slot = resolveSlot(doc, target, true) as NonNullable<ReturnType<typeof resolveSlot>>;
  if (Array.isArray(slot.container)) throw badValue('The destination field cannot be an array element');
  setSlot(slot, value);
};

const $bit: FieldOperator = (doc, parts, argument, context) => {
  if (!isPlainDocument(argument) || Object.keys(argument).length === 0) {
    throw badValue(
      `The $bit modifier is not compatible with a ${bsonTypeName(argument)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`,
    );
  }
  const slot = resolveSlot(doc, parts, true) as NonNullable<ReturnType<typeof resolveSlot>>;
  const current = getSlot(slot);
  let bits = current === undefined ? 0n : integerValue(current);
  if (bits === undefined) {
    throw badValue(
      `Cannot apply $bit to a value of non-integral type.${idText(context)} has the field ${parts.join('.')} of non-integer type ${bsonTypeName(current)}`,
    );
  }
  const wasLong = current instanceof Long;
  for (const operation of Object.keys(argument)) {
    const operand = integerValue(argument[operation]);
    if (operand === undefined)
      throw badValue(
        `The $bit modifier field must be an Integer(32/64 bit); a '${bsonTypeName(argument[operation])}' is not supported here`,
      );
    if (operation === 'and') bits &= operand;
    else if (operation === 'or') bits |= operand;
    else if (operation === 'xor') bits ^= operand;
    else
      throw badValue(
        `The $bit modifier only supports 'and', 'or', and 'xor', not '${operation}' which is an unknown operator`,
      );
  }
  const safe = bits >= BigInt(Number.MIN_SAFE_INTEGER) && bits <= BigInt(Number.MAX_SAFE_INTEGER);
  setSlot(slot, safe && !wasLong ? Number(bits) : Long.fromBigInt(bits));
};

let timestampIncrement = 0;

const $currentDate: FieldOperator = (doc, parts, argument, context) => {
  let type = 'date';
  if (isPlainDocument(argument)) {
    if (argument.$type !== 'date' && argument.$type !== 'timestamp') {
      throw badValue(
        "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}",
      );
    }
    type = argument.$type;
  } else if (typeof argument !== 'boolean') {
    throw badValue(
      `${bsonTypeName(argument)} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`,
    );
  }
  const slot = resolveSlot(doc, parts, true) as NonNullable<ReturnType<typeof resolveSlot>>;
  timestampIncrement = (timestampIncrement + 1) % 0x7fffffff;
  setSlot(
    slot,
    type === 'date'
      ? new Date(context.now.getTime())
      : new Timestamp({ t: Math.floor(context.now.getTime() / 1000), i: timestampIncrement }),
  );
};

export const FIELD_OPERATORS: Record<string, FieldOperator> = {
  $set,
  $setOnInsert: $set,
  $unset,
  $inc: arithmeticOperator('$inc', 'add'),
  $mul: arithmeticOperator('$mul', 'multiply'),
  $min: extremumOperator((order) => order < 0),
  $max: extremumOperator((order) => order > 0),
  $rename,
  $push,
  $addToSet,
  $pull,
  $pullAll,
  $pop,
  $bit,
  $currentDate,
};
