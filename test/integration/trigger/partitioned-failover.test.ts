// A hot trigger split in 3 partitions, followed by 3 watcher processes: the partitions spread one per process,
// each checkpoints on its own, and killing (SIGKILL) or stopping (SIGTERM) holders mid-stream moves only their
// partitions; every document inserted throughout starts exactly one saga.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Db } from 'mongodb';
import { describe, expect, it } from 'vitest';
import type { LeaseDocument } from '../../../src/store/lease.js';
import type { CheckpointDocument } from '../../../src/trigger/checkpoint-store.js';
import { mongoUrl, redisUrl, uniqueName } from '../helpers.js';
import {
  keysWithMoreThanOneSaga,
  mongoAndChildProcesses,
  order,
  ordersOf,
  sagasOf,
} from './trigger-test-kit.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/watcher-process.ts', import.meta.url));
const LEASES = [0, 1, 2].map((index) => `trigger:order-placed#${index}/3`);

interface WatcherProcess {
  holder: string;
  child: ChildProcess;
  /** Each partition's watcher state in that process, by lease id, as last reported. */
  leases: Record<string, string>;
  exited: boolean;
}

const { mongo, children } = mongoAndChildProcesses();

function startWatcherProcess(holder: string, env: Record<string, string>): WatcherProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...env, HOLDER_ID: holder },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const watcher: WatcherProcess = { holder, child, leases: {}, exited: false };
  createInterface({ input: child.stdout }).on('line', (line) => {
    watcher.leases = (JSON.parse(line) as { leases: Record<string, string> }).leases;
  });
  child.once('exit', () => {
    watcher.exited = true;
    watcher.leases = {};
  });
  return watcher;
}

/** For each partition, the live processes whose watcher of it is active. */
function activeHolders(watchers: readonly WatcherProcess[]): string[][] {
  return LEASES.map((lease) =>
    watchers.filter((watcher) => !watcher.exited && watcher.leases[lease] === 'active').map((w) => w.holder),
  );
}

/** How many partitions each live process leads, highest first. */
function spread(watchers: readonly WatcherProcess[]): number[] {
  return watchers
    .filter((watcher) => !watcher.exited)
    .map((watcher) => LEASES.filter((lease) => watcher.leases[lease] === 'active').length)
    .sort()
    .reverse();
}

async function leaseOf(db: Db, lease: string): Promise<LeaseDocument | null> {
  return db.collection<LeaseDocument>('leases').findOne({ _id: lease });
}

describe('a trigger with 3 partitions and 3 watcher processes', () => {
  it('spreads the partitions, fails over per partition and starts every document once', async () => {
    const dbName = uniqueName('partitioned');
    const db = mongo().db(dbName);
    const env = {
      MONGODB_URL: mongoUrl(),
      REDIS_URL: redisUrl(),
      TEST_DB: dbName,
      QUEUE_PREFIX: uniqueName('partitioned-q'),
      LEASE_TTL_MS: '2000',
      PARTITIONS: '3',
    };
    // One process first: it leads all 3 until others come and ask for theirs.
    const watchers = [startWatcherProcess('watcher-a', env)];
    await expect
      .poll(() => spread(watchers), { timeout: 30_000, message: 'the first process to lead all 3' })
      .toEqual([3]);
    watchers.push(startWatcherProcess('watcher-b', env), startWatcherProcess('watcher-c', env));
    await expect
      .poll(() => spread(watchers), { timeout: 30_000, message: 'one partition per process' })
      .toEqual([1, 1, 1]);
    await expect
      .poll(() => db.collection<CheckpointDocument>('checkpoints').distinct('_id'), {
        message: 'a checkpoint per partition',
      })
      .toEqual(LEASES);

    // Orders keep coming throughout, paced so the watchers work mid-stream while holders die.
    const orders = ordersOf(db);
    const insertedIds: string[] = [];
    let inserting = true;
    const producer = (async () => {
      while (inserting) {
        const batch = Array.from({ length: 5 }, () => order());
        await orders.insertMany(batch);
        insertedIds.push(...batch.map((document) => document._id));
        // About 50 orders a second: steady work without starving the tests that share the server.
        await sleep(100);
      }
    })();
    try {
      const sagaCount = async () => (await sagasOf(db, 'order-placed')).length;
      await expect.poll(sagaCount, { timeout: 30_000, message: 'sagas started' }).toBeGreaterThan(30);

      // SIGKILL the holder of partition 0: only its partition moves, from its own checkpoint.
      const firstLease = await leaseOf(db, LEASES[0]!);
      const victim = watchers.find((watcher) => watcher.holder === firstLease!.holder)!;
      const othersBefore = activeHolders(watchers).filter((_, index) => index !== 0);
      victim.child.kill('SIGKILL');
      await once(victim.child, 'exit');
      await expect
        .poll(() => activeHolders(watchers)[0]!.length, {
          timeout: 30_000,
          message: 'a survivor to take partition 0 over',
        })
        .toBe(1);
      expect(activeHolders(watchers).filter((_, index) => index !== 0)).toEqual(othersBefore);
      const takenOver = await leaseOf(db, LEASES[0]!);
      expect(takenOver!.holder).not.toBe(victim.holder);
      expect(takenOver!.fencingToken).toBeGreaterThan(firstLease!.fencingToken);

      // Still streaming on every partition; then a holder of partition 1 stops gracefully.
      const before = await sagaCount();
      await expect
        .poll(sagaCount, { timeout: 30_000, message: 'sagas still starting' })
        .toBeGreaterThan(before + 20);
      const stopping = watchers.find(
        (watcher) => !watcher.exited && watcher.leases[LEASES[1]!] === 'active',
      )!;
      stopping.child.kill('SIGTERM');
      await once(stopping.child, 'exit');
      await expect
        .poll(() => activeHolders(watchers).map((holders) => holders.length), {
          timeout: 30_000,
          message: 'every partition led by a live process',
        })
        .toEqual([1, 1, 1]);
      expect(activeHolders(watchers).flat()).not.toContain(stopping.holder);

      inserting = false;
      await producer;
    } finally {
      inserting = false;
      await producer.catch(() => undefined);
    }
    const sagaCount = async () => (await sagasOf(db, 'order-placed')).length;
    await expect
      .poll(sagaCount, { timeout: 60_000, message: `${insertedIds.length} sagas` })
      .toBe(insertedIds.length);
    const sagas = await sagasOf(db, 'order-placed');
    expect(keysWithMoreThanOneSaga(sagas)).toEqual([]);
    expect(new Set(sagas.map((saga) => saga.key))).toEqual(new Set(insertedIds));
    // Per partition only: no lease or checkpoint of the unpartitioned trigger.
    expect(await leaseOf(db, 'trigger:order-placed')).toBeNull();
    expect((await db.collection<CheckpointDocument>('checkpoints').distinct('_id')).sort()).toEqual(LEASES);
  }, 180_000);
});
