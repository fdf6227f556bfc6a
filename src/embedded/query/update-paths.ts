// Resolves update paths: positional `$`, `$[]`, `$[id]` with arrayFilters, and navigation that creates parents.
import { MongoCommandError } from '../errors.js';
import { bsonTypeName, isPlainDocument } from './bson-type-name.js';
import { compileFilter } from './compile-filter.js';
import type { Document } from './document.js';
import { compileFieldCondition } from './field-condition.js';
import type { Predicate } from './field-condition.js';

const INDEX = /^\d+$/;
const IDENTIFIER = /^\$\[([^\]]*)\]$/;

export function isIndex(part: string): boolean {
  return INDEX.test(part);
}

/** Per-identifier element predicates compiled from the update's arrayFilters. */
export class ArrayFilters {
  private readonly predicates = new Map<string, Predicate>();
  private readonly used = new Set<string>();

  constructor(filters: Document[] | undefined) {
    for (const filter of filters ?? []) {
      if (!isPlainDocument(filter))
        throw new MongoCommandError('FailedToParse', 'arrayFilters entries must be objects');
      const identifiers = new Set(
        Object.keys(filter)
          .filter((key) => !key.startsWith('$'))
          .map((key) => key.split('.')[0]),
      );
      if (identifiers.size !== 1) {
        throw new MongoCommandError(
          'FailedToParse',
          'Each array filter must use a single top-level field name',
        );
      }
      const identifier = [...identifiers][0] as string;
      if (this.predicates.has(identifier)) {
        throw new MongoCommandError(
          'FailedToParse',
          `Found multiple array filters with the same top-level field name ${identifier}`,
        );
      }
      // An element is tested as {<id>: element}, so the filter keeps its own syntax ('x.a', $or, ...).
      const matcher = compileFilter(filter);
      this.predicates.set(identifier, (element) => matcher({ [identifier]: element }));
    }
  }

  predicate(identifier: string, path: string): Predicate {
    const predicate = this.predicates.get(identifier);
    if (predicate === undefined) {
      throw new MongoCommandError(
        'BadValue',
        `No array filter found for identifier '${identifier}' in path '${path}'`,
      );
    }
    this.used.add(identifier);
    return predicate;
  }

  assertAllUsed(): void {
    for (const identifier of this.predicates.keys()) {
      if (!this.used.has(identifier)) {
        throw new MongoCommandError(
          'FailedToParse',
          `The array filter for identifier '${identifier}' was not used in the update`,
        );
      }
    }
  }
}

/** Validates the `$[id]` identifiers of a path, registering their use (unused filters are an error). */
export function checkIdentifiers(path: string, arrayFilters: ArrayFilters): void {
  for (const part of path.split('.')) {
    const match = IDENTIFIER.exec(part);
    if (match && match[1] !== '') arrayFilters.predicate(match[1] as string, path);
  }
}

function collectClauses(filter: Document, into: [string, unknown][]): void {
  for (const key of Object.keys(filter)) {
    if (key === '$and' && Array.isArray(filter.$and)) {
      for (const clause of filter.$and) if (isPlainDocument(clause)) collectClauses(clause, into);
    } else if (!key.startsWith('$')) into.push([key, filter[key]]);
  }
}

/** Tests one array element against the query's conditions on that array (what `$` refers to). */
function elementPredicate(arrayPath: string, key: string, condition: unknown): Predicate {
  if (key === arrayPath) {
    if (isPlainDocument(condition) && '$elemMatch' in condition && Object.keys(condition).length === 1) {
      const inner = condition.$elemMatch;
      if (
        isPlainDocument(inner) &&
        Object.keys(inner).every((k) => k.startsWith('$') && !['$and', '$or', '$nor'].includes(k))
      ) {
        return compileFieldCondition('', inner, (nested) => compileFilter(nested) as Predicate);
      }
      const matcher = compileFilter(isPlainDocument(inner) ? inner : {});
      return (element) => isPlainDocument(element) && matcher(element);
    }
    return compileFieldCondition('', condition, (nested) => compileFilter(nested) as Predicate);
  }
  const rest = key.slice(arrayPath.length + 1);
  return compileFieldCondition(rest, condition, (nested) => compileFilter(nested) as Predicate);
}

/** The index of the first element of the array at `arrayPath` that the update's query matched. */
export function positionalIndex(array: unknown[], arrayPath: string, query: Document | undefined): number {
  const clauses: [string, unknown][] = [];
  if (query !== undefined) collectClauses(query, clauses);
  const relevant = clauses.filter(([key]) => key === arrayPath || key.startsWith(arrayPath + '.'));
  if (relevant.length > 0) {
    const predicates = relevant.map(([key, condition]) => elementPredicate(arrayPath, key, condition));
    const index = array.findIndex((element) => predicates.every((predicate) => predicate(element)));
    if (index >= 0) return index;
  }
  throw new MongoCommandError(
    'BadValue',
    'The positional operator did not find the match needed from the query.',
  );
}

