// One active watcher per trigger: leases with fencing, and failover between real processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../../src/trigger/checkpoint-store.js';
import { Lease, LeaseStore, type LeaseDocument } from '../../../src/store/lease.js';
import { mongoUrl, redisUrl, uniqueName } from '../helpers.js';
import {
  keysWithMoreThanOneSaga,
  mongoAndChildProcesses,
  order,
  ordersOf,
  sagasOf,
  waitForSagaCount,
} from './trigger-test-kit.js';

const { mongo, children } = mongoAndChildProcesses();

describe('LeaseStore and CheckpointStore', () => {
  it('grants the lease to one holder, fences the deposed one and hands over on release', async () => {
    const db = mongo().db(uniqueName('lease'));
    const leases = new LeaseStore(db);
    const checkpoints = new CheckpointStore(db);
    const first = await leases.tryAcquire('trigger:x', 'a', 60_000);
    expect(first?.fencingToken).toBe(1);
    expect(await leases.tryAcquire('trigger:x', 'b', 60_000)).toBeNull();
    expect(await leases.holderOf('trigger:x')).toBe('a');
    expect(await checkpoints.save('trigger:x', { resumeToken: { _data: 'A1' } }, first!.fencingToken)).toBe(
      true,
    );

    // 'a' stalls past its expiry; 'b' takes over with a higher fencing token.
    await db
      .collection<LeaseDocument>('leases')
      .updateOne({ _id: 'trigger:x' }, { $set: { expiresAt: new Date(0) } });
    const second = await leases.tryAcquire('trigger:x', 'b', 60_000);
    expect(second?.fencingToken).toBe(2);
    expect(await leases.renew(first!, 60_000)).toBeNull();
    expect(await checkpoints.save('trigger:x', { resumeToken: { _data: 'B1' } }, second!.fencingToken)).toBe(
      true,
    );
    // The deposed holder's late checkpoint is refused and does not overwrite the new one.
    expect(await checkpoints.save('trigger:x', { resumeToken: { _data: 'A2' } }, first!.fencingToken)).toBe(
      false,
    );
    expect((await checkpoints.load('trigger:x'))?.resumeToken).toEqual({ _data: 'B1' });
    expect(await leases.release(first!)).toBe(false);

    expect(await leases.release(second!)).toBe(true);
    expect(await leases.holderOf('trigger:x')).toBeNull();
    expect((await leases.tryAcquire('trigger:x', 'a', 60_000))?.fencingToken).toBe(3);
  });

  it('keeps the neediest fresh handover request until the lease changes hands', async () => {
    const db = mongo().db(uniqueName('lease-handover'));
    const leases = new LeaseStore(db);
    const first = await leases.tryAcquire('trigger:h#0/3', 'a', 60_000);
    const stored = async () => (await leases.get('trigger:h#0/3'))?.handover;
    const at = new Date(1_000_000);
    // The holder never asks for its own lease.
    await leases.requestHandover('trigger:h#0/3', 'a', 0, 5_000, at);
    expect(await stored()).toBeUndefined();
    await leases.requestHandover('trigger:h#0/3', 'b', 1, 5_000, at);
    expect(await stored()).toEqual({ to: 'b', holds: 1, at });
    // A fresh request stays unless the asker leads fewer partitions.
    await leases.requestHandover('trigger:h#0/3', 'c', 2, 5_000, new Date(at.getTime() + 1_000));
    expect((await stored())?.to).toBe('b');
    await leases.requestHandover('trigger:h#0/3', 'c', 0, 5_000, new Date(at.getTime() + 1_000));
    expect(await stored()).toEqual({ to: 'c', holds: 0, at: new Date(at.getTime() + 1_000) });
    // A stale one is replaced by anyone.
    const later = new Date(at.getTime() + 7_000);
    await leases.requestHandover('trigger:h#0/3', 'b', 1, 5_000, later);
    expect(await stored()).toEqual({ to: 'b', holds: 1, at: later });
    // The holder sees it with its next renewal; taking the lease clears it.
    expect((await leases.renew(first!, 60_000))?.handover).toEqual({ to: 'b', holds: 1, at: later });
    await leases.release(first!);
    expect((await leases.tryAcquire('trigger:h#0/3', 'b', 60_000))?.handover).toBeUndefined();
    expect(await stored()).toBeUndefined();
  });

  it('a held Lease aborts its signal as soon as another holder takes it over', async () => {
    const db = mongo().db(uniqueName('lease-lost'));
    const leases = new LeaseStore(db);
    const logger = pino({ level: 'silent' });
    const lease = await Lease.acquire(leases, { leaseId: 'trigger:y', holder: 'a', ttlMs: 600, logger });
    expect(lease?.isHeld()).toBe(true);
    await db
      .collection<LeaseDocument>('leases')
      .updateOne(
        { _id: 'trigger:y' },
        { $set: { holder: 'b', expiresAt: new Date(Date.now() + 60_000) }, $inc: { fencingToken: 1 } },
      );
    await expect.poll(() => lease!.signal.aborted, { message: 'the lease to be lost' }).toBe(true);
    expect(lease!.isHeld()).toBe(false);
    await lease!.release();
    expect(await leases.holderOf('trigger:y')).toBe('b');
  });
});

