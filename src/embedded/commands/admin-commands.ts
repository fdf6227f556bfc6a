// Database, collection and index administration commands.
import { BSON, type Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { compileFilter } from '../query/index.js';
import type { CollectionOptions, IndexSpec, Namespace } from '../storage/oplog-entry.js';
import type { Collection } from '../storage/collection.js';
import {
  collectionName,
  optionalArray,
  optionalDocument,
  type CommandContext,
  type CommandHandlerFn,
} from './command-context.js';
import { checkValidatorSyntax } from './document-validation.js';
import { isView } from './readable-documents.js';

function namespace(context: CommandContext): Namespace {
  return { db: context.db, coll: collectionName(context) };
}

function collectionOptionsFrom(command: Document): CollectionOptions {
  const options: CollectionOptions = {};
  const images = optionalDocument(command, 'changeStreamPreAndPostImages');
  if (images) options.changeStreamPreAndPostImages = { enabled: images.enabled === true };
  if (command.capped === true) options.capped = true;
  if (typeof command.size === 'number') options.size = command.size;
  if (typeof command.max === 'number') options.max = command.max;
  const validator = optionalDocument(command, 'validator');
  if (validator) {
    checkValidatorSyntax(validator);
    options.validator = validator;
  }
  const level: unknown = command.validationLevel;
  if (level !== undefined) {
    if (level !== 'off' && level !== 'strict' && level !== 'moderate') {
      throw new MongoCommandError(
        'BadValue',
        `Enumeration value '${JSON.stringify(level)}' for field 'validationLevel' is not a valid value.`,
      );
    }
    options.validationLevel = level;
  }
  const action: unknown = command.validationAction;
  if (action !== undefined) {
    if (action !== 'error' && action !== 'warn') {
      throw new MongoCommandError(
        'BadValue',
        `Enumeration value '${JSON.stringify(action)}' for field 'validationAction' is not a valid value.`,
      );
    }
    options.validationAction = action;
  }
  if (command.viewOn !== undefined) {
    if (typeof command.viewOn !== 'string' || command.viewOn.length === 0) {
      throw new MongoCommandError('TypeMismatch', "BSON field 'viewOn' must be a non-empty string");
    }
    options.viewOn = command.viewOn;
    options.pipeline = optionalArray(command, 'pipeline') ?? [];
  } else if (command.pipeline !== undefined) {
    throw new MongoCommandError('BadValue', "'pipeline' requires 'viewOn' to also be specified");
  }
  return options;
}

function collectionInfo(collection: Collection): Document {
  if (isView(collection)) {
    return { name: collection.ns.coll, type: 'view', options: collection.options, info: { readOnly: true } };
  }
  return {
    name: collection.ns.coll,
    type: 'collection',
    options: collection.options,
    info: { readOnly: false, uuid: collection.uuid },
    idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
  };
}

function indexDocument(spec: IndexSpec): Document {
  const doc: Document = { v: 2, key: spec.key, name: spec.name };
  if (spec.unique) doc.unique = true;
  if (spec.sparse) doc.sparse = true;
  if (spec.partialFilterExpression) doc.partialFilterExpression = spec.partialFilterExpression;
  if (spec.expireAfterSeconds !== undefined) doc.expireAfterSeconds = spec.expireAfterSeconds;
  return doc;
}

/** MongoDB's default index name: `field_1_other_-1`. */
export function defaultIndexName(key: Document): string {
  return Object.entries(key)
    .map(([field, direction]) => `${field}_${String(direction)}`)
    .join('_');
}

function parseIndexSpec(raw: unknown): IndexSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MongoCommandError('TypeMismatch', 'each index specification must be an object');
  }
  const spec = raw as Document;
  const key = spec.key as Document | undefined;
  if (!key || typeof key !== 'object' || Object.keys(key).length === 0) {
    throw new MongoCommandError(
      'BadValue',
      "Error in specification: the 'key' field must be a non-empty object",
    );
  }
  for (const [field, direction] of Object.entries(key)) {
    const valid =
      (typeof direction === 'number' && direction !== 0) ||
      ['hashed', 'text', '2dsphere', '2d', 'wildcard'].includes(String(direction));
    if (!valid)
      throw new MongoCommandError(
        'BadValue',
        `Values in the index key pattern can't be 0 or invalid: ${field}: ${String(direction)}`,
      );
  }
  const name = typeof spec.name === 'string' && spec.name.length > 0 ? spec.name : defaultIndexName(key);
  const result: IndexSpec = { name, key };
  if (spec.unique === true) result.unique = true;
  if (spec.sparse === true) result.sparse = true;
  if (spec.partialFilterExpression) result.partialFilterExpression = spec.partialFilterExpression as Document;
  if (typeof spec.expireAfterSeconds === 'number') result.expireAfterSeconds = spec.expireAfterSeconds;
  return result;
}

function cursorReply(ns: string, firstBatch: Document[]): Document {
  return { cursor: { id: BSON.Long.fromNumber(0), ns, firstBatch } };
}

