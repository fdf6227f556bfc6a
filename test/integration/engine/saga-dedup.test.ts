// One saga per (saga, key) with ids derived from both: concurrent starters and replays, sagas an earlier version
// stored under random ids (with and without the unique {saga, key} index those versions made), and the one-time
// check that tells whether the key lookups for such sagas are needed at all.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SagaClient } from '../../../src/client/index.js';
import { defineSaga, SagaRegistry, type SagaDefinition } from '../../../src/definition/index.js';
import { newSagaDocument } from '../../../src/engine/new-saga.js';
import { SagaStarter } from '../../../src/engine/saga-starter.js';
import type { TriggerEvent } from '../../../src/engine/trigger-event.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { sagaIdFor } from '../../../src/model/saga-id.js';
import { scheduledStepRefs } from '../../../src/model/scheduled-attempt.js';
import { LEGACY_RECHECK_MS } from '../../../src/store/legacy-saga-ids.js';
import { SagaStore } from '../../../src/store/saga-store.js';
import { legacySagaId } from '../../legacy-saga-id.js';
import { mongoUrl, redisUrl } from '../helpers.js';
import { sagasOf, triggerTestHooks, type TriggerTestContext } from '../trigger/trigger-test-kit.js';

const { context, onCleanup } = triggerTestHooks();

const orders = defineSaga({
  name: 'orders',
  trigger: { collection: 'orders' },
  input: z.object({ _id: z.string(), customer: z.string() }),
  steps: [{ name: 'charge', run: () => Promise.resolve({ charged: true }) }],
});

function eventOf(test: TriggerTestContext, id: string, customer = 'c1'): TriggerEvent {
  return {
    document: { _id: id, customer },
    documentKey: { _id: id },
    ns: { db: test.db.databaseName, coll: 'orders' },
    operationType: 'insert',
  };
}

/** A starter as one watcher process has it: its own store (and so its own legacy-id check). */
function starterOf(test: TriggerTestContext, store = new SagaStore(test.db)): SagaStarter {
  return new SagaStarter(store, test.queues, test.logger);
}

/** The saga an earlier version stored for `id`: the same document, under a random id. */
async function legacySaga(
  test: TriggerTestContext,
  definition: SagaDefinition,
  id: string,
  createdAt = new Date(),
): Promise<SagaDocument> {
  const saga = await newSagaDocument(definition, eventOf(test, id), createdAt);
  return { ...saga, _id: legacySagaId(createdAt.getTime()) };
}

interface IndexInfo {
  name: string;
  key: Record<string, unknown>;
  unique?: boolean;
}

async function indexesOf(test: TriggerTestContext): Promise<IndexInfo[]> {
  return (await test.db.collection('sagas').listIndexes().toArray()) as IndexInfo[];
}

