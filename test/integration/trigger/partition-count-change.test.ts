// Changing a trigger's partition count: the new partitions start where the previous layout left each share, so
// the documents written while no watcher ran get their sagas, without a scan and without replaying old events.
import { describe, expect, it } from 'vitest';
import type { CheckpointDocument } from '../../../src/trigger/checkpoint-store.js';
import type { TriggerService } from '../../../src/trigger/trigger-service.js';
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

const { context, onCleanup } = triggerTestHooks();

/** Starts a service and waits until every one of its watchers leads and has saved a checkpoint. */
async function streaming(test: TriggerTestContext, service: TriggerService): Promise<TriggerService> {
  onCleanup(() => service.stop());
  await service.start();
  const ids = service.status().watchers.map((watcher) => watcher.leaseId);
  await expect
    .poll(() => service.status().watchers.every((watcher) => watcher.state === 'active'), {
      message: 'every watcher active',
    })
    .toBe(true);
  await expect
    .poll(
      async () =>
        (await test.db
          .collection<CheckpointDocument>('checkpoints')
          .countDocuments({ _id: { $in: ids } })) === ids.length,
      { message: 'a checkpoint per watcher' },
    )
    .toBe(true);
  return service;
}

function totals(service: TriggerService) {
  const { watchers } = service.status();
  const sum = (field: 'started' | 'duplicates' | 'scanned') =>
    watchers.reduce((total, watcher) => total + watcher[field], 0);
  return { started: sum('started'), duplicates: sum('duplicates'), scanned: sum('scanned') };
}

describe('changing trigger.partitions', () => {
  it('from 1 to 3 and from 3 to 2 misses nothing written between the layouts and replays next to nothing', async () => {
    const test = await context('partition-change');
    const orders = ordersOf(test.db);
    const name = 'order-placed';

    const single = await streaming(test, triggerService(test, [ordersSaga(name)]));
    const first = Array.from({ length: 30 }, () => order());
    await orders.insertMany(first);
    await waitForSagaCount(test.db, name, 30);
    await single.stop();

    // Written while no watcher runs: the new partitions must still start them.
    const between = Array.from({ length: 30 }, () => order());
    await orders.insertMany(between);
    const three = await streaming(test, triggerService(test, [ordersSaga(name, { partitions: 3 })]));
    expect(three.status().watchers.map((watcher) => watcher.partition)).toEqual(['0/3', '1/3', '2/3']);
    await waitForSagaCount(test.db, name, 60);
    const afterThree = totals(three);
    // Each share started from the old checkpoint: the 30 new ones, no scan, and not the 30 before replayed.
    expect(afterThree.started).toBe(30);
    expect(afterThree.scanned).toBe(0);
    expect(afterThree.duplicates).toBeLessThan(5);
    const more = Array.from({ length: 30 }, () => order());
    await orders.insertMany(more);
    await waitForSagaCount(test.db, name, 90);
    await three.stop();

    const between2 = Array.from({ length: 20 }, () => order());
    await orders.insertMany(between2);
    const two = await streaming(test, triggerService(test, [ordersSaga(name, { partitions: 2 })]));
    await waitForSagaCount(test.db, name, 110);
    const last = Array.from({ length: 20 }, () => order());
    await orders.insertMany(last);
    await waitForSagaCount(test.db, name, 130);
    const afterTwo = totals(two);
    expect(afterTwo.started).toBe(40);
    expect(afterTwo.scanned).toBe(0);
    expect(afterTwo.duplicates).toBeLessThan(5);

    const sagas = await sagasOf(test.db, name);
    expect(keysWithMoreThanOneSaga(sagas)).toEqual([]);
    expect(new Set(sagas.map((saga) => saga.key))).toEqual(
      new Set([...first, ...between, ...more, ...between2, ...last].map((document) => document._id)),
    );
  }, 60_000);
});
