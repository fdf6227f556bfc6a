// Special test operations (`object: testRunner`): fail points and assertions about collections, indexes, sessions
// and observed events.
import type { Document, MongoClient } from 'mongodb';
import type { EntityMap } from './entity-map.js';
import { assertMatches } from './matcher.js';
import { requiredArgument } from './operation-arguments.js';

export interface FailPointRecord {
  client: MongoClient;
  name: string;
}

export interface TestRunnerContext {
  entities: EntityMap;
  internalClient: MongoClient;
  /** Fail points to turn off after the test. */
  failPoints: FailPointRecord[];
}

async function configureFailPoint(
  context: TestRunnerContext,
  client: MongoClient,
  failPoint: Document,
): Promise<void> {
  await client.db('admin').command(failPoint);
  context.failPoints.push({ client, name: failPoint.configureFailPoint as string });
}

async function collectionNames(client: MongoClient, database: string): Promise<string[]> {
  const infos = await client.db(database).listCollections({}, { nameOnly: true }).toArray();
  return infos.map((info) => info.name);
}

async function indexNames(client: MongoClient, database: string, collection: string): Promise<string[]> {
  try {
    const indexes = await client.db(database).collection(collection).listIndexes().toArray();
    return indexes.map((index: Document) => String(index.name));
  } catch {
    return [];
  }
}

function lastTwoLsids(context: TestRunnerContext, clientName: string): [unknown, unknown] {
  const started = context.entities
    .getAs(clientName, 'client')
    .events.filter((event) => event.type === 'commandStartedEvent');
  if (started.length < 2)
    throw new Error(`client ${clientName} observed fewer than two commandStartedEvents`);
  return [started.at(-2)!.command?.lsid, started.at(-1)!.command?.lsid];
}

function sameLsid(a: unknown, b: unknown): boolean {
  try {
    assertMatches(a, b, { value: () => undefined, sessionLsid: () => ({}) }, false);
    return true;
  } catch {
    return false;
  }
}

type SpecialOperation = (context: TestRunnerContext, args: Document) => Promise<void>;

const specialOperations: Record<string, SpecialOperation> = {
  failPoint: (context, args) =>
    configureFailPoint(
      context,
      context.entities.getAs(requiredArgument(args, 'client'), 'client').client,
      requiredArgument(args, 'failPoint'),
    ),
  // A replica set has one primary, so the session's server is the one every client reaches.
  targetedFailPoint: (context, args) => {
    const session = context.entities.getEntity(requiredArgument(args, 'session'), 'session');
    return configureFailPoint(context, session.client, requiredArgument(args, 'failPoint'));
  },
  assertCollectionExists: async (context, args) => {
    const names = await collectionNames(context.internalClient, args.databaseName as string);
    if (!names.includes(args.collectionName as string))
      throw new Error(`collection ${String(args.collectionName)} does not exist`);
  },
  assertCollectionNotExists: async (context, args) => {
    const names = await collectionNames(context.internalClient, args.databaseName as string);
    if (names.includes(args.collectionName as string))
      throw new Error(`collection ${String(args.collectionName)} exists`);
  },
  assertIndexExists: async (context, args) => {
    const names = await indexNames(
      context.internalClient,
      args.databaseName as string,
      args.collectionName as string,
    );
    if (!names.includes(args.indexName as string))
      throw new Error(`index ${String(args.indexName)} does not exist`);
  },
  assertIndexNotExists: async (context, args) => {
    const names = await indexNames(
      context.internalClient,
      args.databaseName as string,
      args.collectionName as string,
    );
    if (names.includes(args.indexName as string)) throw new Error(`index ${String(args.indexName)} exists`);
  },
  assertSessionTransactionState: (context, args) => {
    const session = context.entities.getAs(requiredArgument(args, 'session'), 'session');
    const state = String((session as unknown as { transaction: { state: string } }).transaction.state);
    const expected: Record<string, string> = {
      none: 'NO_TRANSACTION',
      starting: 'STARTING_TRANSACTION',
      in_progress: 'TRANSACTION_IN_PROGRESS',
      committed: 'TRANSACTION_COMMITTED',
      aborted: 'TRANSACTION_ABORTED',
    };
    if (expected[args.state as string] !== state)
      throw new Error(`session state is ${state}, expected ${String(args.state)}`);
    return Promise.resolve();
  },
  // Sessions pin to a mongos only on sharded clusters; on a replica set they are never pinned.
  assertSessionPinned: () => Promise.reject(new Error('sessions are never pinned on a replica set')),
  assertSessionUnpinned: () => Promise.resolve(),
  assertSessionDirty: (context, args) => {
    const session = context.entities.getAs(requiredArgument(args, 'session'), 'session');
    if (!session.serverSession?.isDirty) throw new Error('expected the session to be dirty');
    return Promise.resolve();
  },
  assertSessionNotDirty: (context, args) => {
    const session = context.entities.getAs(requiredArgument(args, 'session'), 'session');
    if (session.serverSession?.isDirty) throw new Error('expected the session not to be dirty');
    return Promise.resolve();
  },
  assertSameLsidOnLastTwoCommands: (context, args) => {
    const [a, b] = lastTwoLsids(context, requiredArgument(args, 'client'));
    if (!sameLsid(a, b)) throw new Error('the last two commands used different lsids');
    return Promise.resolve();
  },
  assertDifferentLsidOnLastTwoCommands: (context, args) => {
    const [a, b] = lastTwoLsids(context, requiredArgument(args, 'client'));
    if (sameLsid(a, b)) throw new Error('the last two commands used the same lsid');
    return Promise.resolve();
  },
  createEntities: (context, args) => {
    context.entities.create(requiredArgument(args, 'entities'));
    return Promise.resolve();
  },
  wait: (_context, args) =>
    new Promise((resolve) => setTimeout(resolve, requiredArgument<number>(args, 'ms'))),
};

export async function runSpecialOperation(
  context: TestRunnerContext,
  name: string,
  args: Document,
): Promise<void> {
  const operation = specialOperations[name];
  if (!operation) throw new Error(`special test operation ${name} is not supported by this runner`);
  await operation(context, args);
}

/** Turns off every fail point the test configured (on the internal client: one server, same fail points). */
export async function disableFailPoints(context: TestRunnerContext): Promise<void> {
  for (const { name } of context.failPoints.splice(0)) {
    await context.internalClient.db('admin').command({ configureFailPoint: name, mode: 'off' });
  }
}