describe('saga ids derived from (saga, key)', () => {
  it('two watchers starting the same keys at once, then a replay, store one saga per key', async () => {
    const test = await context('dedup-race');
    await new SagaStore(test.db).ensureIndexes();
    const events = ['o-1', 'o-2', 'o-3', 'o-4'].map((id) => eventOf(test, id));
    const [first, second] = await Promise.all([
      starterOf(test).start(orders, events),
      starterOf(test).start(orders, events),
    ]);
    expect(first.started + second.started).toBe(events.length);
    expect(first.duplicates + second.duplicates).toBe(events.length);
    // A replay later (an older resume token, a backfill) meets the same ids.
    const replay = await starterOf(test).start(orders, [
      ...events.map((event) => ({ ...event, operationType: 'update' as const })),
    ]);
    expect(replay).toMatchObject({ started: 0, duplicates: events.length });

    const sagas = await sagasOf(test.db, orders.name);
    expect(sagas.map((saga) => saga._id).sort()).toEqual(
      ['o-1', 'o-2', 'o-3', 'o-4'].map((key) => sagaIdFor(orders.name, key)).sort(),
    );
    // The {saga, key} index is a plain one now: `_id` is what refused the second sagas.
    const keyIndex = (await indexesOf(test)).find((index) => index.name === 'saga_key');
    expect(keyIndex).toMatchObject({ key: { saga: 1, key: 1 } });
    expect(keyIndex?.unique).toBeUndefined();
  });

  it('a replayed trigger of a saga stored under a legacy id starts no second saga, and requeues it if it never began', async () => {
    const test = await context('dedup-legacy');
    const store = new SagaStore(test.db);
    await store.ensureIndexes();
    // An earlier version's sagas, in a database whose unique {saga, key} index is gone (dropped before sharding).
    const begun = await legacySaga(test, orders, 'o-1', new Date(Date.now() - 60_000));
    begun.steps[0] = { ...begun.steps[0]!, status: 'completed', attempts: 1 };
    begun.status = 'completed';
    const notBegun = await legacySaga(test, orders, 'o-2', new Date(Date.now() - 60_000));
    await store.collection.insertMany([begun, notBegun]);

    const outcome = await starterOf(test).start(orders, [
      eventOf(test, 'o-1'),
      eventOf(test, 'o-2'),
      eventOf(test, 'o-3'),
    ]);
    expect(outcome).toMatchObject({ started: 1, duplicates: 2 });
    const sagas = await sagasOf(test.db, orders.name);
    expect(Object.fromEntries(sagas.map((saga) => [saga.key, saga._id]))).toEqual({
      'o-1': begun._id,
      'o-2': notBegun._id,
      'o-3': sagaIdFor(orders.name, 'o-3'),
    });
    // The watcher that stored `o-2` may have died before queueing its first step: the replay queued it.
    const firstStep = scheduledStepRefs(notBegun)[0]!;
    expect(await test.queues.hasStepJob(firstStep)).toBe(true);
    expect(await test.queues.hasStepJob({ ...firstStep, sagaId: begun._id })).toBe(false);

    // Lookups by key still find them; a `start` from code with the key returns the legacy saga.
    expect((await store.findByKey(orders.name, 'o-1'))?._id).toBe(begun._id);
    const client = await SagaClient.connect({
      mongodbUrl: mongoUrl(),
      redisUrl: redisUrl(),
      database: test.db.databaseName,
      queuePrefix: test.queuePrefix,
      sagas: new SagaRegistry([orders]),
    });
    onCleanup(() => client.close());
    const started = await client.start(orders.name, { _id: 'o-1', customer: 'c2' }, { key: 'o-1' });
    expect(started).toMatchObject({ id: begun._id, created: false });
    expect(await sagasOf(test.db, orders.name)).toHaveLength(3);
  });

  it('keeps working on a database that has the unique {saga, key} index of earlier versions', async () => {
    const test = await context('dedup-old-index');
    const sagas = test.db.collection<SagaDocument>('sagas');
    await sagas.createIndex({ saga: 1, key: 1 }, { name: 'saga_key_unique', unique: true });
    const store = new SagaStore(test.db);
    await store.ensureIndexes();
    await store.ensureIndexes();
    const names = (await indexesOf(test)).map((index) => index.name);
    expect(names).toContain('saga_key_unique');
    expect(names).not.toContain('saga_key');

    const legacy = await legacySaga(test, orders, 'o-1');
    await sagas.insertOne(legacy);
    const outcome = await starterOf(test).start(orders, [eventOf(test, 'o-1'), eventOf(test, 'o-2')]);
    expect(outcome).toMatchObject({ started: 1, duplicates: 1 });
    expect((await sagasOf(test.db, orders.name)).map((saga) => saga._id).sort()).toEqual(
      [legacy._id, sagaIdFor(orders.name, 'o-2')].sort(),
    );

    // A rolling upgrade: a process of an earlier version stores a saga after this one found no legacy ids. The
    // unique index refuses the derived-id insert, and `start` returns that saga.
    const upgraded = new SagaStore(test.db);
    await sagas.deleteMany({});
    expect(await upgraded.holdsLegacyIds()).toBe(false);
    const racing = await legacySaga(test, orders, 'o-3');
    await sagas.insertOne(racing);
    const { saga, created } = await starterOf(test, upgraded).startFromCode(orders, racing.input, 'o-3');
    expect({ id: saga._id, created }).toEqual({ id: racing._id, created: false });
  });

  it('asks once whether legacy ids remain: a no is final, a yes is asked again after an hour', async () => {
    const test = await context('dedup-legacy-check');
    let now = Date.parse('2030-01-01T00:00:00Z');
    const clock = () => now;
    const legacy = await legacySaga(test, orders, 'o-1');
    const fresh = new SagaStore(test.db, undefined, undefined, clock);
    expect(await fresh.holdsLegacyIds()).toBe(false);
    await fresh.collection.insertOne(legacy);
    // No process of this version stores a legacy id: the no stands (an earlier version's is met by its unique index).
    expect(await fresh.holdsLegacyIds()).toBe(false);

    const store = new SagaStore(test.db, undefined, undefined, clock);
    expect(await store.holdsLegacyIds()).toBe(true);
    await store.collection.deleteOne({ _id: legacy._id });
    expect(await store.holdsLegacyIds()).toBe(true);
    now += LEGACY_RECHECK_MS;
    expect(await store.holdsLegacyIds()).toBe(false);
  });
});
