// Turns oplog entries into change events shaped exactly as MongoDB shapes them, for one stream's scope.
import { Long, UUID } from 'bson';
import type { Document } from '../query/index.js';
import { MongoCommandError } from '../errors.js';
import type { DocumentEntry, Namespace, OplogEntry, UpdateDescription } from '../storage/oplog-entry.js';
import type { ChangeStreamOptions } from './change-stream-options.js';
import { scopeIncludes, type ChangeStreamScope } from './change-stream-scope.js';
import type { ChangeStreamSource } from './change-stream-source.js';
import { encodeResumeToken, type ResumePoint } from './resume-token.js';

/** One event an entry yields for a stream; built lazily so skipped events cost no lookups. */
export interface PendingEvent {
  point: ResumePoint;
  build(): Document;
  /** True for the invalidate that ends a collection or database stream. */
  invalidates: boolean;
}

export interface EventContext {
  scope: ChangeStreamScope;
  options: ChangeStreamOptions;
  source: ChangeStreamSource;
}

function header(entry: OplogEntry, point: ResumePoint, operationType: string): Document {
  return {
    _id: encodeResumeToken(point),
    operationType,
    clusterTime: entry.ts,
    wallTime: entry.wallTime,
  };
}

function describe(entry: DocumentEntry): string {
  return `{ts: Timestamp(${entry.ts.t}, ${entry.ts.i}), ns: ${entry.ns.db}.${entry.ns.coll}, operationType: ${entry.op}}`;
}

function postImageForUpdate(entry: DocumentEntry & { op: 'update' }, context: EventContext): Document | null {
  switch (context.options.fullDocument) {
    case 'updateLookup':
      return context.source.findDocumentById(entry.ns, entry.documentKey._id);
    case 'whenAvailable':
      return entry.imagesEnabled === true ? entry.postImage : null;
    case 'required':
      if (entry.imagesEnabled === true) return entry.postImage;
      throw new MongoCommandError(
        'NoMatchingDocument',
        'Change stream was configured to require a post-image for all update events, but the post-image was ' +
          `not found for event: ${describe(entry)}`,
      );
    default:
      return null;
  }
}

function preImage(entry: DocumentEntry, context: EventContext): Document | null {
  if (entry.imagesEnabled === true && entry.preImage !== undefined) return entry.preImage;
  if (context.options.fullDocumentBeforeChange === 'required') {
    throw new MongoCommandError(
      'NoMatchingDocument',
      'Change stream was configured to require a pre-image for all update, delete and replace events, but ' +
        `the pre-image was not found for event: ${describe(entry)}`,
    );
  }
  return null;
}

function documentEvent(entry: DocumentEntry, point: ResumePoint, context: EventContext): Document {
  const event = header(entry, point, entry.op);
  if (entry.op === 'insert') event.fullDocument = entry.document;
  if (entry.op === 'replace') event.fullDocument = entry.postImage;
  if (entry.op === 'update' && context.options.fullDocument !== 'default') {
    event.fullDocument = postImageForUpdate(entry, context);
  }
  event.ns = { db: entry.ns.db, coll: entry.ns.coll };
  addCollectionUuid(event, entry, context);
  event.documentKey = entry.documentKey;
  if (entry.op === 'update') event.updateDescription = updateDescriptionFor(entry.updateDescription, context);
  if (entry.op !== 'insert' && context.options.fullDocumentBeforeChange !== 'off') {
    event.fullDocumentBeforeChange = preImage(entry, context);
  }
  if (entry.lsid !== undefined) event.lsid = entry.lsid;
  if (entry.txnNumber !== undefined) event.txnNumber = Long.fromNumber(entry.txnNumber);
  return event;
}

/** disambiguatedPaths is an expanded-event field: always present with showExpandedEvents, else absent. */
function updateDescriptionFor(description: UpdateDescription, context: EventContext): Document {
  const { disambiguatedPaths, ...rest } = description;
  return context.options.showExpandedEvents
    ? { ...rest, disambiguatedPaths: disambiguatedPaths ?? {} }
    : rest;
}

/** With showExpandedEvents every event names its collection's UUID (when the entry recorded it). */
function addCollectionUuid(event: Document, entry: OplogEntry, context: EventContext): void {
  if (!context.options.showExpandedEvents || entry.collectionUuid === undefined) return;
  const uuid = collectionUuid(entry.collectionUuid);
  if (uuid !== undefined) event.collectionUUID = uuid;
}

function collectionUuid(uuid: string): UUID | undefined {
  try {
    return new UUID(uuid);
  } catch {
    return undefined;
  }
}

