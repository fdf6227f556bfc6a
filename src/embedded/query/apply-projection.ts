// find() projections: inclusion or exclusion of (dotted) fields, $slice, $elemMatch, positional `.$`, and
// computed fields evaluated as aggregation expressions.
import { MongoCommandError } from '../errors.js';
import { isPlainDocument } from './bson-type-name.js';
import { numericValue } from './bson-numbers.js';
import { cloneDocument } from './clone-document.js';
import { compileFilter } from './compile-filter.js';
import type { Document } from './document.js';
import { compileFieldCondition } from './field-condition.js';
import type { Predicate } from './field-condition.js';
import { evaluateExpression } from './mingo-context.js';
import { positionalIndex } from './update-paths.js';

type Tree = Map<string, Tree | true>;

interface CompiledProjection {
  mode: 'inclusion' | 'exclusion';
  includeId: boolean;
  paths: Tree;
  computed: [string, unknown][];
  slices: [string, unknown][];
  elemMatches: [string, Predicate][];
  positional: string[];
}

const isTruthyFlag = (value: unknown): boolean | undefined => {
  if (typeof value === 'boolean') return value;
  const numeric = numericValue(value);
  return numeric === undefined ? undefined : Number(numeric) !== 0;
};

function addPath(tree: Tree, path: string): void {
  const parts = path.split('.');
  let node = tree;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    const child = node.get(part);
    if (child === true) return;
    if (child === undefined) {
      const created: Tree = new Map();
      node.set(part, created);
      node = created;
    } else node = child;
  }
  node.set(parts[parts.length - 1] as string, true);
}

function flatten(spec: Document, prefix: string, into: [string, unknown][]): void {
  for (const key of Object.keys(spec)) {
    const value = spec[key];
    const first = isPlainDocument(value) ? Object.keys(value)[0] : undefined;
    if (isPlainDocument(value) && first !== undefined && !first.startsWith('$'))
      flatten(value, prefix + key + '.', into);
    else into.push([prefix + key, value]);
  }
}

function elemMatchPredicate(condition: unknown): Predicate {
  if (!isPlainDocument(condition)) throw new MongoCommandError('BadValue', '$elemMatch needs an Object');
  const first = Object.keys(condition)[0];
  if (first?.startsWith('$') && !['$and', '$or', '$nor'].includes(first)) {
    return compileFieldCondition('', condition, (nested) => compileFilter(nested) as Predicate);
  }
  const matcher = compileFilter(condition);
  return (element) => isPlainDocument(element) && matcher(element);
}

function compileProjection(projection: Document): CompiledProjection {
  const entries: [string, unknown][] = [];
  flatten(projection, '', entries);
  const compiled: CompiledProjection = {
    mode: 'exclusion',
    includeId: true,
    paths: new Map(),
    computed: [],
    slices: [],
    elemMatches: [],
    positional: [],
  };
  let included: string | undefined;
  let excluded: string | undefined;
  for (const [path, value] of entries) {
    const flag = isTruthyFlag(value);
    if (path === '_id' && flag !== undefined) {
      compiled.includeId = flag;
      continue;
    }
    if (path.endsWith('.$')) {
      const base = path.slice(0, -2);
      compiled.positional.push(base);
      addPath(compiled.paths, base);
      included ??= path;
    } else if (flag === true) {
      addPath(compiled.paths, path);
      included ??= path;
    } else if (flag === false) {
      addPath(compiled.paths, path);
      excluded ??= path;
    } else if (isPlainDocument(value) && '$slice' in value) {
      compiled.slices.push([path, value.$slice]);
    } else if (isPlainDocument(value) && '$elemMatch' in value) {
      if (path.includes('.'))
        throw new MongoCommandError('BadValue', 'Cannot use $elemMatch projection on a nested field.');
      compiled.elemMatches.push([path, elemMatchPredicate(value.$elemMatch)]);
      included ??= path;
    } else if (isPlainDocument(value) && '$meta' in value) {
      throw new MongoCommandError(
        'BadValue',
        `$meta projection '${String(value.$meta)}' is not supported by the embedded server`,
      );
    } else {
      compiled.computed.push([path, value]);
      included ??= path;
    }
  }
  if (included !== undefined && excluded !== undefined) {
    const [code, field, mode] = projectionOrder(entries, included, excluded);
    throw new MongoCommandError(
      code,
      `Cannot do ${mode === 'inclusion' ? 'exclusion' : 'inclusion'} on field ${field} in ${mode} projection`,
    );
  }
  // `{_id: 1}` alone is an inclusion projection of `_id` only (with other fields excluded it keeps `_id`).
  const onlyIdIncluded = entries.length === 1 && entries[0]![0] === '_id' && compiled.includeId;
  if (included !== undefined || onlyIdIncluded) compiled.mode = 'inclusion';
  return compiled;
}

