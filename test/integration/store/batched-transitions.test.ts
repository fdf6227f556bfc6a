// Group commit of step transitions (WriteBatcher) and the one write per attempt (SagaStore.completeStep with a
// known snapshot): concurrent updates share one bulkWrite yet each caller gets its own outcome, errors stay with
// their caller, servers without bulkWrite get plain updates, and the state a worker keeps after a step equals
// what MongoDB holds.
import {
  BSON,
  Decimal128,
  Long,
  MongoClient,
  MongoServerError,
  ObjectId,
  type Collection,
  type CommandStartedEvent,
  type Document,
} from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/index.js';
import { startEmbeddedMongoServer } from '../../../src/embedded/index.js';
import { newSagaDocument } from '../../../src/engine/new-saga.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { SagaStore } from '../../../src/store/saga-store.js';
import type { StepJobRef } from '../../../src/model/step-job-ref.js';
import { WriteBatcher } from '../../../src/store/write-batcher.js';
import { mongoUrl, uniqueName } from '../helpers.js';

/** A client whose commands (other than the handshake and monitoring) are recorded in `commands`. */
async function monitoredClient(
  uri: string,
): Promise<{ client: MongoClient; commands: CommandStartedEvent[] }> {
  const client = new MongoClient(uri, { monitorCommands: true });
  const commands: CommandStartedEvent[] = [];
  client.on('commandStarted', (event) => {
    if (!['hello', 'isMaster', 'ping', 'endSessions'].includes(event.commandName)) commands.push(event);
  });
  await client.connect();
  return { client, commands };
}

/** Test documents: numeric ids, a counter and a label. */
interface Item {
  _id: number | string;
  v: number;
  label?: string;
}

/**
 * Runs `test` against an embedded server of its own with test commands on (fail points), presenting as
 * `serverVersion`, with a monitored client and `items` {_id: 0..2, v: 0}; commands recorded from then on.
 */
async function withFailPointServer(
  test: (
    monitored: { client: MongoClient; commands: CommandStartedEvent[] },
    collection: Collection<Item>,
  ) => Promise<void>,
  serverVersion: '8.0' | '7.0' = '8.0',
): Promise<void> {
  const server = await startEmbeddedMongoServer({ enableTestCommands: true, serverVersion });
  const monitored = await monitoredClient(server.uri);
  try {
    const collection = monitored.client.db('failpoints').collection<Item>('items');
    await collection.insertMany([0, 1, 2].map((i) => ({ _id: i, v: 0 })));
    monitored.commands.length = 0;
    await test(monitored, collection);
  } finally {
    await monitored.client.close();
    await server.stop();
  }
}

const namesOf = (commands: CommandStartedEvent[]): string[] => commands.map((event) => event.commandName);

let client: MongoClient;
let commands: CommandStartedEvent[];

beforeAll(async () => {
  ({ client, commands } = await monitoredClient(mongoUrl()));
});

afterEach(() => {
  commands.length = 0;
});

afterAll(async () => {
  await client.close();
});

async function seeded(count: number) {
  const collection = client.db(uniqueName('batch')).collection<Item>('items');
  await collection.insertMany(
    Array.from({ length: count }, (_, i) => ({ _id: i, v: 0, label: `item-${i}` })),
  );
  commands.length = 0;
  return collection;
}