export interface ExpandContext {
  arrayFilters: ArrayFilters;
  query: Document | undefined;
}

function valueAt(doc: Document, parts: readonly (string | number)[]): unknown {
  let current: unknown = doc;
  for (const part of parts) {
    if (Array.isArray(current)) current = current[Number(part)];
    else if (isPlainDocument(current)) current = current[String(part)];
    else return undefined;
  }
  return current;
}

/** Expands a path with positional parts into the concrete paths it designates in `doc`. */
export function expandPath(doc: Document, path: string, context: ExpandContext): string[][] {
  const parts = path.split('.');
  if (!parts.some((part) => part.startsWith('$'))) return [parts];
  let results: string[][] = [[]];
  for (const part of parts) {
    const positional = part === '$' || IDENTIFIER.test(part);
    if (!positional) {
      for (const result of results) result.push(part);
      continue;
    }
    const next: string[][] = [];
    for (const prefix of results) {
      const array = valueAt(doc, prefix);
      if (!Array.isArray(array)) {
        if (array === undefined && part !== '$') continue;
        throw new MongoCommandError(
          'BadValue',
          part === '$'
            ? 'The positional operator did not find the match needed from the query.'
            : `The path '${prefix.join('.')}' must exist in the document in order to apply array updates.`,
        );
      }
      if (part === '$') {
        next.push([...prefix, String(positionalIndex(array, prefix.join('.'), context.query))]);
      } else if (part === '$[]') {
        array.forEach((_, index) => next.push([...prefix, String(index)]));
      } else {
        const identifier = (IDENTIFIER.exec(part) as RegExpExecArray)[1] as string;
        const predicate = context.arrayFilters.predicate(identifier, path);
        array.forEach((element, index) => {
          if (predicate(element)) next.push([...prefix, String(index)]);
        });
      }
    }
    results = next;
  }
  return results;
}

export interface Slot {
  container: Document | unknown[];
  key: string;
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return bsonTypeName(value);
  }
}

/**
 * The container holding the last part of `parts`, creating missing intermediate documents when `create`;
 * undefined when a parent is missing and `create` is false.
 */
export function resolveSlot(doc: Document, parts: readonly string[], create: boolean): Slot | undefined {
  let current: Document | unknown[] = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    let next: unknown;
    if (Array.isArray(current)) {
      if (!isIndex(part)) {
        if (!create) return undefined;
        throw new MongoCommandError(
          'PathNotViable',
          `Cannot create field '${part}' in element {${parts.slice(0, i).join('.')}: ${describe(current)}}`,
        );
      }
      next = current[Number(part)];
    } else {
      next = current[part];
    }
    if (next === undefined || next === null) {
      if (!create) return undefined;
      if (next === null) {
        throw new MongoCommandError(
          'PathNotViable',
          `Cannot create field '${parts[i + 1] ?? ''}' in element {${part}: null}`,
        );
      }
      const created: Document = {};
      setSlot({ container: current, key: part }, created);
      next = created;
    } else if (!Array.isArray(next) && !isPlainDocument(next)) {
      if (!create) return undefined;
      throw new MongoCommandError(
        'PathNotViable',
        `Cannot create field '${parts[i + 1] ?? ''}' in element {${part}: ${describe(next)}}`,
      );
    }
    current = next as Document | unknown[];
  }
  const key = parts[parts.length - 1] as string;
  if (Array.isArray(current) && !isIndex(key)) {
    if (!create) return undefined;
    throw new MongoCommandError(
      'PathNotViable',
      `Cannot create field '${key}' in element {${parts.slice(0, -1).join('.')}: ${describe(current)}}`,
    );
  }
  return { container: current, key };
}

export function getSlot(slot: Slot): unknown {
  return Array.isArray(slot.container) ? slot.container[Number(slot.key)] : slot.container[slot.key];
}

/** Writes into a slot; writing past the end of an array pads it with nulls, as MongoDB does. */
export function setSlot(slot: Slot, value: unknown): void {
  if (Array.isArray(slot.container)) {
    const index = Number(slot.key);
    while (slot.container.length < index) slot.container.push(null);
    slot.container[index] = value;
  } else {
    slot.container[slot.key] = value;
  }
}

/** Removes a field; in an array the element becomes null so later indexes keep their positions. */
export function unsetSlot(slot: Slot): void {
  if (Array.isArray(slot.container)) {
    const index = Number(slot.key);
    if (index < slot.container.length) slot.container[index] = null;
  } else {
    delete slot.container[slot.key];
  }
}
