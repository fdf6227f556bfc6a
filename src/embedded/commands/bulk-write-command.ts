// MongoDB 8.0's `bulkWrite` admin command: inserts, updates and deletes on any namespaces in one round trip, with a
// result per operation (what `MongoClient.bulkWrite` sends). The per-operation results are returned in the first
// batch of an exhausted cursor, as mongod does when they fit in one reply.
import { Long, type Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import type { Namespace } from '../storage/oplog-entry.js';
import { optionalArray, type CommandHandlerFn } from './command-context.js';
import { validationPolicyOf } from './document-validation.js';
import { queryOptionsOf } from './query-options.js';
import { assertWritable } from './readable-documents.js';
import { applyUpdateStatement, deleteStatement, insertStatement, toWriteError } from './write-commands.js';

interface Counts {
  nErrors: number;
  nInserted: number;
  nMatched: number;
  nModified: number;
  nUpserted: number;
  nDeleted: number;
}

const OPERATION_KINDS = ['insert', 'update', 'delete'] as const;
type OperationKind = (typeof OPERATION_KINDS)[number];
/** Fields each kind of operation must carry (an update pipeline is an array). */
const REQUIRED_FIELDS: Record<OperationKind, readonly string[]> = {
  insert: ['document'],
  update: ['filter', 'updateMods'],
  delete: ['filter'],
};

/** `nsInfo[i].ns` is `db.collection`; the collection part may itself contain dots. */
function parseNamespace(entry: unknown): Namespace {
  const ns: unknown = (entry as Document | null)?.ns;
  const dot = typeof ns === 'string' ? ns.indexOf('.') : -1;
  if (typeof ns !== 'string' || dot <= 0 || dot === ns.length - 1) {
    throw new MongoCommandError('InvalidNamespace', `Invalid namespace specified '${String(ns)}'`);
  }
  return { db: ns.slice(0, dot), coll: ns.slice(dot + 1) };
}

interface ParsedOperation {
  kind: OperationKind;
  ns: Namespace;
  op: Document;
}

/**
 * Checks an `ops` entry before anything is written, as mongod parses the whole request first: an entry that is
 * no insert, update or delete, points past `nsInfo` or lacks a required field fails the command rather than that
 * one operation.
 */
function parseOperation(raw: unknown, index: number, namespaces: readonly Namespace[]): ParsedOperation {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MongoCommandError(
      'TypeMismatch',
      `BSON field 'bulkWrite.ops.${index}' is the wrong type, expected type 'object'`,
    );
  }
  const op = raw as Document;
  const kind = OPERATION_KINDS.find((name) => name in op);
  if (!kind) {
    throw new MongoCommandError(
      'Location40415',
      `BSON field 'bulkWrite.ops.${Object.keys(op)[0] ?? ''}' is an unknown field.`,
    );
  }
  const nsIndex: unknown = op[kind];
  if (typeof nsIndex !== 'number' || !Number.isInteger(nsIndex)) {
    throw new MongoCommandError(
      'TypeMismatch',
      `BSON field 'bulkWrite.ops.${kind}' is the wrong type, expected type 'int'`,
    );
  }
  const ns = namespaces[nsIndex];
  if (!ns) {
    throw new MongoCommandError(
      'BadValue',
      `BulkWrite ops entry ${index} (${kind}: ${nsIndex}) has an invalid nsInfo index.`,
    );
  }
  for (const field of REQUIRED_FIELDS[kind]) {
    const value: unknown = op[field];
    if (value === null || typeof value !== 'object' || (Array.isArray(value) && field !== 'updateMods')) {
      throw new MongoCommandError(
        'Location40414',
        `BSON field 'bulkWrite.ops.${field}' is missing but a required field`,
      );
    }
  }
  return { kind, ns, op };
}

export const bulkWrite: CommandHandlerFn = (context) => {
  if (context.db !== 'admin') {
    throw new MongoCommandError('Unauthorized', 'bulkWrite may only be run against the admin database.');
  }
  const command = context.command;
  const ops = optionalArray(command, 'ops');
  const nsInfo = optionalArray(command, 'nsInfo');
  if (!ops || !nsInfo) {
    throw new MongoCommandError('FailedToParse', "BSON fields 'ops' and 'nsInfo' are required");
  }
  const namespaces = nsInfo.map(parseNamespace);
  const operations = ops.map((op, index) => parseOperation(op, index, namespaces));
  const ordered = command.ordered !== false;
  const errorsOnly = command.errorsOnly === true;
  const validation = validationPolicyOf(context);
  const counts: Counts = { nErrors: 0, nInserted: 0, nMatched: 0, nModified: 0, nUpserted: 0, nDeleted: 0 };
  const results: Document[] = [];
  const engine = context.engine;
  engine.write(() => {
    for (const [idx, { kind, ns, op }] of operations.entries()) {
      try {
        assertWritable(engine, ns);
        const result = runOperation(kind, op, ns);
        if (!errorsOnly) results.push({ ok: 1, idx, ...result });
      } catch (error) {
        const { index: _index, code, errmsg, ...extra } = toWriteError(idx, error);
        counts.nErrors += 1;
        // mongod's reply item always carries `n` (0 on error), and `nModified` for updates.
        results.push({
          ok: 0,
          idx,
          code,
          errmsg,
          ...extra,
          n: 0,
          ...(kind === 'update' ? { nModified: 0 } : {}),
        });
        if (ordered) break;
      }
    }
  }, context.session);

  function runOperation(kind: OperationKind, op: Document, ns: Namespace): Document {
    if (kind === 'insert') {
      insertStatement(engine, engine.ensureCollection(ns), op.document as Document, validation);
      counts.nInserted += 1;
      return { n: 1 };
    }
    const filter = op.filter as Document;
    const options = queryOptionsOf(command, op);
    if (kind === 'delete') {
      const collection = engine.getCollection(ns);
      const n = deleteStatement(engine, collection, filter, op.multi === true, options, op.hint);
      counts.nDeleted += n;
      return { n };
    }
    const result = applyUpdateStatement(engine, ns, {
      q: filter,
      u: op.updateMods as Document | Document[],
      upsert: op.upsert === true,
      multi: op.multi === true,
      arrayFilters: op.arrayFilters as Document[] | undefined,
      ...(op.sort ? { sort: op.sort as Document } : {}),
      hint: op.hint,
      options,
      validation,
    });
    counts.nMatched += result.matched;
    counts.nModified += result.modified;
    if (result.upsertedId === undefined) return { n: result.matched, nModified: result.modified };
    counts.nUpserted += 1;
    return { n: 1, nModified: 0, upserted: { _id: result.upsertedId } };
  }

  return {
    cursor: { id: Long.ZERO, firstBatch: results, ns: 'admin.$cmd.bulkWrite' },
    ...counts,
  };
};
