// Parses the `$changeStream` stage's options. Hand-written rather than a zod schema because clients see the
// errors, and they must carry MongoDB's codes and messages (IDL errors 40415, 14, BadValue).
import type { Timestamp } from 'bson';
import type { Document } from '../query/index.js';
import { MongoCommandError } from '../errors.js';
import { bsonTypeName } from '../query/index.js';
import { decodeResumeToken, timestampBefore, type ResumePoint } from './resume-token.js';

export type FullDocumentMode = 'default' | 'updateLookup' | 'whenAvailable' | 'required';
export type FullDocumentBeforeChangeMode = 'off' | 'whenAvailable' | 'required';

export interface ChangeStreamOptions {
  /** Where the stream starts: events strictly after this point; null = after the cluster time at open. */
  start: ResumePoint | null;
  /** Which option gave `start` (history checks and messages depend on it). */
  startMode: 'resumeAfter' | 'startAfter' | 'startAtOperationTime' | 'now';
  fullDocument: FullDocumentMode;
  fullDocumentBeforeChange: FullDocumentBeforeChangeMode;
  showExpandedEvents: boolean;
  allChangesForCluster: boolean;
}

const FULL_DOCUMENT_MODES: readonly string[] = ['default', 'updateLookup', 'whenAvailable', 'required'];
const BEFORE_CHANGE_MODES: readonly string[] = ['off', 'whenAvailable', 'required'];

/** Options MongoDB accepts that change nothing here (internal or sharding-only switches). */
const IGNORED_OPTIONS = new Set([
  'showSystemEvents',
  'showMigrationEvents',
  'allowToRunOnConfigDB',
  'allowToRunOnSystemNS',
  'showRawUpdateDescription',
]);
const KNOWN_OPTIONS = new Set([
  'resumeAfter',
  'startAfter',
  'startAtOperationTime',
  'fullDocument',
  'fullDocumentBeforeChange',
  'showExpandedEvents',
  'allChangesForCluster',
  ...IGNORED_OPTIONS,
]);

function wrongType(field: string, value: unknown, expected: string): MongoCommandError {
  return new MongoCommandError(
    'TypeMismatch',
    `BSON field '$changeStream.${field}' is the wrong type '${bsonTypeName(value)}', expected type '${expected}'`,
  );
}

function readEnum<T extends string>(
  spec: Document,
  field: string,
  allowed: readonly string[],
  fallback: T,
): T {
  const value: unknown = spec[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw wrongType(field, value, 'string');
  if (!allowed.includes(value)) {
    throw new MongoCommandError(
      'BadValue',
      `Enumeration value '${value}' for field '$changeStream.${field}' is not a valid value.`,
    );
  }
  return value as T;
}

function readBool(spec: Document, field: string): boolean {
  const value: unknown = spec[field];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw wrongType(field, value, 'bool');
  return value;
}

function readToken(spec: Document, field: 'resumeAfter' | 'startAfter'): ResumePoint {
  const value: unknown = spec[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value) || '_bsontype' in value) {
    throw wrongType(field, value, 'object');
  }
  return decodeResumeToken(value);
}

function isTimestamp(value: unknown): value is Timestamp {
  return typeof value === 'object' && value !== null && (value as Document)._bsontype === 'Timestamp';
}

/** Validates the `$changeStream` stage's argument and fills in MongoDB's defaults. */
export function parseChangeStreamOptions(spec: unknown): ChangeStreamOptions {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec) || '_bsontype' in spec) {
    throw new MongoCommandError('Location50808', 'the $changeStream stage must be an object as argument');
  }
  const options = spec as Document;
  for (const field of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(field)) {
      throw new MongoCommandError(
        'Location40415',
        `BSON field '$changeStream.${field}' is an unknown field.`,
      );
    }
  }
  const resumeFields = (['resumeAfter', 'startAfter', 'startAtOperationTime'] as const).filter(
    (field) => options[field] !== undefined,
  );
  if (resumeFields.length > 1) {
    throw new MongoCommandError(
      'Location40674',
      'Only one type of resume option is allowed, but multiple were found.',
    );
  }

  let start: ResumePoint | null = null;
  let startMode: ChangeStreamOptions['startMode'] = 'now';
  if (options.resumeAfter !== undefined) {
    start = readToken(options, 'resumeAfter');
    startMode = 'resumeAfter';
    // Past an invalidate the collection is gone; only startAfter may continue (MongoDB's rule).
    if (start.kind === 'invalidate') {
      throw new MongoCommandError(
        'InvalidResumeToken',
        "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate " +
          "notification. Use 'startAfter' instead.",
      );
    }
  } else if (options.startAfter !== undefined) {
    start = readToken(options, 'startAfter');
    startMode = 'startAfter';
  } else if (options.startAtOperationTime !== undefined) {
    const value: unknown = options.startAtOperationTime;
    if (!isTimestamp(value)) throw wrongType('startAtOperationTime', value, 'timestamp');
    // Events at the given time are included, so the stream starts just before it.
    start = { ts: value, kind: 'startAt' };
    startMode = 'startAtOperationTime';
  }

  return {
    start,
    startMode,
    fullDocument: readEnum(options, 'fullDocument', FULL_DOCUMENT_MODES, 'default'),
    fullDocumentBeforeChange: readEnum(options, 'fullDocumentBeforeChange', BEFORE_CHANGE_MODES, 'off'),
    showExpandedEvents: readBool(options, 'showExpandedEvents'),
    allChangesForCluster: readBool(options, 'allChangesForCluster'),
  };
}

/** The stream needs every entry after this time (`Oplog.covers`) to start at `start` without a gap. */
export function historyNeededAfter(start: ResumePoint): Timestamp {
  return start.kind === 'startAt' ? timestampBefore(start.ts) : start.ts;
}
