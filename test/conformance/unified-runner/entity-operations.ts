// Entity operations (unified-test-format.md "Entity Test Operations"): CRUD, index and DDL helpers on collections,
// databases and clients, change-stream creation, cursor iteration and session operations, via the official driver.
import type {
  AnyBulkWriteOperation,
  ChangeStream,
  ClientSession,
  Collection,
  Db,
  Document,
  FindCursor,
  AggregationCursor,
  MongoClient,
} from 'mongodb';
import { clientBulkWrite } from './client-bulk-write.js';
import type { EntityMap } from './entity-map.js';
import {
  bulkWriteModels,
  driverOptions,
  requiredArgument,
  resultDocument,
  returnDocumentOption,
} from './operation-arguments.js';

/** What an entity operation produced; `entity` is set when the result can be saved with saveResultAsEntity. */
export interface OperationOutcome {
  result?: unknown;
  /** Iterated results whose elements are matched as root-level documents (find, aggregate, list*). */
  rootArray?: boolean;
  entity?:
    { kind: 'changeStream'; value: ChangeStream } | { kind: 'cursor'; value: FindCursor | AggregationCursor };
}

type Handler<T> = (target: T, args: Document, entities: EntityMap) => Promise<OperationOutcome>;

const rootArray = (result: Document[]): OperationOutcome => ({ result, rootArray: true });
const plain = (result: unknown): OperationOutcome => ({ result: resultDocument(result) });

/** The aggregate is sent before the change stream is saved (the driver would otherwise wait for the first next()). */
async function openChangeStream(stream: ChangeStream): Promise<OperationOutcome> {
  const cursor = (stream as unknown as { cursor: { cursorInit(): Promise<void> } }).cursor;
  await cursor.cursorInit();
  return { entity: { kind: 'changeStream', value: stream } };
}

function watch(target: { watch(pipeline: Document[], options: Document): ChangeStream }): Handler<unknown> {
  return (_target, args, entities) =>
    openChangeStream(
      target.watch((args.pipeline as Document[]) ?? [], driverOptions(entities, args, ['pipeline'])),
    );
}

const collectionOperations: Record<string, Handler<Collection>> = {
  insertOne: async (c, a, e) =>
    plain(await c.insertOne(requiredArgument(a, 'document'), driverOptions(e, a, ['document']))),
  insertMany: async (c, a, e) =>
    plain(await c.insertMany(requiredArgument(a, 'documents'), driverOptions(e, a, ['documents']))),
  updateOne: async (c, a, e) =>
    plain(
      await c.updateOne(
        a.filter as Document,
        a.update as Document,
        driverOptions(e, a, ['filter', 'update']),
      ),
    ),
  updateMany: async (c, a, e) =>
    plain(
      await c.updateMany(
        a.filter as Document,
        a.update as Document,
        driverOptions(e, a, ['filter', 'update']),
      ),
    ),
  replaceOne: async (c, a, e) =>
    plain(
      await c.replaceOne(
        a.filter as Document,
        a.replacement as Document,
        driverOptions(e, a, ['filter', 'replacement']),
      ),
    ),
  deleteOne: async (c, a, e) =>
    plain(await c.deleteOne(a.filter as Document, driverOptions(e, a, ['filter']))),
  deleteMany: async (c, a, e) =>
    plain(await c.deleteMany(a.filter as Document, driverOptions(e, a, ['filter']))),
  bulkWrite: async (c, a, e) =>
    plain(
      await c.bulkWrite(
        bulkWriteModels(requiredArgument(a, 'requests')) as AnyBulkWriteOperation[],
        driverOptions(e, a, ['requests']),
      ),
    ),
  find: async (c, a, e) =>
    rootArray(await c.find((a.filter as Document) ?? {}, driverOptions(e, a, ['filter'])).toArray()),
  findOne: async (c, a, e) =>
    plain(await c.findOne((a.filter as Document) ?? {}, driverOptions(e, a, ['filter']))),
  createFindCursor: async (c, a, e) => {
    const cursor = c.find((a.filter as Document) ?? {}, driverOptions(e, a, ['filter']));
    await cursor.hasNext(); // sends `find` without consuming the first document
    return { entity: { kind: 'cursor', value: cursor } };
  },
  aggregate: async (c, a, e) =>
    rootArray(
      await c.aggregate(requiredArgument(a, 'pipeline'), driverOptions(e, a, ['pipeline'])).toArray(),
    ),
  countDocuments: async (c, a, e) =>
    plain(await c.countDocuments((a.filter as Document) ?? {}, driverOptions(e, a, ['filter']))),
  estimatedDocumentCount: async (c, a, e) => plain(await c.estimatedDocumentCount(driverOptions(e, a))),
  count: async (c, a, e) =>
    plain(await c.count((a.filter as Document) ?? {}, driverOptions(e, a, ['filter']))),
  distinct: async (c, a, e) =>
    plain(
      await c.distinct(
        requiredArgument<string>(a, 'fieldName'),
        (a.filter as Document) ?? {},
        driverOptions(e, a, ['fieldName', 'filter']),
      ),
    ),
  findOneAndUpdate: async (c, a, e) =>
    plain(
      await c.findOneAndUpdate(a.filter as Document, a.update as Document, {
        ...driverOptions(e, a, ['filter', 'update', 'returnDocument']),
        ...returnDocumentOption(a),
      }),
    ),
  findOneAndReplace: async (c, a, e) =>
    plain(
      await c.findOneAndReplace(a.filter as Document, a.replacement as Document, {
        ...driverOptions(e, a, ['filter', 'replacement', 'returnDocument']),
        ...returnDocumentOption(a),
      }),
    ),
  findOneAndDelete: async (c, a, e) =>
    plain(await c.findOneAndDelete(a.filter as Document, driverOptions(e, a, ['filter']))),
  createIndex: async (c, a, e) =>
    plain(await c.createIndex(requiredArgument(a, 'keys'), driverOptions(e, a, ['keys']))),
  dropIndex: async (c, a, e) =>
    plain(await c.dropIndex(requiredArgument<string>(a, 'name'), driverOptions(e, a, ['name']))),
  dropIndexes: async (c, a, e) => plain(await c.dropIndexes(driverOptions(e, a))),
  listIndexes: async (c, a, e) =>
    rootArray((await c.listIndexes(driverOptions(e, a)).toArray()) as Document[]),
  drop: async (c, a, e) => plain(await c.drop(driverOptions(e, a))),
  rename: async (c, a, e) => {
    await c.rename(requiredArgument<string>(a, 'to'), driverOptions(e, a, ['to']));
    return {};
  },
  createChangeStream: (c, a, e) => watch(c)(c, a, e),
};