export const adminCommands: Record<string, CommandHandlerFn> = {
  listDatabases: (context) => {
    const filter = optionalDocument(context.command, 'filter');
    const matcher = filter ? compileFilter(filter) : undefined;
    const databases = context.engine
      .databaseNames()
      .map((name) => {
        const collections = context.engine.collections(name);
        const documents = collections.reduce((sum, collection) => sum + collection.size, 0);
        return { name, sizeOnDisk: documents * 256, empty: documents === 0 };
      })
      .filter((db) => !matcher || matcher(db));
    if (context.command.nameOnly === true) return { databases: databases.map(({ name }) => ({ name })) };
    return { databases, totalSize: databases.reduce((sum, db) => sum + db.sizeOnDisk, 0), totalSizeMb: 0 };
  },

  listCollections: (context) => {
    const filter = optionalDocument(context.command, 'filter');
    const matcher = filter ? compileFilter(filter) : undefined;
    const infos = context.engine
      .collections(context.db)
      .map(collectionInfo)
      .filter((info) => !matcher || matcher(info))
      .map((info) =>
        context.command.nameOnly === true ? { name: info.name as string, type: info.type as string } : info,
      );
    return cursorReply(`${context.db}.$cmd.listCollections`, infos);
  },

  create: (context) => {
    context.engine.createCollection(namespace(context), collectionOptionsFrom(context.command));
    return {};
  },

  collMod: (context) => {
    const ns = namespace(context);
    const options = collectionOptionsFrom(context.command);
    context.engine.modifyCollection(ns, options);
    return {};
  },

  drop: (context) => {
    const ns = namespace(context);
    const collection = context.engine.getCollection(ns);
    const indexes = collection ? collection.indexes.size + 1 : 0;
    context.engine.dropCollection(ns);
    return collection ? { ns: `${ns.db}.${ns.coll}`, nIndexesWas: indexes } : {};
  },

  dropDatabase: (context) => {
    context.engine.dropDatabase(context.db);
    return { dropped: context.db };
  },

  renameCollection: (context) => {
    const from = String(context.command.renameCollection);
    const to = String(context.command.to);
    const split = (name: string): Namespace => {
      const dot = name.indexOf('.');
      if (dot <= 0) throw new MongoCommandError('InvalidNamespace', `Invalid namespace specified '${name}'`);
      return { db: name.slice(0, dot), coll: name.slice(dot + 1) };
    };
    context.engine.renameCollection(split(from), split(to), context.command.dropTarget === true);
    return {};
  },

  createIndexes: (context) => {
    const ns = namespace(context);
    const raw: unknown = context.command.indexes;
    if (!Array.isArray(raw) || raw.length === 0) {
      throw new MongoCommandError('BadValue', 'Must specify at least one index to create');
    }
    const specs = raw.map(parseIndexSpec);
    const result = context.engine.createIndexes(ns, specs);
    const reply: Document = {
      createdCollectionAutomatically: result.createdCollection,
      numIndexesBefore: result.before,
      numIndexesAfter: result.after,
    };
    if (result.before === result.after) reply.note = 'all indexes already exist';
    return reply;
  },

  listIndexes: (context) => {
    const ns = namespace(context);
    const collection = context.engine.requireCollection(ns);
    return cursorReply(`${ns.db}.${ns.coll}`, collection.indexSpecs().map(indexDocument));
  },

  dropIndexes: (context) => {
    const ns = namespace(context);
    const collection = context.engine.requireCollection(ns);
    const before = collection.indexes.size + 1;
    const target: unknown = context.command.index;
    let names: string[];
    if (target === '*') names = [...collection.indexes.keys()];
    else if (typeof target === 'string') names = [target];
    else if (Array.isArray(target)) names = target.map(String);
    else if (target && typeof target === 'object') {
      const match = [...collection.indexes.values()].find(
        (index) => JSON.stringify(index.spec.key) === JSON.stringify(target),
      );
      if (!match)
        throw new MongoCommandError('IndexNotFound', `can't find index with key: ${JSON.stringify(target)}`);
      names = [match.name];
    } else throw new MongoCommandError('BadValue', "dropIndexes needs an 'index' field");
    for (const name of names) {
      if (name === '_id_') throw new MongoCommandError('InvalidOptions', 'cannot drop _id index');
      if (!collection.indexes.has(name)) {
        throw new MongoCommandError('IndexNotFound', `index not found with name [${name}]`);
      }
    }
    context.engine.dropIndexes(ns, names);
    return { nIndexesWas: before };
  },

  dbStats: (context) => {
    const collections = context.engine.collections(context.db);
    const objects = collections.reduce((sum, collection) => sum + collection.size, 0);
    return {
      db: context.db,
      collections: collections.length,
      views: 0,
      objects,
      indexes: collections.reduce((sum, collection) => sum + collection.indexes.size + 1, 0),
    };
  },

  collStats: (context) => {
    const collection = context.engine.requireCollection(namespace(context));
    return { ns: collection.fullName, count: collection.size, nindexes: collection.indexes.size + 1 };
  },
};
