// Default trigger keys against real servers: distinct `_id`s never share a saga, sagas stored under the first
// versions' keys still deduplicate replays, and schemas that are async or throw never stall a trigger.
import { ObjectId } from 'bson';
import type { Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga, type SagaDefinition } from '../../../src/definition/index.js';
import { newSagaDocument } from '../../../src/engine/new-saga.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { SagaStore } from '../../../src/store/saga-store.js';
import { legacySagaId } from '../../legacy-saga-id.js';
import { ORDERS_FILTER } from './fixtures/orders-saga.js';
import { sagasOf, triggerService, triggerTestHooks, type TriggerTestContext } from './trigger-test-kit.js';

const { context, started } = triggerTestHooks();

function ordersSaga(input: z.ZodType = z.object({ _id: z.unknown(), customer: z.string() })): SagaDefinition {
  return defineSaga({
    name: 'order-placed',
    trigger: { collection: 'orders', filter: ORDERS_FILTER },
    input,
    steps: [{ name: 'reserve-stock', run: () => Promise.resolve({ reserved: true }) }],
  });
}

function order(_id: unknown, overrides: Record<string, unknown> = {}): Document {
  return { _id, status: 'pending', total_amount: 10, customer: 'c1', ...overrides };
}

async function sagaCount(test: TriggerTestContext, saga: SagaDefinition): Promise<number> {
  return (await sagasOf(test.db, saga.name)).length;
}

/** The trigger `_id` of every saga, in canonical Extended JSON (so `1` and `'1'` stay apart). */
async function triggerIds(test: TriggerTestContext, saga: SagaDefinition): Promise<string[]> {
  const sagas = await sagasOf(test.db, saga.name);
  return sagas.map((doc) => JSON.stringify((doc.trigger?.documentKey as { _id: unknown })._id)).sort();
}

describe('default trigger keys', () => {
  it('gives 1 and "1", and an ObjectId and its hex string, a saga each', async () => {
    const test = await context('keys-distinct');
    const saga = ordersSaga();
    await started(triggerService(test, [saga]));
    const objectId = new ObjectId();
    const ids = [
      1,
      '1',
      objectId,
      objectId.toHexString(),
      new Date(0),
      new Date(0).toISOString(),
      true,
      'true',
    ];
    // One insert at a time: each is its own change event, as a service writing orders would produce.
    for (const _id of ids) await test.db.collection('orders').insertOne(order(_id));

    await expect.poll(() => sagaCount(test, saga), { timeout: 20_000 }).toBe(ids.length);
    const sagas = await sagasOf(test.db, saga.name);
    expect(new Set(sagas.map((doc) => doc.key)).size).toBe(ids.length);
    expect(sagas.every((doc) => doc.status === 'running')).toBe(true);
    expect(sagas.map((doc) => doc.key).sort()).toEqual(
      [
        '1',
        'number:1',
        objectId.toHexString(),
        `string:${objectId.toHexString()}`,
        'date:1970-01-01T00:00:00.000Z',
        '1970-01-01T00:00:00.000Z',
        'bool:true',
        'true',
      ].sort(),
    );
  });

  it("counts a saga stored under the first versions' key as the document's own, and only for its _id", async () => {
    const test = await context('keys-legacy');
    const saga = ordersSaga();
    const store = new SagaStore(test.db);
    await store.ensureIndexes();
    const orders = test.db.collection('orders');
    // Before the upgrade, _id 7 got the key "7" and the date its bare ISO form.
    const legacyNumber = order(7);
    const legacyDate = order(new Date(0));
    // "8" (a string) got the key "8" as well: it must not hide the number 8's saga.
    const stringEight = order('8');
    const numberEight = order(8);
    await orders.insertMany([legacyNumber, legacyDate, stringEight, numberEight]);
    const legacySagas: SagaDocument[] = [];
    for (const [document, key] of [
      [legacyNumber, '7'],
      [legacyDate, '1970-01-01T00:00:00.000Z'],
      [stringEight, '8'],
    ] as const) {
      const stored = await newSagaDocument(saga, {
        document,
        documentKey: { _id: document._id as unknown },
        ns: { db: test.db.databaseName, coll: 'orders' },
        operationType: 'insert',
      });
      // The first versions gave every saga a random id, not the one derived from its key.
      legacySagas.push({ ...stored, _id: legacySagaId(), key });
    }
    await store.insertMany(legacySagas);

    // A backfill scan replays every matching document: only the number 8 has no saga of its own yet.
    await started(triggerService(test, [saga], { backfill: true }));
    await expect.poll(() => sagaCount(test, saga), { timeout: 20_000 }).toBe(4);
    const sagas = await sagasOf(test.db, saga.name);
    expect(sagas.map((doc) => doc.key).sort()).toEqual(['1970-01-01T00:00:00.000Z', '7', '8', 'number:8']);
    expect(await triggerIds(test, saga)).toEqual(['"1970-01-01T00:00:00.000Z"', '"8"', '7', '8'].sort());
  });
});

describe('input schemas that are async or throw', () => {
  it('validates with async refinements, and rejects a document whose schema throws, then goes on', async () => {
    const test = await context('keys-validation');
    const saga = ordersSaga(
      z
        .object({ _id: z.unknown(), customer: z.string() })
        .refine(async (value) => Promise.resolve(value.customer !== 'blocked'), {
          error: 'customer is blocked',
        })
        .refine((value) => {
          if (value.customer === 'explode') throw new Error('lookup service down');
          return true;
        }),
    );
    await started(triggerService(test, [saga]));
    const orders = test.db.collection('orders');
    await orders.insertOne(order('a-ok'));
    await orders.insertOne(order('b-blocked', { customer: 'blocked' }));
    await orders.insertOne(order('c-throws', { customer: 'explode' }));
    await orders.insertOne(order('d-after'));

    await expect.poll(() => sagaCount(test, saga), { timeout: 20_000 }).toBe(4);
    const byKey = new Map((await sagasOf(test.db, saga.name)).map((doc) => [doc.key, doc]));
    expect(byKey.get('a-ok')?.status).toBe('running');
    expect(byKey.get('d-after')?.status).toBe('running');
    const blocked = byKey.get('b-blocked')!;
    expect(blocked.status).toBe('rejected');
    expect(blocked.validationIssues).toEqual([{ path: '(root)', message: 'customer is blocked' }]);
    const threw = byKey.get('c-throws')!;
    expect(threw.status).toBe('rejected');
    expect(threw.validationIssues).toEqual([
      { path: '(root)', message: 'the schema threw: lookup service down' },
    ]);
    expect(await test.queues.hasDeadLetter(threw._id, 0)).toBe(true);
    expect(await test.queues.hasDeadLetter(blocked._id, 0)).toBe(true);
  });
});
