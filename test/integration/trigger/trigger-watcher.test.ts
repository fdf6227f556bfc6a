// The trigger watcher against real servers: one saga per matching document, across restarts and replays.
import { describe, expect, it } from 'vitest';
import type { CheckpointDocument } from '../../../src/trigger/checkpoint-store.js';
import type { LeaseDocument } from '../../../src/store/lease.js';
import { ordersSaga } from './fixtures/orders-saga.js';
import {
  keysWithMoreThanOneSaga,
  order,
  ordersOf,
  sagasOf,
  triggerService,
  triggerTestHooks,
  waitForSagaCount,
  type TriggerTestContext,
} from './trigger-test-kit.js';

const { context, started, onCleanup } = triggerTestHooks();

/** The watcher has opened its stream once a checkpoint exists (it saves one right after opening from now). */
function checkpointOf(test: TriggerTestContext, saga: string): Promise<CheckpointDocument | null> {
  return test.db.collection<CheckpointDocument>('checkpoints').findOne({ _id: `trigger:${saga}` });
}

async function streamOpened(test: TriggerTestContext, saga: string): Promise<CheckpointDocument> {
  let checkpoint = null as CheckpointDocument | null;
  await expect
    .poll(async () => (checkpoint = await checkpointOf(test, saga)), { message: 'a checkpoint' })
    .not.toBeNull();
  return checkpoint!;
}

