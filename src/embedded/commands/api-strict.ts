// The Stable API parameters (apiVersion, apiStrict, apiDeprecationErrors) as mongod checks them before a command
// runs (validate_api_parameters.cpp): with `apiStrict: true` a command outside API Version 1, or a field its IDL
// marks unstable or internal, is refused with APIStrictError (323).
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';

/** Commands whose mongod definition lists API Version 1 (handshake, CRUD, DDL, cursors, sessions, transactions). */
const API_V1_COMMANDS: ReadonlySet<string> = new Set([
  'abortTransaction',
  'aggregate',
  'authenticate',
  'bulkWrite',
  'collMod',
  'commitTransaction',
  'count',
  'create',
  'createIndexes',
  'delete',
  'drop',
  'dropDatabase',
  'dropIndexes',
  'endSessions',
  'explain',
  'find',
  'findAndModify',
  'getMore',
  'hello',
  'insert',
  'killCursors',
  'listCollections',
  'listDatabases',
  'listIndexes',
  'ping',
  'refreshSessions',
  'update',
]);

/** Fields of API Version 1 commands that their IDL marks `unstable` or `internal`. */
const UNSTABLE_FIELDS: Record<string, ReadonlySet<string>> = {
  find: new Set([
    'min',
    'max',
    'returnKey',
    'showRecordId',
    'tailable',
    'oplogReplay',
    'noCursorTimeout',
    'awaitData',
    'term',
    'readOnce',
    'collectionUUID',
    'encryptionInformation',
    '$_requestResumeToken',
    '$_resumeAfter',
    '$_startAt',
  ]),
  aggregate: new Set([
    'explain',
    'needsMerge',
    'fromMongos',
    'fromRouter',
    'isMapReduceCommand',
    'collectionUUID',
    'runtimeConstants',
    'encryptionInformation',
    '$_requestReshardingResumeToken',
  ]),
  create: new Set(['autoIndexId']),
};

/** Command-name aliases; mongod's messages name the canonical command. */
const ALIASES: Record<string, string> = { findandmodify: 'findAndModify', ismaster: 'isMaster' };

/** Throws as mongod does for bad API parameters; a command without them is not checked (no requireApiVersion). */
export function checkApiParameters(name: string, command: Document): void {
  const { apiVersion, apiStrict, apiDeprecationErrors } = command as {
    apiVersion?: unknown;
    apiStrict?: unknown;
    apiDeprecationErrors?: unknown;
  };
  if (apiVersion === undefined) {
    if (apiStrict !== undefined || apiDeprecationErrors !== undefined) {
      throw new MongoCommandError(
        'Location4886600',
        'Provided apiStrict and/or apiDeprecationErrors without passing apiVersion',
      );
    }
    return;
  }
  if (apiVersion !== '1') {
    throw new MongoCommandError('APIVersionError', 'API version must be "1"');
  }
  if (apiStrict !== true) return;
  const canonical = ALIASES[name] ?? name;
  if (!API_V1_COMMANDS.has(canonical)) {
    throw new MongoCommandError(
      'APIStrictError',
      `Provided apiStrict:true, but the command ${canonical} is not in API Version 1. Information on supported ` +
        'commands and migrations in API Version 1 can be found at https://dochub.mongodb.org/core/manual-versioned-api.',
    );
  }
  const unstable = UNSTABLE_FIELDS[canonical];
  if (!unstable) return;
  for (const field in command) {
    if (unstable.has(field)) {
      throw new MongoCommandError(
        'APIStrictError',
        `BSON field '${canonical}.${field}' is not allowed with apiStrict:true.`,
      );
    }
  }
}
