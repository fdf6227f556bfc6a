// Applies an update (operator document, replacement document or pipeline) to a copy of a document.
import { MongoCommandError } from '../errors.js';
import { isPlainDocument } from './bson-type-name.js';
import { cloneDocument } from './clone-document.js';
import { valuesEqual } from './compare-values.js';
import type { Document } from './document.js';
import { runPipeline } from './run-pipeline.js';
import { describeUpdate, sameValue } from './update-description.js';
import type { UpdateDescription } from './update-description.js';
import { FIELD_OPERATORS } from './update-operators.js';
import type { OperatorContext } from './update-operators.js';
import { ArrayFilters, checkIdentifiers, expandPath, isIndex } from './update-paths.js';

export type { UpdateDescription } from './update-description.js';

export interface ApplyUpdateOptions {
  arrayFilters?: Document[];
  /** True when the update runs on an upsert's seed document: $setOnInsert applies only then. */
  isUpsertInsert?: boolean;
  /** The filter that selected the document; the positional `$` operator refers to what it matched. */
  query?: Document;
  /** Values for `$$name` variables in a pipeline update (the command's `let`). */
  variables?: Document;
}

export interface UpdateOutcome {
  document: Document;
  /** False when the update left the document identical (MongoDB's nModified does not count it). */
  modified: boolean;
  /** What changed, as change streams describe it; computed on first read. */
  readonly updateDescription: UpdateDescription;
}

const PIPELINE_UPDATE_STAGES = new Set([
  '$addFields',
  '$set',
  '$project',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
]);

const failedToParse = (message: string): MongoCommandError => new MongoCommandError('FailedToParse', message);

interface PathUpdate {
  operator: string;
  path: string;
  argument: unknown;
  /** `path` split on dots, once: sorting, conflict checks and navigation all need the parts. */
  parts: string[];
}