const databaseOperations: Record<string, Handler<Db>> = {
  runCommand: async (d, a, e) =>
    plain(await d.command(requiredArgument(a, 'command'), driverOptions(e, a, ['command', 'commandName']))),
  aggregate: async (d, a, e) =>
    rootArray(
      await d.aggregate(requiredArgument(a, 'pipeline'), driverOptions(e, a, ['pipeline'])).toArray(),
    ),
  createCollection: async (d, a, e) => {
    await d.createCollection(requiredArgument<string>(a, 'collection'), driverOptions(e, a, ['collection']));
    return {};
  },
  dropCollection: async (d, a, e) =>
    plain(
      await d.dropCollection(requiredArgument<string>(a, 'collection'), driverOptions(e, a, ['collection'])),
    ),
  listCollections: async (d, a, e) =>
    rootArray(
      await d.listCollections((a.filter as Document) ?? {}, driverOptions(e, a, ['filter'])).toArray(),
    ),
  listCollectionNames: async (d, a, e) =>
    plain(
      (await d.listCollections((a.filter as Document) ?? {}, driverOptions(e, a, ['filter'])).toArray()).map(
        (info) => info.name,
      ),
    ),
  modifyCollection: async (d, a, e) => {
    const changes = Object.fromEntries(
      Object.entries(a).filter(([key]) => key !== 'collection' && key !== 'session'),
    );
    const sessionOptions = driverOptions(e, a.session === undefined ? {} : { session: a.session as string });
    return plain(
      await d.command({ collMod: requiredArgument<string>(a, 'collection'), ...changes }, sessionOptions),
    );
  },
  runCursorCommand: async (d, a, e) => {
    const cursor = d.runCursorCommand(
      requiredArgument(a, 'command'),
      driverOptions(e, a, ['command', 'commandName']),
    );
    return rootArray((await cursor.toArray()) as Document[]);
  },
  createChangeStream: (d, a, e) => watch(d)(d, a, e),
};

const clientOperations: Record<string, Handler<MongoClient>> = {
  clientBulkWrite: (c, a, e) => clientBulkWrite(c, a, e),
  createChangeStream: (c, a, e) => watch(c)(c, a, e),
  listDatabases: async (c, a, e) =>
    rootArray((await c.db('admin').admin().listDatabases(driverOptions(e, a))).databases),
  listDatabaseNames: async (c, a, e) =>
    plain((await c.db('admin').admin().listDatabases(driverOptions(e, a))).databases.map((db) => db.name)),
  close: async (c) => {
    await c.close();
    return {};
  },
};

/** Iteration on change streams and find/aggregate cursors. */
const cursorOperations: Record<string, Handler<ChangeStream | FindCursor | AggregationCursor>> = {
  iterateUntilDocumentOrError: async (cursor) => ({ result: (await cursor.next()) as unknown }),
  // One iteration: a buffered document, else exactly one getMore.
  iterateOnce: async (cursor) => ({ result: (await cursor.tryNext()) ?? undefined }),
  close: async (cursor) => {
    await cursor.close().catch(() => undefined);
    return {};
  },
};

const sessionOperations: Record<string, Handler<ClientSession>> = {
  endSession: async (s) => {
    await s.endSession();
    return {};
  },
  startTransaction: (s, a) => {
    s.startTransaction(a);
    return Promise.resolve({});
  },
  commitTransaction: async (s) => {
    await s.commitTransaction();
    return {};
  },
  abortTransaction: async (s) => {
    await s.abortTransaction();
    return {};
  },
};

/** Runs `name` on entity `object`; throws for operations this runner does not implement. */
export async function runEntityOperation(
  entities: EntityMap,
  object: string,
  name: string,
  args: Document,
): Promise<OperationOutcome> {
  const entity = entities.get(object);
  const table: Record<string, Handler<never>> | undefined = {
    client: clientOperations,
    database: databaseOperations,
    collection: collectionOperations,
    session: sessionOperations,
    changeStream: cursorOperations,
    cursor: cursorOperations,
    value: undefined,
  }[entity.kind];
  const handler = table?.[name];
  if (!handler)
    throw new Error(`operation ${name} on a ${entity.kind} entity is not supported by this runner`);
  const target = entity.kind === 'client' ? entity.value.client : entity.value;
  return (handler as Handler<unknown>)(target, args, entities);
}