/** The step after `step`, which its completion schedules. */
const nextOf = (step: number) => ({ first: step + 1, end: step + 2 });
describe('WriteBatcher', () => {
  it('sends concurrent conditional updates as one bulkWrite and tells each caller its own outcome', async () => {
    const collection = await seeded(5);
    const batcher = new WriteBatcher(client, collection);
    const outcomes = await Promise.all([
      batcher.updateOne({ _id: 0, v: 0 }, { $inc: { v: 1 } }),
      batcher.updateOne({ _id: 1, v: 0 }, { $inc: { v: 1 } }),
      batcher.updateOne({ _id: 2, v: 99 }, { $inc: { v: 1 } }),
      batcher.updateOne({ _id: 3, v: 0 }, { $set: { v: 0 } }),
      batcher.updateOne({ _id: 'missing' }, { $inc: { v: 1 } }),
      batcher.updateOne({ _id: 4, v: 0 }, { $inc: { v: 5 } }),
    ]);

    expect(outcomes).toEqual([
      { matched: 1, modified: 1 },
      { matched: 1, modified: 1 },
      { matched: 0, modified: 0 },
      { matched: 1, modified: 0 },
      { matched: 0, modified: 0 },
      { matched: 1, modified: 1 },
    ]);
    expect(namesOf(commands)).toEqual(['bulkWrite']);
    expect((commands[0]!.command.ops as Document[]).length).toBe(6);
    const stored = await collection.find({}, { sort: { _id: 1 } }).toArray();
    expect(stored.map((doc) => doc.v)).toEqual([1, 1, 0, 0, 5]);
  });

  it('rejects only the caller whose update fails; the others in the batch are applied', async () => {
    const collection = await seeded(3);
    const batcher = new WriteBatcher(client, collection);
    const results = await Promise.allSettled([
      batcher.updateOne({ _id: 0 }, { $inc: { v: 1 } }),
      // Two operators on one path: MongoDB refuses the whole update (ConflictingUpdateOperators).
      batcher.updateOne({ _id: 1 }, { $set: { v: 7 }, $inc: { v: 1 } }),
      batcher.updateOne({ _id: 2 }, { $inc: { v: 1 } }),
    ]);

    expect(results[0]).toEqual({ status: 'fulfilled', value: { matched: 1, modified: 1 } });
    expect(results[2]).toEqual({ status: 'fulfilled', value: { matched: 1, modified: 1 } });
    expect(results[1].status).toBe('rejected');
    const error = (results[1] as PromiseRejectedResult).reason as MongoServerError;
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(40);
    const stored = await collection.find({}, { sort: { _id: 1 } }).toArray();
    expect(stored.map((doc) => [doc.v, doc.label])).toEqual([
      [1, 'item-0'],
      [0, 'item-1'],
      [1, 'item-2'],
    ]);
  });

  it('sends a lone update as a plain update, and later arrivals as the next batch', async () => {
    const collection = await seeded(4);
    const batcher = new WriteBatcher(client, collection);
    expect(await batcher.updateOne({ _id: 0 }, { $inc: { v: 1 } })).toEqual({ matched: 1, modified: 1 });
    expect(namesOf(commands)).toEqual(['update']);

    commands.length = 0;
    const first = Promise.all([
      batcher.updateOne({ _id: 1 }, { $inc: { v: 1 } }),
      batcher.updateOne({ _id: 2 }, { $inc: { v: 1 } }),
    ]);
    // Queued after the first batch left: sent on its own, not lost, not merged into a batch already sent.
    await new Promise((resolve) => setImmediate(resolve));
    const late = batcher.updateOne({ _id: 3 }, { $inc: { v: 1 } });
    await Promise.all([first, late]);
    expect(namesOf(commands).sort()).toEqual(['bulkWrite', 'update']);
    const stored = await collection.find({}, { sort: { _id: 1 } }).toArray();
    expect(stored.map((doc) => doc.v)).toEqual([1, 1, 1, 1]);
  });

  it('on a server without bulkWrite (MongoDB 7.0) sends every update alone, with the same outcomes', () =>
    withFailPointServer(async (monitored, collection) => {
      const batcher = new WriteBatcher(monitored.client, collection);
      const round = () =>
        Promise.all([
          batcher.updateOne({ _id: 0 }, { $inc: { v: 1 } }),
          batcher.updateOne({ _id: 1, v: 42 }, { $inc: { v: 1 } }),
          batcher.updateOne({ _id: 2 }, { $inc: { v: 1 } }),
        ]);

      expect(await round()).toEqual([
        { matched: 1, modified: 1 },
        { matched: 0, modified: 0 },
        { matched: 1, modified: 1 },
      ]);
      expect(namesOf(monitored.commands)).toEqual(['bulkWrite', 'update', 'update', 'update']);
      // Learnt once: the next round does not try bulkWrite again.
      monitored.commands.length = 0;
      await round();
      expect(namesOf(monitored.commands)).toEqual(['update', 'update', 'update']);
      expect((await collection.find({}, { sort: { _id: 1 } }).toArray()).map((doc) => doc.v)).toEqual([
        2, 0, 2,
      ]);
    }, '7.0'));
});

describe('WriteBatcher on a flaky connection', () => {
  it('resends a batch whose connection dropped, once, and reports each outcome', () =>
    withFailPointServer(async (monitored, collection) => {
      await monitored.client.db('admin').command({
        configureFailPoint: 'failCommand',
        mode: { times: 1 },
        data: { failCommands: ['bulkWrite'], closeConnection: true },
      });
      monitored.commands.length = 0;
      const batcher = new WriteBatcher(monitored.client, collection);
      const outcomes = await Promise.all([
        batcher.updateOne({ _id: 0, v: 0 }, { $inc: { v: 1 } }),
        batcher.updateOne({ _id: 1, v: 5 }, { $inc: { v: 1 } }),
        batcher.updateOne({ _id: 2, v: 0 }, { $inc: { v: 1 } }),
      ]);

      expect(outcomes).toEqual([
        { matched: 1, modified: 1 },
        { matched: 0, modified: 0 },
        { matched: 1, modified: 1 },
      ]);
      expect(namesOf(monitored.commands)).toEqual(['bulkWrite', 'bulkWrite']);
      expect((await collection.find({}, { sort: { _id: 1 } }).toArray()).map((doc) => doc.v)).toEqual([
        1, 0, 1,
      ]);
    }));
});