/** MongoDB applies field updates in path order: numeric parts numerically, others lexicographically. */
function comparePaths(partsA: readonly string[], partsB: readonly string[]): number {
  const common = Math.min(partsA.length, partsB.length);
  for (let i = 0; i < common; i++) {
    const x = partsA[i] as string;
    const y = partsB[i] as string;
    if (x === y) continue;
    if (isIndex(x) && isIndex(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return partsA.length - partsB.length;
}

function validatePath(operator: string, path: string, parts: readonly string[]): void {
  if (parts.includes('')) {
    throw new MongoCommandError(
      'BadValue',
      `An update path cannot be empty or contain an empty field name: '${path}' (${operator})`,
    );
  }
  const first = parts[0] as string;
  if (first.startsWith('$')) {
    throw new MongoCommandError(
      'BadValue',
      `The dollar ($) prefixed field '${first}' in '${path}' is not valid for storage.`,
    );
  }
}

/** Flattens the operator document into (operator, path, argument) entries and checks paths do not overlap. */
function parseOperatorUpdate(update: Document): PathUpdate[] {
  const entries: PathUpdate[] = [];
  for (const operator of Object.keys(update)) {
    if (!operator.startsWith('$')) {
      throw failedToParse(
        `Unknown modifier: ${operator}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    if (!(operator in FIELD_OPERATORS)) {
      throw failedToParse(
        `Unknown modifier: ${operator}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    const fields = update[operator];
    if (!isPlainDocument(fields)) {
      throw failedToParse(
        `Modifiers operate on fields but we found type ${typeof fields} instead. For example: {$mod: {<field>: ...}} not {${operator}: ${String(fields)}}`,
      );
    }
    for (const path of Object.keys(fields)) {
      const parts = path.split('.');
      validatePath(operator, path, parts);
      entries.push({ operator, path, argument: fields[path], parts });
      if (operator === '$rename') {
        const target = fields[path];
        if (typeof target !== 'string') {
          throw new MongoCommandError(
            'BadValue',
            `The 'to' field for $rename must be a string: ${path}: ${String(target)}`,
          );
        }
        if (target === path) {
          throw new MongoCommandError(
            'BadValue',
            `The source and target field for $rename must differ: ${path}: "${target}"`,
          );
        }
        if (path.includes('$') || target.includes('$')) {
          throw new MongoCommandError(
            'BadValue',
            'The source and target field for $rename cannot contain positional operators',
          );
        }
        const targetParts = target.split('.');
        validatePath(operator, target, targetParts);
        entries.push({ operator: '$rename-target', path: target, argument: undefined, parts: targetParts });
      }
    }
  }
  assertNoConflicts(entries);
  return entries.filter((entry) => entry.operator !== '$rename-target');
}

function assertNoConflicts(entries: PathUpdate[]): void {
  const seen = new Set<string>();
  for (const { path } of entries) {
    if (seen.has(path)) {
      throw new MongoCommandError(
        'ConflictingUpdateOperators',
        `Updating the path '${path}' would create a conflict at '${path}'`,
      );
    }
    seen.add(path);
  }
  for (const { path, parts } of entries) {
    let prefix = parts[0] as string;
    for (let i = 1; i < parts.length; i++) {
      if (seen.has(prefix)) {
        throw new MongoCommandError(
          'ConflictingUpdateOperators',
          `Updating the path '${path}' would create a conflict at '${prefix}'`,
        );
      }
      prefix += '.' + (parts[i] as string);
    }
  }
}

interface ParsedUpdate {
  entries: (PathUpdate & { positional: boolean })[];
  arrayFiltersSource: Document[] | undefined;
  arrayFilters: ArrayFilters;
}

/**
 * updateMany applies one update object to many documents in a row: parse and validate it once. Only the last one
 * is kept: a WeakMap entry for every update a client sends cost more (GC of ephemerons) than the cache saved.
 */
let lastUpdate: Document | undefined;
let lastParsed: ParsedUpdate | undefined;

function parseUpdate(update: Document, arrayFiltersSource: Document[] | undefined): ParsedUpdate {
  if (
    lastUpdate === update &&
    lastParsed !== undefined &&
    lastParsed.arrayFiltersSource === arrayFiltersSource
  )
    return lastParsed;
  // Entries are built field by field: an object spread with extra fields is a slow path in V8.
  const entries = parseOperatorUpdate(update)
    .sort((a, b) => comparePaths(a.parts, b.parts))
    .map((entry) => ({
      operator: entry.operator,
      path: entry.path,
      argument: entry.argument,
      parts: entry.parts,
      positional: entry.path.includes('$'),
    }));
  const arrayFilters = new ArrayFilters(arrayFiltersSource);
  // Only positional paths can name an identifier (`$[id]`).
  for (const entry of entries) if (entry.positional) checkIdentifiers(entry.path, arrayFilters);
  arrayFilters.assertAllUsed();
  const parsed = { entries, arrayFiltersSource, arrayFilters };
  lastUpdate = update;
  lastParsed = parsed;
  return parsed;
}

function applyOperators(doc: Document, update: Document, options: ApplyUpdateOptions): Document {
  const { entries, arrayFilters } = parseUpdate(update, options.arrayFilters);
  // Copy-on-write: stored documents are never mutated, so only the containers on the updated paths are copied
  // and the rest is shared with `doc`. Positional paths may touch any element: they get a full deep copy.
  const anyPositional = entries.some((entry) => entry.positional);
  const result = anyPositional ? cloneDocument(doc) : { ...doc };
  const copied = new Set<unknown>([result]);
  const context: OperatorContext = { documentId: doc._id, now: new Date() };
  const expandContext = { arrayFilters, query: options.query };
  for (const { operator, path, parts, positional, argument } of entries) {
    if (operator === '$setOnInsert' && options.isUpsertInsert !== true) continue;
    const apply = FIELD_OPERATORS[operator];
    if (apply === undefined) continue;
    if (!anyPositional) {
      copyAlongPath(result, parts, copied);
      if (operator === '$rename' && typeof argument === 'string')
        copyAlongPath(result, argument.split('.'), copied);
    }
    if (!positional) apply(result, parts, argument, context);
    else
      for (const concrete of expandPath(result, path, expandContext))
        apply(result, concrete, argument, context);
  }
  return result;
}

/** Replaces each array or plain document on `parts` (the leaf included) by a shallow copy, once per update. */
function copyAlongPath(root: Document, parts: readonly string[], copied: Set<unknown>): void {
  let container: Record<string, unknown> = root;
  for (const part of parts) {
    const child = container[part];
    if (typeof child !== 'object' || child === null) return;
    if (!copied.has(child)) {
      let copy: Record<string, unknown>;
      if (Array.isArray(child)) copy = child.slice() as unknown as Record<string, unknown>;
      else if (isPlainDocument(child)) copy = { ...child };
      else return; // Dates and BSON values are replaced by operators, never changed in place.
      copied.add(copy);
      container[part] = copy;
      container = copy;
    } else container = child as Record<string, unknown>;
  }
}

function applyReplacement(doc: Document, replacement: Document): Document {
  for (const key of Object.keys(replacement)) {
    if (key.startsWith('$')) {
      throw failedToParse(
        `The dollar ($) prefixed field '${key}' in '${key}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
      );
    }
  }
  const result: Document = {};
  if (doc._id !== undefined) result._id = doc._id;
  else if (replacement._id !== undefined) result._id = replacement._id;
  for (const key of Object.keys(replacement))
    if (key !== '_id') result[key] = cloneDocument(replacement[key]);
  if (replacement._id !== undefined && !valuesEqual(replacement._id, result._id)) {
    throw new MongoCommandError(
      'ImmutableField',
      "After applying the update, the (immutable) field '_id' was found to have been altered",
    );
  }
  return result;
}

function applyPipeline(doc: Document, pipeline: unknown[], variables: Document | undefined): Document {
  for (const stage of pipeline) {
    const name = isPlainDocument(stage) ? Object.keys(stage)[0] : undefined;
    if (name === undefined || !PIPELINE_UPDATE_STAGES.has(name)) {
      throw new MongoCommandError('Location40324', `Unrecognized pipeline stage name: '${String(name)}'`);
    }
  }
  const [result] = runPipeline([doc], pipeline as Document[], variables ? { variables } : {});
  if (result === undefined) throw failedToParse('The update pipeline produced no document');
  // A pipeline may drop _id ($project, $replaceWith); MongoDB keeps the original one.
  if (result._id === undefined && doc._id !== undefined) return { _id: doc._id, ...result };
  return result;
}

function computeNewDocument(
  doc: Document,
  update: Document | Document[],
  options: ApplyUpdateOptions,
): Document {
  if (Array.isArray(update)) return applyPipeline(doc, update, options.variables);
  if (!isPlainDocument(update)) throw failedToParse('Update argument must be either an object or an array');
  const keys = Object.keys(update);
  const operatorCount = keys.filter((key) => key.startsWith('$')).length;
  if (operatorCount === 0) return applyReplacement(doc, update);
  if (operatorCount !== keys.length) {
    const plain = keys.find((key) => !key.startsWith('$')) as string;
    throw failedToParse(
      `Unknown modifier: ${plain}. Expected a valid update modifier or pipeline-style update specified as an array`,
    );
  }
  return applyOperators(doc, update, options);
}

/**
 * Applies `update` to a copy of `doc` with MongoDB's semantics and error codes; `doc` is never mutated.
 * An empty update document is a replacement that keeps only `_id`, as on a real server.
 */
export function applyUpdate(
  doc: Document,
  update: Document | Document[],
  options: ApplyUpdateOptions = {},
): UpdateOutcome {
  const document = computeNewDocument(doc, update, options);
  if (doc._id !== undefined && !sameValue(document._id, doc._id) && !valuesEqual(document._id, doc._id)) {
    throw new MongoCommandError(
      'ImmutableField',
      "Performing an update on the path '_id' would modify the immutable field '_id'",
    );
  }
  if (document._id !== undefined && Object.keys(document)[0] !== '_id') {
    const { _id, ...rest } = document;
    const reordered: Document = { _id, ...rest };
    return finish(doc, reordered);
  }
  return finish(doc, document);
}

function finish(before: Document, after: Document): UpdateOutcome {
  // Whether anything changed needs no diff: sameValue sees every change the diff would report (it compares
  // what the diff compares, shared subtrees first by reference), and also a pure reordering of fields.
  const modified = !sameValue(before, after);
  let description: UpdateDescription | undefined;
  return {
    document: after,
    modified,
    // Computed on first read and kept: most updates are never shown to a change stream.
    get updateDescription(): UpdateDescription {
      description ??= describeUpdate(before, after);
      return description;
    },
  };
}