interface WatcherProcess {
  holder: string;
  child: ChildProcess;
  state: string;
}

const FIXTURE = fileURLToPath(new URL('./fixtures/watcher-process.ts', import.meta.url));

function startWatcherProcess(holder: string, env: Record<string, string>): WatcherProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...env, HOLDER_ID: holder },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const watcher: WatcherProcess = { holder, child, state: 'starting' };
  createInterface({ input: child.stdout }).on('line', (line) => {
    watcher.state = (JSON.parse(line) as { state: string }).state;
  });
  return watcher;
}

describe('two watcher processes', () => {
  it('keeps exactly one active and fails over when the holder is killed, starting each saga once', async () => {
    const dbName = uniqueName('failover');
    const db = mongo().db(dbName);
    const env = {
      MONGODB_URL: mongoUrl(),
      REDIS_URL: redisUrl(),
      TEST_DB: dbName,
      QUEUE_PREFIX: uniqueName('failover-q'),
      LEASE_TTL_MS: '2000',
    };
    const watchers = [startWatcherProcess('watcher-a', env), startWatcherProcess('watcher-b', env)];
    const states = () => watchers.map((watcher) => watcher.state).sort();
    await expect
      .poll(states, { timeout: 30_000, message: 'one active and one standby' })
      .toEqual(['active', 'standby']);
    const leases = db.collection<LeaseDocument>('leases');
    const firstLease = await leases.findOne({ _id: 'trigger:order-placed' });
    const active = watchers.find((watcher) => watcher.state === 'active')!;
    const standby = watchers.find((watcher) => watcher !== active)!;
    expect(firstLease?.holder).toBe(active.holder);
    // Opened its stream once the first checkpoint is saved.
    await expect
      .poll(() => db.collection('checkpoints').countDocuments(), { message: 'a checkpoint' })
      .toBe(1);

    const orders = ordersOf(db);
    await orders.insertMany(Array.from({ length: 20 }, () => order()));
    await waitForSagaCount(db, 'order-placed', 20);

    active.child.kill('SIGKILL');
    // Written while nobody watches: the new holder resumes from the killed one's checkpoint.
    await orders.insertMany(Array.from({ length: 20 }, () => order()));
    await expect
      .poll(() => standby.state, { timeout: 30_000, message: 'the standby to take over' })
      .toBe('active');
    await orders.insertMany(Array.from({ length: 10 }, () => order()));
    const sagas = await waitForSagaCount(db, 'order-placed', 50);
    expect(keysWithMoreThanOneSaga(sagas)).toEqual([]);
    const secondLease = await leases.findOne({ _id: 'trigger:order-placed' });
    expect(secondLease?.holder).toBe(standby.holder);
    expect(secondLease!.fencingToken).toBeGreaterThan(firstLease!.fencingToken);

    // A graceful stop releases the lease at once.
    standby.child.kill('SIGTERM');
    await expect.poll(() => standby.state, { message: 'a graceful stop' }).toBe('stopped');
    const released = await leases.findOne({ _id: 'trigger:order-placed' });
    expect(released!.expiresAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await sagasOf(db, 'order-placed')).toHaveLength(50);
  }, 90_000);
});
