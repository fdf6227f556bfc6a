// insert, update, delete and findAndModify. Per-statement failures become writeErrors, as MongoDB reports them.
import { ObjectId, type Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import {
  applyProjection,
  applyUpdate,
  compileFilter,
  compileSort,
  upsertSeed,
  type QueryOptions,
} from '../query/index.js';
import { assertValidId, type Collection } from '../storage/collection.js';
import { DocumentLockedError } from '../storage/document-locks.js';
import type { Engine } from '../storage/engine.js';
import type { Namespace } from '../storage/oplog-entry.js';
import {
  collectionName,
  commandNumber,
  optionalArray,
  optionalDocument,
  type CommandContext,
  type CommandHandlerFn,
} from './command-context.js';
import { validateDocument, validationPolicyOf, type ValidationPolicy } from './document-validation.js';
import { candidateDocuments, queryOptionsOf } from './query-options.js';
import { resolveHint } from './index-hint.js';
import { assertWritable } from './readable-documents.js';

interface WriteError {
  index: number;
  code: number;
  errmsg: string;
  [field: string]: unknown;
}

/**
 * A statement's failure as a writeError. An error carrying labels (a transaction's WriteConflict) fails the whole
 * command instead, as in mongod, so its TransientTransactionError label reaches the driver; so does a document
 * locked by a transaction, which the command waits for (lock-waits.ts).
 */
export function toWriteError(index: number, error: unknown): WriteError {
  if (error instanceof DocumentLockedError) throw error;
  if (error instanceof MongoCommandError) {
    if (error.labels.length > 0) throw error;
    return { index, code: error.code, errmsg: error.message, ...error.extra };
  }
  return { index, code: 1, errmsg: error instanceof Error ? error.message : String(error) };
}

/** Puts `_id` first (generating an ObjectId when missing), as MongoDB stores documents. */
export function withIdFirst(doc: Document): Document {
  const keys = Object.keys(doc);
  if (keys[0] === '_id') {
    assertValidId(doc._id);
    return doc;
  }
  const id: unknown = '_id' in doc ? doc._id : new ObjectId();
  assertValidId(id);
  const ordered: Document = { _id: id };
  for (const key of keys) if (key !== '_id') ordered[key] = doc[key] as unknown;
  return ordered;
}

function isReplacement(update: unknown): update is Document {
  if (update === null || typeof update !== 'object' || Array.isArray(update)) return false;
  const keys = Object.keys(update);
  return keys.length === 0 || !keys[0]!.startsWith('$');
}

function findMatches(
  collection: Collection | undefined,
  filter: Document,
  multi: boolean,
  options: QueryOptions,
  sort?: Document,
  hint?: unknown,
): Document[] {
  const matcher = compileFilter(filter, options);
  resolveHint(collection, hint);
  if (!collection) return [];
  const matches: Document[] = [];
  for (const doc of candidateDocuments(collection, filter, options)) {
    if (!matcher(doc)) continue;
    matches.push(doc);
    if (!multi && !sort) break;
  }
  if (sort && matches.length > 1) matches.sort(compileSort(sort, options.collation));
  return multi ? matches : matches.slice(0, 1);
}

interface UpdateStatement {
  q: Document;
  u: Document | Document[];
  upsert: boolean;
  multi: boolean;
  arrayFilters?: Document[];
  sort?: Document;
  /** The statement's hint: one naming no index fails the statement (BadValue), as in mongod. */
  hint?: unknown;
  options: QueryOptions;
  validation: ValidationPolicy;
}

interface UpdateResult {
  matched: number;
  modified: number;
  upsertedId?: unknown;
  /** The document before (or, with returnNew, after) the change; for findAndModify. */
  before?: Document;
  after?: Document;
}

/** Applies one update statement inside the caller's Engine.write(). */
export function applyUpdateStatement(
  engine: Engine,
  ns: Namespace,
  statement: UpdateStatement,
): UpdateResult {
  const replacement = isReplacement(statement.u);
  if (replacement && statement.multi) {
    throw new MongoCommandError(
      'FailedToParse',
      'multi update is not supported for replacement-style update',
    );
  }
  const collection = engine.getCollection(ns);
  const matches = findMatches(
    collection,
    statement.q,
    statement.multi,
    statement.options,
    statement.sort,
    statement.hint,
  );
  if (matches.length > 0 && collection) {
    let modified = 0;
    let last: { before: Document; after: Document } | undefined;
    for (const doc of matches) {
      const outcome = applyUpdate(doc, statement.u, {
        arrayFilters: statement.arrayFilters,
        query: statement.q,
        variables: statement.options.variables,
      });
      last = { before: doc, after: outcome.modified ? outcome.document : doc };
      if (!outcome.modified) continue;
      validateDocument(collection, outcome.document, doc, statement.validation);
      engine.replaceDocument(
        collection,
        doc,
        outcome.document,
        replacement ? null : () => outcome.updateDescription,
      );
      modified += 1;
    }
    return { matched: matches.length, modified, ...(last ?? {}) };
  }
  if (!statement.upsert) return { matched: 0, modified: 0 };
  const seed = replacement ? {} : upsertSeed(statement.q);
  if (replacement) {
    const id = upsertSeed(statement.q)._id;
    if (id !== undefined) seed._id = id;
  }
  const outcome = applyUpdate(seed, statement.u, {
    arrayFilters: statement.arrayFilters,
    isUpsertInsert: true,
    query: statement.q,
    variables: statement.options.variables,
  });
  const doc = withIdFirst(outcome.document);
  const target = engine.ensureCollection(ns);
  validateDocument(target, doc, undefined, statement.validation);
  engine.insertDocument(target, doc);
  return { matched: 0, modified: 0, upsertedId: doc._id, after: doc };
}

function statementsOf(command: Document, field: string): Document[] {
  const statements = optionalArray(command, field);
  if (!statements)
    throw new MongoCommandError('FailedToParse', `BSON field '${field}' is missing but a required field`);
  return statements;
}

/** Inserts one document (`_id` first, generated when missing) inside the caller's Engine.write(). */
export function insertStatement(
  engine: Engine,
  collection: Collection,
  raw: Document,
  validation: ValidationPolicy,
): void {
  const doc = withIdFirst(raw);
  validateDocument(collection, doc, undefined, validation);
  engine.insertDocument(collection, doc);
}

/**
 * Deletes what `filter` matches (the first match only unless `multi`) inside the caller's Engine.write(); returns
 * how many documents it deleted.
 */
export function deleteStatement(
  engine: Engine,
  collection: Collection | undefined,
  filter: Document,
  multi: boolean,
  options: QueryOptions,
  hint?: unknown,
): number {
  const matches = findMatches(collection, filter, multi, options, undefined, hint);
  for (const doc of matches) engine.deleteDocument(collection!, doc);
  return matches.length;
}

const insert: CommandHandlerFn = (context) => {
  const ns = { db: context.db, coll: collectionName(context) };
  const documents = statementsOf(context.command, 'documents');
  const ordered = context.command.ordered !== false;
  const validation = validationPolicyOf(context);
  assertWritable(context.engine, ns);
  const writeErrors: WriteError[] = [];
  let n = 0;
  context.engine.write(() => {
    const collection = context.engine.ensureCollection(ns);
    for (const [index, raw] of documents.entries()) {
      try {
        insertStatement(context.engine, collection, raw, validation);
        n += 1;
      } catch (error) {
        writeErrors.push(toWriteError(index, error));
        if (ordered) break;
      }
    }
  }, context.session);
  return writeErrors.length > 0 ? { n, writeErrors } : { n };
};

/**
 * An update statement's `sort` (8.0) picks which match a single update changes; mongod refuses the whole command
 * when a statement combines it with `multi: true`.
 */
function checkStatementSorts(statements: Document[]): void {
  for (const statement of statements) {
    if (statement.sort === undefined) continue;
    optionalDocument(statement, 'sort');
    if (statement.multi === true) {
      throw new MongoCommandError('FailedToParse', 'Cannot specify sort with multi=true');
    }
  }
}

const update: CommandHandlerFn = (context) => {
  const ns = { db: context.db, coll: collectionName(context) };
  const statements = statementsOf(context.command, 'updates');
  // MongoDB 7.0 has no per-statement sort; 8.0 added it.
  if (context.server.release === '7.0' && statements.some((statement) => statement.sort !== undefined)) {
    throw new MongoCommandError('Location40415', "BSON field 'update.updates.sort' is an unknown field.");
  }
  checkStatementSorts(statements);
  assertWritable(context.engine, ns);
  const validation = validationPolicyOf(context);
  const ordered = context.command.ordered !== false;
  const writeErrors: WriteError[] = [];
  const upserted: { index: number; _id: unknown }[] = [];
  let n = 0;
  let nModified = 0;
  context.engine.write(() => {
    for (const [index, raw] of statements.entries()) {
      try {
        const result = applyUpdateStatement(context.engine, ns, {
          q: (raw.q as Document | undefined) ?? {},
          u: raw.u as Document,
          upsert: raw.upsert === true,
          multi: raw.multi === true,
          arrayFilters: raw.arrayFilters as Document[] | undefined,
          options: queryOptionsOf(context.command, raw),
          hint: raw.hint,
          validation,
          ...(raw.sort ? { sort: raw.sort as Document } : {}),
        });
        n += result.matched;
        nModified += result.modified;
        if (result.upsertedId !== undefined) {
          n += 1;
          upserted.push({ index, _id: result.upsertedId });
        }
      } catch (error) {
        writeErrors.push(toWriteError(index, error));
        if (ordered) break;
      }
    }
  }, context.session);
  const reply: Document = { n, nModified };
  if (upserted.length > 0) reply.upserted = upserted;
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  return reply;
};

const deleteCommand: CommandHandlerFn = (context) => {
  const ns = { db: context.db, coll: collectionName(context) };
  const statements = statementsOf(context.command, 'deletes');
  assertWritable(context.engine, ns);
  const ordered = context.command.ordered !== false;
  const writeErrors: WriteError[] = [];
  let n = 0;
  context.engine.write(() => {
    const collection = context.engine.getCollection(ns);
    for (const [index, raw] of statements.entries()) {
      try {
        const limit = commandNumber(raw.limit ?? 0) ?? Number.NaN;
        if (limit !== 0 && limit !== 1)
          throw new MongoCommandError(
            'FailedToParse',
            `The limit field in delete objects must be 0 or 1. Got ${limit}`,
          );
        n += deleteStatement(
          context.engine,
          collection,
          (raw.q as Document | undefined) ?? {},
          limit === 0,
          queryOptionsOf(context.command, raw),
          raw.hint,
        );
      } catch (error) {
        writeErrors.push(toWriteError(index, error));
        if (ordered) break;
      }
    }
  }, context.session);
  return writeErrors.length > 0 ? { n, writeErrors } : { n };
};

const findAndModify: CommandHandlerFn = (context: CommandContext) => {
  const ns = { db: context.db, coll: collectionName(context) };
  const command = context.command;
  const query = optionalDocument(command, 'query') ?? {};
  const sort = optionalDocument(command, 'sort');
  const fields = optionalDocument(command, 'fields');
  const remove = command.remove === true;
  const updateSpec = command.update as Document | Document[] | undefined;
  if (remove === (updateSpec !== undefined)) {
    throw new MongoCommandError('FailedToParse', 'Either an update or remove=true must be specified');
  }
  if (remove && command.upsert === true) {
    throw new MongoCommandError('FailedToParse', 'Cannot specify both an upsert and remove=true');
  }
  const options = queryOptionsOf(command);
  assertWritable(context.engine, ns);
  const project = (doc: Document | undefined): Document | null => (doc ? applyProjection(doc, fields) : null);
  return context.engine.write(() => {
    if (remove) {
      const collection = context.engine.getCollection(ns);
      const [doc] = findMatches(collection, query, false, options, sort, command.hint);
      if (doc && collection) context.engine.deleteDocument(collection, doc);
      return { lastErrorObject: { n: doc ? 1 : 0 }, value: project(doc) };
    }
    const result = applyUpdateStatement(context.engine, ns, {
      q: query,
      u: updateSpec!,
      upsert: command.upsert === true,
      multi: false,
      arrayFilters: command.arrayFilters as Document[] | undefined,
      options,
      hint: command.hint,
      validation: validationPolicyOf(context),
      ...(sort ? { sort } : {}),
    });
    const lastErrorObject: Document = { n: result.matched > 0 || result.upsertedId !== undefined ? 1 : 0 };
    lastErrorObject.updatedExisting = result.matched > 0;
    if (result.upsertedId !== undefined) lastErrorObject.upserted = result.upsertedId;
    const value =
      command.new === true ? result.after : result.upsertedId !== undefined ? undefined : result.before;
    return { lastErrorObject, value: project(value) };
  }, context.session);
};

export const writeCommands: Record<string, CommandHandlerFn> = {
  insert,
  update,
  delete: deleteCommand,
  findAndModify,
  findandmodify: findAndModify,
};
