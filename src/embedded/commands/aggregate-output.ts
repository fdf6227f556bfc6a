// The output stages of an aggregate: $out replaces a collection with the result, $merge folds it into one.
import { ObjectId, type Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import {
  applyUpdate,
  compileFilter,
  evaluateLetVariables,
  isPlainDocument,
  type QueryOptions,
} from '../query/index.js';
import type { Collection } from '../storage/collection.js';
import { DuplicateKeyError } from '../storage/collection-index.js';
import type { Namespace } from '../storage/oplog-entry.js';
import type { CommandContext } from './command-context.js';
import { validateDocument, validationPolicyOf, type ValidationPolicy } from './document-validation.js';
import { assertWritable } from './readable-documents.js';
import { withIdFirst } from './write-commands.js';

type WhenMatched = 'replace' | 'keepExisting' | 'merge' | 'fail' | Document[];
type WhenNotMatched = 'insert' | 'discard' | 'fail';

export type OutputStage =
  | { kind: '$out'; ns: Namespace }
  | {
      kind: '$merge';
      ns: Namespace;
      on: string[];
      whenMatched: WhenMatched;
      whenNotMatched: WhenNotMatched;
      let?: Document;
    };

function targetNamespace(context: CommandContext, spec: unknown, stage: string): Namespace {
  if (typeof spec === 'string') return { db: context.db, coll: spec };
  if (isPlainDocument(spec) && typeof spec.coll === 'string') {
    return { db: typeof spec.db === 'string' ? spec.db : context.db, coll: spec.coll };
  }
  throw new MongoCommandError('FailedToParse', `${stage} needs a collection name or {db, coll}`);
}

function parseMerge(context: CommandContext, spec: unknown): OutputStage {
  if (typeof spec === 'string') {
    return {
      kind: '$merge',
      ns: targetNamespace(context, spec, '$merge'),
      on: ['_id'],
      whenMatched: 'merge',
      whenNotMatched: 'insert',
    };
  }
  if (!isPlainDocument(spec))
    throw new MongoCommandError('FailedToParse', '$merge needs a string or an object');
  const rawOn: unknown = spec.on ?? '_id';
  const onFields: unknown[] = Array.isArray(rawOn) ? rawOn : [rawOn];
  if (onFields.length === 0 || !onFields.every((field): field is string => typeof field === 'string')) {
    throw new MongoCommandError(
      'FailedToParse',
      "$merge 'on' must be a field name or an array of field names",
    );
  }
  const on = onFields;
  const whenMatched = (spec.whenMatched ?? 'merge') as unknown;
  if (
    !Array.isArray(whenMatched) &&
    !['replace', 'keepExisting', 'merge', 'fail'].includes(String(whenMatched))
  ) {
    throw new MongoCommandError(
      'BadValue',
      `Enumeration value '${String(whenMatched)}' for field 'whenMatched' is not a valid value.`,
    );
  }
  const whenNotMatched = (spec.whenNotMatched ?? 'insert') as unknown;
  if (!['insert', 'discard', 'fail'].includes(String(whenNotMatched))) {
    throw new MongoCommandError(
      'BadValue',
      `Enumeration value '${String(whenNotMatched)}' for field 'whenNotMatched' is not a valid value.`,
    );
  }
  return {
    kind: '$merge',
    ns: targetNamespace(context, spec.into, '$merge'),
    on,
    whenMatched: whenMatched as WhenMatched,
    whenNotMatched: whenNotMatched as WhenNotMatched,
    ...(isPlainDocument(spec.let) ? { let: spec.let } : {}),
  };
}

/** The pipeline's $out or $merge (which must be its last stage), or undefined for a plain read. */
export function parseOutputStage(context: CommandContext, pipeline: Document[]): OutputStage | undefined {
  const last = pipeline[pipeline.length - 1];
  if (!last || !('$out' in last || '$merge' in last)) return undefined;
  const readConcern = context.command.readConcern as Document | undefined;
  if (readConcern?.level === 'linearizable') {
    throw new MongoCommandError(
      'InvalidOptions',
      "{aggregate} with $out or $merge cannot use readConcern level 'linearizable'",
    );
  }
  return '$out' in last
    ? { kind: '$out', ns: targetNamespace(context, last.$out, '$out') }
    : parseMerge(context, last.$merge);
}

/** Runs the output stage inside one write batch. */
export function writeOutput(
  context: CommandContext,
  stage: OutputStage,
  documents: Document[],
  options: QueryOptions,
): void {
  const { engine } = context;
  assertWritable(engine, stage.ns);
  const validation = validationPolicyOf(context);
  const batch = (): void => {
    const target = engine.ensureCollection(stage.ns);
    if (stage.kind === '$out') {
      // $out replaces the whole collection, keeping its options and indexes, as MongoDB's rename-over does.
      for (const doc of [...target.documents.values()]) engine.deleteDocument(target, doc);
      for (const doc of documents) engine.insertDocument(target, withIdFirst(doc));
      return;
    }
    for (const doc of documents) mergeOne(context, target, stage, doc, options, validation);
  };
  // A document held by an open transaction stops the batch (lock-waits.ts): undone whole, it runs again later.
  if (engine.documentLocks.size > 0 && !context.transaction) engine.writeAtomically(batch, {});
  else engine.write(batch, context.session);
}

function findMergeTarget(target: Collection, on: string[], doc: Document): Document | undefined {
  if (on.length === 1 && on[0] === '_id') return target.findById(doc._id);
  const filter: Document = {};
  for (const field of on) filter[field] = { $eq: (doc[field] as unknown) ?? null };
  const matcher = compileFilter(filter);
  for (const candidate of target.candidates(filter)) if (matcher(candidate)) return candidate;
  return undefined;
}

function mergeOne(
  context: CommandContext,
  target: Collection,
  stage: Extract<OutputStage, { kind: '$merge' }>,
  source: Document,
  options: QueryOptions,
  validation: ValidationPolicy,
): void {
  const { engine } = context;
  const doc =
    source._id === undefined && stage.on.includes('_id') ? { _id: new ObjectId(), ...source } : source;
  const existing = findMergeTarget(target, stage.on, doc);
  if (existing === undefined) {
    if (stage.whenNotMatched === 'discard') return;
    if (stage.whenNotMatched === 'fail') {
      throw new MongoCommandError(
        'MergeStageNoMatchingDocument',
        '$merge could not find a matching document in the target collection for at least one document in the source collection',
      );
    }
    const inserted = withIdFirst(doc);
    validateDocument(target, inserted, undefined, validation);
    engine.insertDocument(target, inserted);
    return;
  }
  let update: Document | Document[];
  let variables = options.variables;
  switch (stage.whenMatched) {
    case 'keepExisting':
      return;
    case 'fail': {
      const keyPattern = Object.fromEntries(stage.on.map((field) => [field, 1]));
      const keyValue = Object.fromEntries(stage.on.map((field) => [field, doc[field] as unknown]));
      const index =
        stage.on.length === 1 && stage.on[0] === '_id'
          ? '_id_'
          : stage.on.map((field) => `${field}_1`).join('_');
      throw new DuplicateKeyError(target.fullName, index, keyPattern, keyValue);
    }
    case 'replace':
      update = { ...doc, _id: existing._id as unknown };
      break;
    case 'merge': {
      // Top-level fields of the result overwrite the target's; the target keeps its own _id.
      update = { ...existing, ...doc, _id: existing._id as unknown };
      break;
    }
    default:
      update = stage.whenMatched;
      variables = evaluateLetVariables(stage.let ?? { new: '$$ROOT' }, options.variables, doc);
  }
  const outcome = applyUpdate(existing, update, variables ? { variables } : {});
  if (!outcome.modified) return;
  validateDocument(target, outcome.document, existing, validation);
  engine.replaceDocument(target, existing, outcome.document, () => outcome.updateDescription);
}
