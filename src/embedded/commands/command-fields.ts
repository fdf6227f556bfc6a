// Which fields each command accepts, as mongod's IDL defines them for 8.0: a field outside the command's list and
// the generic arguments is refused with 40415 "BSON field '<command>.<field>' is an unknown field.", before the
// command runs. Accepted fields a handler does not read (readConcern, writeConcern on one node…) are ignored
// exactly where mongod's behaviour on a single-node replica set makes no observable difference.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';

/**
 * Arguments every command accepts (mongod's generic_argument.idl): API versioning, sessions and transactions,
 * gossiped cluster times, read/write concerns, maxTimeMS, comment, and the internal routing fields mongos sends.
 */
export const GENERIC_FIELDS: readonly string[] = [
  '$db',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  'maxTimeMS',
  'readConcern',
  'writeConcern',
  'lsid',
  'txnNumber',
  'txnRetryCounter',
  'autocommit',
  'startTransaction',
  'stmtId',
  'comment',
  'clientOperationKey',
  'mayBypassWriteBlocking',
  '$readPreference',
  '$clusterTime',
  '$audit',
  '$client',
  '$configServerState',
  '$configTime',
  '$topologyTime',
  '$oplogQueryData',
  '$queryOptions',
  '$replData',
  'databaseVersion',
  'shardVersion',
  'maxTimeMSOpOnly',
  'usesDefaultMaxTimeMS',
  'allowImplicitCollectionCreation',
  'versionContext',
];

/** Each strict command's own fields (its name first); the generic fields are added to every one. */
const COMMAND_FIELDS: Record<string, readonly string[]> = {
  find: [
    'find',
    'filter',
    'projection',
    'sort',
    'hint',
    'skip',
    'limit',
    'batchSize',
    'singleBatch',
    'let',
    'collation',
    'max',
    'min',
    'returnKey',
    'showRecordId',
    'tailable',
    'oplogReplay',
    'noCursorTimeout',
    'awaitData',
    'allowPartialResults',
    'allowDiskUse',
    'readOnce',
    'term',
    'rawData',
    'includeQueryStatsMetrics',
    'collectionUUID',
    'encryptionInformation',
    '$_requestResumeToken',
    '$_resumeAfter',
    '$_startAt',
  ],
  getMore: [
    'getMore',
    'collection',
    'batchSize',
    'term',
    'lastKnownCommittedOpTime',
    'includeQueryStatsMetrics',
  ],
  killCursors: ['killCursors', 'cursors'],
  count: [
    'count',
    'query',
    'limit',
    'skip',
    'hint',
    'collation',
    'fields',
    'mirrored',
    'sampleId',
    'rawData',
    'encryptionInformation',
  ],
  distinct: ['distinct', 'key', 'query', 'collation', 'hint', 'mirrored', 'sampleId', 'rawData'],
  aggregate: [
    'aggregate',
    'pipeline',
    'cursor',
    'explain',
    'allowDiskUse',
    'bypassDocumentValidation',
    'collation',
    'hint',
    'let',
    'needsMerge',
    'fromMongos',
    'fromRouter',
    'isMapReduceCommand',
    'collectionUUID',
    'exchange',
    'runtimeConstants',
    'encryptionInformation',
    'rawData',
    'includeQueryStatsMetrics',
    '$_requestReshardingResumeToken',
    '$_generateV2ResumeTokens',
  ],
  insert: [
    'insert',
    'documents',
    'ordered',
    'bypassDocumentValidation',
    'stmtIds',
    'collectionUUID',
    'isTimeseriesNamespace',
    'encryptionInformation',
    'bypassEmptyTsReplacement',
    'rawData',
  ],
  update: [
    'update',
    'updates',
    'ordered',
    'bypassDocumentValidation',
    'let',
    'stmtIds',
    'collectionUUID',
    'isTimeseriesNamespace',
    'encryptionInformation',
    'bypassEmptyTsReplacement',
    'rawData',
  ],
  delete: [
    'delete',
    'deletes',
    'ordered',
    'let',
    'stmtIds',
    'collectionUUID',
    'isTimeseriesNamespace',
    'encryptionInformation',
    'rawData',
  ],
  findAndModify: [
    'findAndModify',
    'query',
    'sort',
    'remove',
    'update',
    'new',
    'fields',
    'upsert',
    'bypassDocumentValidation',
    'collation',
    'arrayFilters',
    'hint',
    'let',
    'encryptionInformation',
    'isTimeseriesNamespace',
    'bypassEmptyTsReplacement',
    'rawData',
  ],
  bulkWrite: [
    'bulkWrite',
    'ops',
    'nsInfo',
    'cursor',
    'bypassDocumentValidation',
    'ordered',
    'errorsOnly',
    'let',
    'stmtIds',
    'bypassEmptyTsReplacement',
    'rawData',
  ],
  create: [
    'create',
    'capped',
    'autoIndexId',
    'idIndex',
    'size',
    'max',
    'storageEngine',
    'validator',
    'validationLevel',
    'validationAction',
    'indexOptionDefaults',
    'viewOn',
    'pipeline',
    'collation',
    'changeStreamPreAndPostImages',
    'timeseries',
    'clusteredIndex',
    'expireAfterSeconds',
    'encryptedFields',
    'recordIdsReplicated',
    'flags',
    'temp',
  ],
  collMod: [
    'collMod',
    'index',
    'validator',
    'validationLevel',
    'validationAction',
    'viewOn',
    'pipeline',
    'expireAfterSeconds',
    'changeStreamPreAndPostImages',
    'timeseries',
    'timeseriesBucketsMayHaveMixedSchemaData',
    'cappedSize',
    'cappedMax',
    'dryRun',
    'recordIdsReplicated',
    'collectionUUID',
    'encryptedFields',
  ],
  drop: ['drop', 'collectionUUID'],
  dropDatabase: ['dropDatabase'],
  renameCollection: [
    'renameCollection',
    'to',
    'dropTarget',
    'stayTemp',
    'collectionUUID',
    'expectedSourceUUID',
    'expectedTargetUUID',
    'newTargetCollectionUuid',
  ],
  createIndexes: [
    'createIndexes',
    'indexes',
    'commitQuorum',
    'ignoreUnknownIndexOptions',
    'isTimeseriesNamespace',
  ],
  dropIndexes: ['dropIndexes', 'index', 'collectionUUID', 'isTimeseriesNamespace'],
  listIndexes: [
    'listIndexes',
    'cursor',
    'includeBuildUUIDs',
    'includeIndexBuildInfo',
    'isTimeseriesNamespace',
    'rawData',
  ],
  listCollections: [
    'listCollections',
    'filter',
    'nameOnly',
    'authorizedCollections',
    'cursor',
    'includePendingDrops',
  ],
  listDatabases: ['listDatabases', 'filter', 'nameOnly', 'authorizedDatabases'],
  endSessions: ['endSessions'],
  // transactions_command.idl: a mongos recovery token is accepted (and has nothing to recover on one node).
  commitTransaction: ['commitTransaction', 'recoveryToken'],
  abortTransaction: ['abortTransaction', 'recoveryToken'],
  killSessions: ['killSessions'],
  refreshSessions: ['refreshSessions'],
};

