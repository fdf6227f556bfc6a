// Lost change-stream history and invalidated streams: the watcher logs an error, scans the collection so every
// matching document gets its saga, and watches on.
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedMongoServer, type EmbeddedMongoServer } from '../../../src/embedded/index.js';
import type { CheckpointDocument } from '../../../src/trigger/checkpoint-store.js';
import type { TriggerService } from '../../../src/trigger/trigger-service.js';
import { ordersSaga } from './fixtures/orders-saga.js';
import {
  createTriggerContext,
  keysWithMoreThanOneSaga,
  order,
  ordersOf,
  triggerService,
  waitForSagaCount,
  type TriggerTestContext,
} from './trigger-test-kit.js';

let server: EmbeddedMongoServer;
let client: MongoClient;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  // A tiny history, so a watcher that was down for a while finds its resume token gone.
  server = await startEmbeddedMongoServer({ historySize: 50, enableTestCommands: true });
  client = new MongoClient(server.uri);
  await client.connect();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await client.close();
  await server.stop();
});

async function started(
  test: TriggerTestContext,
  saga = ordersSaga(),
  watcherDb = test.db,
): Promise<TriggerService> {
  const service = triggerService({ ...test, db: watcherDb }, [saga]);
  cleanups.push(() => service.stop());
  await service.start();
  await expect
    .poll(() => test.db.collection<CheckpointDocument>('checkpoints').countDocuments(), {
      message: 'the stream to open',
    })
    .toBe(1);
  return service;
}

describe('trigger watcher recovery', () => {
  it('reconciles by scanning when its resume token has fallen out of the history', async () => {
    const test = await createTriggerContext(client, 'trigger-e');
    cleanups.push(() => test.close());
    const saga = ordersSaga();
    const first = await started(test, saga);
    const orders = ordersOf(test.db);
    await orders.insertMany([order(), order()]);
    await waitForSagaCount(test.db, saga.name, 2);
    await first.stop();

    // Far more writes than the history holds while nobody watches.
    const matching = Array.from({ length: 60 }, () => order());
    for (const doc of [...matching, ...Array.from({ length: 60 }, () => order({ status: 'shipped' }))]) {
      await orders.insertOne(doc);
    }

    const second = await started(test, saga);
    const sagas = await waitForSagaCount(test.db, saga.name, 62);
    expect(sagas).toHaveLength(62);
    expect(keysWithMoreThanOneSaga(sagas)).toEqual([]);
    await expect
      .poll(() => second.status().watchers[0]!.reconciles, { message: 'a reconcile' })
      .toBeGreaterThan(0);
    expect(second.status().watchers[0]!.reconciles).toBe(1);
    expect(test.logLines.some((line) => line.level === 50 && String(line.msg).includes('reconciling'))).toBe(
      true,
    );

    // Then it watches on from now.
    await orders.insertOne(order());
    expect(await waitForSagaCount(test.db, saga.name, 63)).toHaveLength(63);
  });

  it('continues after its collection is dropped and recreated, scanning what is there', async () => {
    const test = await createTriggerContext(client, 'trigger-drop');
    cleanups.push(() => test.close());
    const saga = ordersSaga();
    const service = await started(test, saga);
    const orders = ordersOf(test.db);
    await orders.insertOne(order());
    await waitForSagaCount(test.db, saga.name, 1);

    await orders.drop();
    await orders.insertMany([order(), order()]);
    await waitForSagaCount(test.db, saga.name, 3);
    await expect
      .poll(() => service.status().watchers[0]!.reconciles, { message: 'a reconcile' })
      .toBeGreaterThanOrEqual(1);
    expect(test.logLines.some((line) => line.level === 50 && String(line.msg).includes('invalidated'))).toBe(
      true,
    );

    await orders.insertOne(order());
    const sagas = await waitForSagaCount(test.db, saga.name, 4);
    expect(keysWithMoreThanOneSaga(sagas)).toEqual([]);
    // Past the invalidate, checkpoints are ordinary tokens again (resumeAfter works from them).
    await expect
      .poll(
        async () => (await test.db.collection<CheckpointDocument>('checkpoints').findOne({}))?.invalidated,
        {
          message: 'a checkpoint past the invalidate',
        },
      )
      .toBe(false);
  });

  it('retries failed reads and saga inserts and still starts each saga exactly once', async () => {
    const test = await createTriggerContext(client, 'trigger-retry');
    cleanups.push(() => test.close());
    // The watcher's own connection, so a fail point can target its commands and not the test's.
    const watcherClient = new MongoClient(server.uri, { appName: 'flaky-watcher' });
    await watcherClient.connect();
    cleanups.push(() => watcherClient.close());
    const saga = ordersSaga();
    const service = await started(test, saga, watcherClient.db(test.db.databaseName));

    await client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 4 },
      data: { failCommands: ['getMore', 'insert'], errorCode: 2, appName: 'flaky-watcher' },
    });
    const docs = Array.from({ length: 5 }, () => order());
    await ordersOf(test.db).insertMany(docs);
    const sagas = await waitForSagaCount(test.db, saga.name, 5);
    expect(sagas.map((doc) => doc.key).sort()).toEqual(docs.map((doc) => doc._id).sort());
    expect(service.status().watchers[0]!.lastError).not.toBeNull();

    await ordersOf(test.db).insertOne(order());
    expect(keysWithMoreThanOneSaga(await waitForSagaCount(test.db, saga.name, 6))).toEqual([]);
  });
});