describe('SagaStore: one write per attempt', () => {
  const probe = defineSaga({
    name: 'probe',
    trigger: { collection: 'orders', on: ['insert'] },
    input: z.object({ _id: z.string(), customer: z.string() }),
  })
    .step({ name: 'first', run: () => Promise.resolve(null) })
    .step({ name: 'second', run: () => Promise.resolve(null) })
    .step({ name: 'third', run: () => Promise.resolve(null) })
    .build();

  async function runningSaga(): Promise<{
    store: SagaStore;
    saga: SagaDocument;
    ref: (step: number) => StepJobRef;
  }> {
    const store = new SagaStore(client.db(uniqueName('claims')));
    const saga = await newSagaDocument(probe, {
      ns: { db: 'shop', coll: 'orders' },
      documentKey: { _id: 'o-1' },
      operationType: 'insert',
      document: { _id: 'o-1', customer: 'c-1' },
    });
    await store.insertMany([saga]);
    commands.length = 0;
    const ref = (step: number): StepJobRef => ({
      sagaId: saga._id,
      saga: probe.name,
      phase: 'forward',
      step,
      stepName: probe.steps[step]!.name,
      attempt: 1,
      generation: 0,
    });
    return { store, saga, ref };
  }

  const stored = (store: SagaStore, id: string) =>
    store.collection.findOne({ _id: id }, { projection: { history: 0 } });

  it("the result write is the step's only write: it schedules the next step, and the copy kept holds what MongoDB holds", async () => {
    const { store, saga, ref } = await runningSaga();
    const snapshot = (await store.getForStep(saga._id))!;
    expect(namesOf(commands)).toEqual(['find']);
    const output = {
      at: new Date(1_700_000_000_000),
      id: new ObjectId('64b7f0a2c3d4e5f601234567'),
      amount: Decimal128.fromString('10.25'),
      big: Long.fromString('9007199254740993'),
      nothing: undefined,
      list: [1, 'two', { three: 3 }],
    };
    const startedAt = new Date(Date.now() - 50);
    commands.length = 0;
    expect(await store.completeStep(ref(0), output, nextOf(0), startedAt, snapshot)).toBe(true);
    expect(namesOf(commands)).toEqual(['update']);
    const after = (await stored(store, saga._id))!;
    expect(BSON.serialize(snapshot)).toEqual(BSON.serialize(after));
    expect(after.steps[0]).toMatchObject({
      status: 'completed',
      attempts: 1,
      startedAt,
      attemptStartedAt: startedAt,
    });
    expect(after.steps[1]).toMatchObject({ status: 'scheduled', attempts: 1 });

    // The next attempt records its outcome the same way, against the scheduled step.
    commands.length = 0;
    expect(await store.completeStep(ref(1), 'two', nextOf(1), new Date(), snapshot)).toBe(true);
    expect(namesOf(commands)).toEqual(['update']);
    expect(snapshot).toEqual(await stored(store, saga._id));
  });

  it("a retry is scheduled by the failed attempt's own write, and the retry's outcome matches it", async () => {
    const { store, saga, ref } = await runningSaga();
    const first = new Date(Date.now() - 100);
    const error = { message: 'boom', code: 'STEP_FAILED' };
    expect(await store.scheduleStepRetry(ref(0), error, false, new Date(Date.now() + 10), first)).toBe(true);
    expect((await stored(store, saga._id))!.steps[0]).toMatchObject({ status: 'retrying', attempts: 1 });
    // The same attempt cannot record a second outcome; the next one can.
    expect(await store.completeStep(ref(0), null, nextOf(0), new Date())).toBe(false);
    const second = new Date();
    expect(await store.completeStep({ ...ref(0), attempt: 2 }, null, nextOf(0), second)).toBe(true);
    expect((await stored(store, saga._id))!.steps[0]).toMatchObject({
      status: 'completed',
      attempts: 2,
      startedAt: first,
      attemptStartedAt: second,
    });
  });

  it('a stale attempt records nothing', async () => {
    const { store, ref } = await runningSaga();
    expect(await store.completeStep(ref(0), null, nextOf(0), new Date())).toBe(true);
    expect(await store.completeStep(ref(2), null, nextOf(2), new Date())).toBe(false);
    expect(await store.completeStep(ref(0), null, nextOf(0), new Date())).toBe(false);
    expect(await store.completeStep({ ...ref(1), attempt: 2 }, null, nextOf(1), new Date())).toBe(false);
  });
});