/** The first kind seen decides the projection's mode; the error names the first field of the other kind. */
function projectionOrder(
  entries: [string, unknown][],
  included: string,
  excluded: string,
): ['Location31254' | 'Location31253', string, string] {
  const firstIncluded = entries.findIndex(([path]) => path === included);
  const firstExcluded = entries.findIndex(([path]) => path === excluded);
  return firstIncluded < firstExcluded
    ? ['Location31254', excluded, 'inclusion']
    : ['Location31253', included, 'exclusion'];
}

function include(value: unknown, tree: Tree): unknown {
  if (Array.isArray(value)) {
    return value
      .filter((element) => isPlainDocument(element) || Array.isArray(element))
      .map((element) => include(element, tree));
  }
  if (!isPlainDocument(value)) return undefined;
  const result: Document = {};
  for (const key of Object.keys(value)) {
    const node = tree.get(key);
    if (node === undefined) continue;
    if (node === true) result[key] = cloneDocument(value[key]);
    else {
      const projected = include(value[key], node);
      if (projected !== undefined) result[key] = projected;
    }
  }
  return result;
}

function exclude(value: unknown, tree: Tree): unknown {
  if (Array.isArray(value)) return value.map((element) => exclude(element, tree));
  if (!isPlainDocument(value)) return cloneDocument(value);
  const result: Document = {};
  for (const key of Object.keys(value)) {
    const node = tree.get(key);
    if (node === true) continue;
    result[key] = node === undefined ? cloneDocument(value[key]) : exclude(value[key], node);
  }
  return result;
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let current = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    if (!isPlainDocument(current[part])) current[part] = {};
    current = current[part] as Document;
  }
  current[parts[parts.length - 1] as string] = value;
}

function getPath(doc: Document, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) current = isPlainDocument(current) ? current[part] : undefined;
  return current;
}

function sliceArray(array: unknown[], spec: unknown): unknown[] {
  if (Array.isArray(spec)) {
    const skip = Number(numericValue(spec[0]) ?? 0);
    const limit = Number(numericValue(spec[1]) ?? 0);
    if (limit <= 0) throw new MongoCommandError('BadValue', '$slice limit must be positive');
    const start = skip < 0 ? Math.max(0, array.length + skip) : skip;
    return array.slice(start, start + limit);
  }
  const count = numericValue(spec);
  if (count === undefined)
    throw new MongoCommandError('BadValue', '$slice only supports numbers and [skip, limit] arrays');
  const n = Number(count);
  return n >= 0 ? array.slice(0, n) : array.slice(Math.max(0, array.length + n));
}

const cache = new WeakMap<Document, CompiledProjection>();

/**
 * Projects one document. `query` (the find filter) is needed only by positional `.$` projections.
 * Returns a new document; `doc` is not modified.
 */
export function applyProjection(doc: Document, projection: Document | undefined, query?: Document): Document {
  if (projection === undefined || Object.keys(projection).length === 0) return doc;
  let compiled = cache.get(projection);
  if (compiled === undefined) {
    compiled = compileProjection(projection);
    cache.set(projection, compiled);
  }
  let result: Document;
  if (compiled.mode === 'inclusion') {
    result = include(doc, compiled.paths) as Document;
    if (compiled.includeId && doc._id !== undefined) result = { _id: doc._id, ...result };
  } else {
    result = exclude(doc, compiled.paths) as Document;
    if (!compiled.includeId) delete result._id;
  }
  for (const [path, spec] of compiled.slices) {
    const value = getPath(result, path);
    if (Array.isArray(value)) setPath(result, path, sliceArray(value, spec));
  }
  for (const [path, predicate] of compiled.elemMatches) {
    const value = doc[path];
    const match: unknown = Array.isArray(value) ? value.find((element) => predicate(element)) : undefined;
    if (match === undefined) delete result[path];
    else result[path] = [cloneDocument(match)];
  }
  for (const path of compiled.positional) {
    const value = getPath(doc, path);
    if (!Array.isArray(value)) continue;
    const index = positionalIndex(value, path, query);
    setPath(result, path, [cloneDocument(value[index])]);
  }
  for (const [path, expression] of compiled.computed) {
    setPath(result, path, cloneDocument(evaluateExpression(doc, expression)));
  }
  return result;
}
