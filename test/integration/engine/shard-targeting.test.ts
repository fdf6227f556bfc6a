// On a sagas collection sharded on `{ _id: 'hashed' }`, a command that names one `_id` (or a list of them) goes to
// the shards holding those sagas; anything else goes to every shard. This runs sagas through claim, result, retry,
// compensation, cancel and a wait with MongoDB's command monitoring on, and checks that every command the engine
// sends to the sagas collection names its sagas by `_id`, except the reads listed in EXEMPT, each for its reason.
import type { CommandStartedEvent, Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { SagaRegistry } from '../../../src/definition/index.js';
import { mongoAndCleanups, mongoUrl } from '../helpers.js';
import { paymentSaga } from './fixtures/payment-saga.js';
import { engineTest, order, POLL, runsOf, sagaEndingIn, sagaOf, sagasCollection } from './engine-test-kit.js';

const { mongo, onCleanup } = mongoAndCleanups();

/** One statement on the sagas collection: the command it came in and the filter it selects by. */
interface Statement {
  command: string;
  filter: Document;
  source: string;
}

/**
 * Reads that cannot name a saga, and why each is not on a saga's hot path. They go to every shard; none of them
 * writes (the writes they lead to are by `_id`, and checked).
 */
const EXEMPT: { reason: string; matches: (statement: Statement) => boolean }[] = [
  {
    reason:
      'wait matching: a changed document in a waited-on collection is looked up among the open waits by its ' +
      'wait keys (waiting_keys index); the document names no saga. The resume it leads to is by _id',
    matches: ({ command, filter }) => command === 'find' && 'waiting.keys' in filter,
  },
  {
    reason: 'recovery sweeper: its pass over live sagas not in a wait, oldest update first',
    matches: ({ command, filter }) => command === 'find' && 'status' in filter && 'waiting' in filter,
  },
  {
    reason: 'recovery sweeper: wait timers entered since its previous pass (waiting_since index)',
    matches: ({ command, filter }) => command === 'find' && 'waiting.since' in filter,
  },
  {
    reason:
      'recovery sweeper and wait reconcile: every open wait on a namespace after a watcher lost its place',
    matches: ({ command, filter }) => command === 'find' && 'waiting.ns' in filter,
  },
  {
    reason: 'recovery sweeper: failed and rejected sagas whose dead letter Redis may have lost',
    matches: ({ command, filter }) => command === 'find' && 'deadLetter.discardedAt' in filter,
  },
  {
    reason: 'legacy-id check: once per process (then hourly while the answer is yes), an _id range seek',
    matches: ({ command, filter }) => command === 'find' && isLegacyRange(filter._id),
  },
];

function isLegacyRange(value: unknown): boolean {
  return typeof value === 'object' && value !== null && '$gte' in value && '$lt' in value;
}

/** Names its sagas: `_id` is one string, or `$in` a list of strings. */
function targetsById(filter: Document): boolean {
  const id: unknown = filter._id;
  if (typeof id === 'string') return true;
  if (typeof id !== 'object' || id === null) return false;
  const keys = Object.keys(id);
  const list = (id as { $in?: unknown }).$in;
  return keys.length === 1 && Array.isArray(list) && list.every((item) => typeof item === 'string');
}

function asDocument(value: unknown): Document {
  return typeof value === 'object' && value !== null ? value : {};
}

/** The statements of one monitored command that act on `namespace` (`db.sagas`). */
function statementsOf(event: CommandStartedEvent, namespace: string): Statement[] {
  const { commandName: name, command, databaseName } = event;
  const [db, collection] = [
    namespace.slice(0, namespace.indexOf('.')),
    namespace.slice(namespace.indexOf('.') + 1),
  ];
  const source = `${name} ${JSON.stringify(command)}`.slice(0, 600);
  if (name === 'bulkWrite') {
    const namespaces = (command.nsInfo as { ns: string }[]).map((info) => info.ns);
    return (command.ops as Document[]).flatMap((op) => {
      const kind = ['insert', 'update', 'delete'].find((field) => field in op)!;
      if (namespaces[Number(op[kind])] !== namespace) return [];
      const filter: Document =
        kind === 'insert' ? { _id: asDocument(op.document)._id as unknown } : asDocument(op.filter);
      return [{ command: `bulkWrite ${kind}`, filter, source }];
    });
  }
  if (databaseName !== db || command[name] !== collection) return [];
  switch (name) {
    case 'insert':
      return (command.documents as Document[]).map((document) => ({
        command: name,
        filter: { _id: document._id as unknown },
        source,
      }));
    case 'update':
      return (command.updates as Document[]).map((statement) => ({
        command: name,
        filter: asDocument(statement.q),
        source,
      }));
    case 'delete':
      return (command.deletes as Document[]).map((statement) => ({
        command: name,
        filter: asDocument(statement.q),
        source,
      }));
    case 'findAndModify':
      return [{ command: name, filter: asDocument(command.query), source }];
    case 'find':
      return [
        {
          command: name,
          filter: asDocument(command.filter),
          source,
        },
      ];
    case 'aggregate': {
      const pipeline = command.pipeline as Document[];
      // A change stream (the worker's watch for cancels and deadlines) is opened on every shard by its nature.
      if (pipeline.some((stage) => '$changeStream' in stage)) return [];
      return [{ command: name, filter: asDocument(pipeline[0]?.$match), source }];
    }
    case 'count':
    case 'distinct':
      return [{ command: name, filter: asDocument(command.query), source }];
    default:
      // getMore, killCursors: continue a command already checked.
      return [];
  }
}

/** The statements that neither name their sagas by `_id` nor are exempt. */
function untargeted(statements: readonly Statement[]): string[] {
  return statements
    .filter((statement) => !targetsById(statement.filter))
    .filter((statement) => !EXEMPT.some((exempt) => exempt.matches(statement)))
    .map((statement) => statement.source);
}

describe('the engine on a sagas collection sharded by _id', () => {
  it(
    'names its sagas by _id in every hot-path command: claim, result, retry, compensation, cancel, wait',
    { timeout: 90_000 },
    async () => {
      const test = engineTest(mongo(), 'shard-targeting', { stepTimeoutMs: 20_000 });
      onCleanup(() => test.stop());
      const paid = paymentSaga('paid-order');
      const url = new URL(mongoUrl());
      url.searchParams.set('monitorCommands', 'true');
      const runtime = await test.start({
        mongodbUrl: url.toString(),
        registry: new SagaRegistry([test.saga, paid]),
      });
      const namespace = `${test.dbName}.sagas`;
      const statements: Statement[] = [];
      runtime.store.db.client.on('commandStarted', (event) =>
        statements.push(...statementsOf(event, namespace)),
      );

      // Retried then completed; compensated after a terminal failure; cancelled while a step runs.
      const retried = order({ charge: { fail: 1 } });
      const compensated = order({ ship: { terminal: true } });
      const cancelled = order({ charge: { blockMs: 15_000 } });
      await test.orders.insertMany([retried, compensated, cancelled]);
      const running = await sagaOf(test.db, cancelled._id);
      await expect
        .poll(() => runsOf(test.db, running._id, 'charge'), { ...POLL, message: 'charge to be running' })
        .toHaveLength(1);
      await runtime.operations.cancel(running._id);
      // A wait: stored with the saga, ended by a matching document.
      const { saga: waiting } = await runtime.operations.start(paid.name, { orderId: 'p-1' }, 'p-1');
      await expect
        .poll(
          async () => (await sagasCollection(test.db).findOne({ _id: waiting._id }))?.steps[1]?.status,
          POLL,
        )
        .toBe('waiting');
      await test.db
        .collection('payments')
        .insertOne({ orderId: 'p-1', status: 'captured', providerRef: 'psp-1' });

      expect((await sagaEndingIn(test.db, retried._id, ['completed'])).steps[1]?.attempts).toBe(2);
      expect(
        (await sagaEndingIn(test.db, compensated._id, ['compensated'])).steps[0]?.compensation,
      ).toMatchObject({
        status: 'completed',
      });
      expect((await sagaEndingIn(test.db, cancelled._id, ['compensated']))._id).toBe(running._id);
      await expect
        .poll(async () => (await sagasCollection(test.db).findOne({ _id: waiting._id }))?.status, POLL)
        .toBe('completed');

      // The flows did reach the collection through every kind of command the hot path uses.
      const kinds = new Set(statements.map((statement) => statement.command));
      expect(kinds).toContain('findAndModify');
      expect(kinds.has('update') || kinds.has('bulkWrite update')).toBe(true);
      expect(kinds.has('insert') || kinds.has('bulkWrite insert')).toBe(true);
      expect(kinds).toContain('find');
      expect(statements.filter((statement) => targetsById(statement.filter)).length).toBeGreaterThan(30);
      expect(untargeted(statements)).toEqual([]);

      // The check itself: an update by key (what the unique-{saga, key} dedup needed) would be caught.
      const before = statements.length;
      await runtime.store.collection.updateOne(
        { saga: test.saga.name, key: retried._id },
        { $set: { probe: 1 } },
      );
      const probe = statements.slice(before);
      expect(untargeted(probe)).toHaveLength(1);
    },
  );
});