describe('trigger watcher', () => {
  it('starts exactly one saga per matching insert, none for others, and rejects invalid input', async () => {
    const test = await context('trigger-a');
    const saga = ordersSaga();
    await started(triggerService(test, [saga]));
    await streamOpened(test, saga.name);
    const orders = ordersOf(test.db);

    const matching = [order(), order(), order({ total_amount: 99.5 })];
    const nonMatching = [
      order({ status: 'shipped' }),
      order({ total_amount: 0 }),
      order({ total_amount: -5 }),
    ];
    const invalid = order({ customer: undefined });
    await orders.insertMany([...matching, ...nonMatching]);
    await orders.insertOne(invalid);
    // Events arrive in order: once the last insert has its saga, every earlier event was handled.
    const sentinel = order();
    await orders.insertOne(sentinel);
    const sagas = await waitForSagaCount(test.db, saga.name, 5);

    expect(sagas.map((doc) => doc.key).sort()).toEqual(
      [...matching, invalid, sentinel].map((doc) => String(doc._id)).sort(),
    );
    const rejected = sagas.filter((doc) => doc.status === 'rejected');
    expect(rejected.map((doc) => doc.key)).toEqual([invalid._id]);
    expect(rejected[0]?.validationIssues?.map((issue) => issue.path)).toEqual(['customer']);
    expect(await test.queues.hasDeadLetter(rejected[0]!._id, 0)).toBe(true);
    // First steps are queued for the running sagas.
    for (const running of sagas.filter((doc) => doc.status === 'running')) {
      const ref = {
        sagaId: running._id,
        saga: saga.name,
        phase: 'forward' as const,
        step: 0,
        stepName: 'reserve-stock',
        attempt: 1,
        generation: 0,
      };
      expect(await test.queues.hasStepJob(ref)).toBe(true);
    }
    // Later changes of a started document (not an insert) and non-matching inserts start nothing.
    await orders.updateOne({ _id: matching[0]!._id }, { $set: { note: 'x' } });
    await orders.insertOne(order({ status: 'shipped' }));
    const lastSentinel = order();
    await orders.insertOne(lastSentinel);
    const after = await waitForSagaCount(test.db, saga.name, 6);
    expect(after.map((doc) => doc.key).sort()).toEqual(
      [...sagas.map((doc) => doc.key), lastSentinel._id].sort(),
    );
  });

  it('resumes from its checkpoint after a restart and starts the sagas missed while it was down', async () => {
    const test = await context('trigger-b');
    const saga = ordersSaga();
    const first = await started(triggerService(test, [saga]));
    await streamOpened(test, saga.name);
    const orders = ordersOf(test.db);
    await orders.insertMany([order(), order(), order()]);
    await waitForSagaCount(test.db, saga.name, 3);
    await first.stop();
    expect(first.status().watchers[0]?.state).toBe('stopped');

    const whileDown = [order(), order(), order(), order()];
    await orders.insertMany([...whileDown, order({ status: 'cancelled' })]);

    const second = await started(triggerService(test, [saga]));
    const sagas = await waitForSagaCount(test.db, saga.name, 7);
    await expect
      .poll(() => second.status().watchers[0]!.started, { message: 'the sagas missed while down' })
      .toBeGreaterThanOrEqual(4);
    // The final checkpoint of the first run covered its events: nothing was replayed.
    expect(second.status().watchers[0]!.duplicates).toBe(0);
    expect(keysWithMoreThanOneSaga(sagas)).toEqual([]);
    await orders.insertOne(order());
    expect(await waitForSagaCount(test.db, saga.name, 8)).toHaveLength(8);
  });

  it('replaying the same events from an older resume token still leaves one saga per document', async () => {
    const test = await context('trigger-c');
    const saga = ordersSaga();
    const first = await started(triggerService(test, [saga]));
    const early = await streamOpened(test, saga.name);
    const orders = ordersOf(test.db);
    const docs = Array.from({ length: 10 }, () => order());
    await orders.insertMany(docs);
    await waitForSagaCount(test.db, saga.name, 10);
    await first.stop();

    const checkpoints = test.db.collection<CheckpointDocument>('checkpoints');
    const latest = await checkpointOf(test, saga.name);
    expect(latest?.resumeToken).not.toEqual(early.resumeToken);
    await checkpoints.updateOne({ _id: early._id }, { $set: { resumeToken: early.resumeToken } });

    const second = await started(triggerService(test, [saga]));
    await expect
      .poll(() => second.status().watchers[0]!.duplicates, { message: 'the replayed events' })
      .toBeGreaterThanOrEqual(10);
    expect(second.status().watchers[0]!.started).toBe(0);
    const sagas = await sagasOf(test.db, saga.name);
    expect(sagas).toHaveLength(10);
    expect(keysWithMoreThanOneSaga(sagas)).toEqual([]);
  });

  it('backfills existing matching documents only when asked to', async () => {
    const test = await context('trigger-f');
    const orders = ordersOf(test.db);
    const existing = [order(), order(), order(), order({ customer: 42 })];
    await orders.insertMany([...existing, order({ status: 'shipped' })]);

    const withoutBackfill = ordersSaga('no-backfill');
    const withBackfill = ordersSaga('with-backfill');
    const service = await started(triggerService(test, [withoutBackfill]));
    await streamOpened(test, withoutBackfill.name);
    await orders.insertOne(order());
    await waitForSagaCount(test.db, withoutBackfill.name, 1);
    await service.stop();

    const backfilling = triggerService(test, [withBackfill], { backfill: true, batchSize: 2 });
    onCleanup(() => backfilling.stop());
    await backfilling.start();
    const later = order();
    await orders.insertOne(later);
    const sagas = await waitForSagaCount(test.db, withBackfill.name, 6);
    // Documents that existed before the stream opened can only have come from the scan.
    const preExisting = sagas.filter((doc) => doc.key !== later._id);
    expect(preExisting).toHaveLength(5);
    expect(preExisting.every((doc) => doc.trigger?.operationType === 'backfill')).toBe(true);
    expect(sagas.filter((doc) => doc.status === 'rejected').map((doc) => doc.key)).toEqual([
      existing[3]!._id,
    ]);
    expect(keysWithMoreThanOneSaga(sagas)).toEqual([]);
    expect(await sagasOf(test.db, withoutBackfill.name)).toHaveLength(1);
  });

  it('stands down as soon as its lease is taken and takes over again once that lease expires', async () => {
    const test = await context('trigger-steal');
    const saga = ordersSaga();
    const service = await started(triggerService(test, [saga]));
    await streamOpened(test, saga.name);
    const ourToken = service.status().watchers[0]!.fencingToken!;
    // Another process takes the lease (as if ours had expired during a long pause).
    await test.db
      .collection<LeaseDocument>('leases')
      .updateOne(
        { _id: `trigger:${saga.name}` },
        { $set: { holder: 'intruder', expiresAt: new Date(Date.now() + 3_000) }, $inc: { fencingToken: 1 } },
      );
    await expect
      .poll(() => service.status().watchers[0]!.state, { message: 'standing down' })
      .toBe('standby');

    const docs = [order(), order(), order()];
    await ordersOf(test.db).insertMany(docs);
    // The intruder never watches; after its lease expires ours is taken again and resumes from the checkpoint.
    const sagas = await waitForSagaCount(test.db, saga.name, 3);
    expect(sagas.map((doc) => doc.key).sort()).toEqual(docs.map((doc) => doc._id).sort());
    const status = service.status().watchers[0]!;
    expect(status.state).toBe('active');
    expect(status.fencingToken).toBeGreaterThan(ourToken + 1);
  });

  it('starts sagas on updates that make a document match, looking the document up', async () => {
    const test = await context('trigger-u');
    const saga = ordersSaga('order-updated', { on: ['insert', 'update'] });
    await started(triggerService(test, [saga]));
    await streamOpened(test, saga.name);
    const orders = ordersOf(test.db);
    const draft = order({ status: 'draft' });
    await orders.insertOne(draft);
    await orders.updateOne({ _id: draft._id }, { $set: { status: 'pending' } });
    await orders.updateOne({ _id: draft._id }, { $set: { total_amount: 20 } });
    const sentinel = order();
    await orders.insertOne(sentinel);
    const sagas = await waitForSagaCount(test.db, saga.name, 2);
    expect(sagas.map((doc) => doc.key).sort()).toEqual([draft._id, sentinel._id].sort());
    expect(sagas.find((doc) => doc.key === draft._id)?.trigger?.operationType).toBe('update');
  });
});