/** The event of a DDL entry (`create`, `createIndexes`, `dropIndexes`, `modify`, `drop`, `rename`). */
function ddlEvent(entry: OplogEntry, point: ResumePoint, context: EventContext): Document {
  const event = header(entry, point, entry.op);
  if (entry.op === 'create') {
    const uuid = collectionUuid(entry.uuid);
    if (uuid !== undefined) event.collectionUUID = uuid;
  } else addCollectionUuid(event, entry, context);
  event.ns = { ...entry.ns };
  switch (entry.op) {
    case 'create':
      event.operationDescription = { idIndex: { v: 2, key: { _id: 1 }, name: '_id_' }, ...entry.options };
      break;
    case 'createIndexes':
      event.operationDescription = { indexes: entry.indexes.map((index) => ({ v: 2, ...index })) };
      break;
    case 'dropIndexes':
      // The entry records names only; MongoDB would also list each dropped index's key.
      event.operationDescription = { indexes: entry.names.map((name) => ({ name })) };
      break;
    case 'modify':
      event.operationDescription = { ...entry.options };
      break;
    case 'rename':
      event.to = { ...entry.to };
      if (context.options.showExpandedEvents) {
        // dropTarget is the UUID of the collection the rename replaced, absent when it replaced none.
        const dropped = entry.droppedTargetUuid ? collectionUuid(entry.droppedTargetUuid) : undefined;
        event.operationDescription = { to: { ...entry.to }, ...(dropped ? { dropTarget: dropped } : {}) };
      }
      break;
    default:
      break;
  }
  return event;
}

function invalidateFor(entry: OplogEntry): PendingEvent {
  const point: ResumePoint = { ts: entry.ts, kind: 'invalidate' };
  return { point, invalidates: true, build: () => header(entry, point, 'invalidate') };
}

function single(entry: OplogEntry, build: (point: ResumePoint) => Document): PendingEvent {
  const point: ResumePoint = { ts: entry.ts, kind: 'event' };
  return { point, invalidates: false, build: () => build(point) };
}

function sameNamespace(a: Namespace, scope: ChangeStreamScope): boolean {
  return a.db === scope.db && a.coll === scope.coll;
}

/**
 * False when `entry` certainly yields no event for a stream of `scope` (a document write outside it), so a
 * waiting cursor need not wake for it. DDL entries always count: they may end the stream.
 */
export function mayYieldEvents(entry: OplogEntry, scope: ChangeStreamScope): boolean {
  switch (entry.op) {
    case 'insert':
    case 'update':
    case 'replace':
    case 'delete':
      return scopeIncludes(scope, entry.ns.db, entry.ns.coll);
    default:
      return true;
  }
}

/**
 * The events `entry` yields for a stream, in order (at most an event and the invalidate it causes).
 * Collection streams end on a drop or rename of their collection (either side of a rename, since renaming
 * onto it replaces it); database streams end on dropDatabase; cluster streams never end.
 */
export function eventsForEntry(entry: OplogEntry, context: EventContext): PendingEvent[] {
  const { scope, options } = context;
  const isCollectionStream = scope.coll !== undefined;
  switch (entry.op) {
    case 'insert':
    case 'update':
    case 'replace':
    case 'delete':
      if (!scopeIncludes(scope, entry.ns.db, entry.ns.coll)) return [];
      return [single(entry, (point) => documentEvent(entry, point, context))];
    case 'create':
    case 'createIndexes':
    case 'dropIndexes':
    case 'modify':
      if (!options.showExpandedEvents || !scopeIncludes(scope, entry.ns.db, entry.ns.coll)) return [];
      return [single(entry, (point) => ddlEvent(entry, point, context))];
    case 'drop': {
      if (!scopeIncludes(scope, entry.ns.db, entry.ns.coll)) return [];
      const drop = single(entry, (point) => ddlEvent(entry, point, context));
      return isCollectionStream ? [drop, invalidateFor(entry)] : [drop];
    }
    case 'rename': {
      const touches = isCollectionStream
        ? sameNamespace(entry.ns, scope) || sameNamespace(entry.to, scope)
        : scopeIncludes(scope, entry.ns.db, entry.ns.coll);
      if (!touches) return [];
      const rename = single(entry, (point) => ddlEvent(entry, point, context));
      return isCollectionStream ? [rename, invalidateFor(entry)] : [rename];
    }
    case 'dropDatabase': {
      // A collection stream already ended on its collection's drop entry, which the engine appends first.
      if (isCollectionStream || !scopeIncludes(scope, entry.ns.db)) return [];
      const dropDatabase = single(entry, (point) => ({
        ...header(entry, point, 'dropDatabase'),
        ns: { db: entry.ns.db },
      }));
      return scope.db === undefined ? [dropDatabase] : [dropDatabase, invalidateFor(entry)];
    }
  }
}