/** The fields of one statement of update/delete (8.0 added `sort` to updates). */
const STATEMENT_FIELDS: Record<string, { array: string; fields: readonly string[] }> = {
  update: {
    array: 'updates',
    fields: ['q', 'u', 'c', 'upsert', 'multi', 'arrayFilters', 'collation', 'hint', 'upsertSupplied', 'sort'],
  },
  delete: { array: 'deletes', fields: ['q', 'limit', 'collation', 'hint'] },
};

/** Command-name aliases mongod accepts; errors name the canonical spelling. */
const ALIASES: Record<string, string> = { findandmodify: 'findAndModify' };

const ACCEPTED = new Map<string, ReadonlySet<string>>(
  Object.entries(COMMAND_FIELDS).map(([name, fields]) => [name, new Set([...fields, ...GENERIC_FIELDS])]),
);
const ACCEPTED_IN_STATEMENTS = new Map(
  Object.entries(STATEMENT_FIELDS).map(([name, { array, fields }]) => [
    name,
    { array, fields: new Set(fields) },
  ]),
);

function unknownField(path: string): MongoCommandError {
  return new MongoCommandError('Location40415', `BSON field '${path}' is an unknown field.`);
}

/**
 * Refuses a field the command does not accept (commands outside the table, like hello or serverStatus, are not
 * strict in mongod either). Checked before the handler runs, so a refused command changes nothing.
 */
export function checkCommandFields(name: string, command: Document): void {
  const canonical = ALIASES[name] ?? name;
  const accepted = ACCEPTED.get(canonical);
  if (accepted === undefined) return;
  for (const field in command) {
    if (!accepted.has(field)) throw unknownField(`${canonical}.${field}`);
  }
  const statements = ACCEPTED_IN_STATEMENTS.get(canonical);
  if (statements === undefined) return;
  const list: unknown = command[statements.array];
  if (!Array.isArray(list)) return;
  for (const statement of list as unknown[]) {
    if (statement === null || typeof statement !== 'object') continue;
    for (const field in statement) {
      if (!statements.fields.has(field)) throw unknownField(`${canonical}.${statements.array}.${field}`);
    }
  }
}
