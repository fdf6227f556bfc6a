// Leases and trigger watchers under partitions: a holder that cannot reach MongoDB stops acting before its lease
// can be taken, and a leader whose Redis goes half-open hands its trigger over to a watcher that can queue.
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/index.js';
import { stepJobId } from '../../../src/queue/queue-names.js';
import { SagaQueues } from '../../../src/queue/saga-queues.js';
import { Lease, LeaseStore } from '../../../src/store/lease.js';
import { TcpProxy } from '../../chaos/tcp-proxy.js';
import { mongoAndCleanups, mongoUrl, redisUrl, uniqueName } from '../helpers.js';
import {
  createTriggerContext,
  order,
  ordersOf,
  sagasOf,
  triggerService,
  type TriggerTestContext,
} from './trigger-test-kit.js';

const { mongo, onCleanup } = mongoAndCleanups();
const silent = pino({ level: 'silent' });
const proxies: TcpProxy[] = [];

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

async function proxyTo(url: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(url);
  const proxy = await TcpProxy.start({ targetHost: hostname, targetPort: Number(port) });
  proxies.push(proxy);
  return proxy;
}

/** A MongoClient that reaches the test server only through `proxy` (one member, no discovery around it). */
async function mongoThrough(proxy: TcpProxy): Promise<MongoClient> {
  const client = new MongoClient(`mongodb://127.0.0.1:${proxy.port}/?directConnection=true`, {
    serverSelectionTimeoutMS: 2_000,
  });
  await client.connect();
  onCleanup(() => client.close(true));
  return client;
}

describe('Lease under a partition', () => {
  it('a holder cut off from MongoDB stops trusting its lease before a standby can take it', async () => {
    const database = uniqueName('lease-cut-off');
    const proxy = await proxyTo(mongoUrl());
    const cutOff = new LeaseStore((await mongoThrough(proxy)).db(database));
    const standby = new LeaseStore(mongo().db(database));
    const ttlMs = 1_500;
    const lease = await Lease.acquire(cutOff, {
      leaseId: 'trigger:x',
      holder: 'a',
      ttlMs,
      logger: silent,
      safetyMarginMs: 400,
    });
    expect(lease?.isHeld()).toBe(true);
    let abortedAt = 0;
    lease!.signal.addEventListener('abort', () => (abortedAt = Date.now()), { once: true });

    // Every byte is lost from now on: renewals never answer and never fail.
    proxy.setMode('drop');
    let takenAt = 0;
    await expect
      .poll(
        async () => {
          const grant = await standby.tryAcquire('trigger:x', 'b', 60_000);
          if (grant) takenAt = Date.now();
          return grant?.fencingToken;
        },
        { timeout: 10_000, interval: 25 },
      )
      .toBe(2);
    expect(abortedAt).toBeGreaterThan(0);
    // The fence by deadline: the cut-off holder stopped at least the margin (less polling slack) before.
    expect(takenAt - abortedAt).toBeGreaterThanOrEqual(300);
    expect(lease!.isHeld()).toBe(false);
  });

  it('a holder whose health check fails releases the lease at its next renewal', async () => {
    const leases = new LeaseStore(mongo().db(uniqueName('lease-unhealthy')));
    let healthy = true;
    const ttlMs = 6_000;
    const acquiredAt = Date.now();
    const lease = await Lease.acquire(leases, {
      leaseId: 'trigger:y',
      holder: 'a',
      ttlMs,
      logger: silent,
      healthCheck: () => (healthy ? Promise.resolve() : Promise.reject(new Error('Redis does not answer'))),
    });
    expect(lease?.isHeld()).toBe(true);
    healthy = false;
    // The next renewal (after ttl/3) finds the holder unhealthy: the lease is free long before its TTL ends.
    await expect.poll(() => lease!.signal.aborted, { timeout: ttlMs }).toBe(true);
    expect(await leases.holderOf('trigger:y')).toBeNull();
    expect(Date.now()).toBeLessThan(acquiredAt + ttlMs);
    expect((await leases.tryAcquire('trigger:y', 'b', 60_000))?.fencingToken).toBe(2);
  });
});

const orderSaga = defineSaga({
  name: 'partitioned-order',
  trigger: { collection: 'orders', filter: { status: 'pending' } },
  input: z.object({ status: z.literal('pending'), total_amount: z.number() }),
})
  .step({ name: 'noop', run: async () => Promise.resolve({}) })
  .build();

// A batch bound well above what a loaded CI machine takes; the Redis hand-over comes from the health check.
// The hand-over tests wait, one after another, for the leader, the standby taking over and the heal: longer than
// the default test timeout on a loaded machine, though each wait has its own bound.
const HAND_OVER_TEST_TIMEOUT_MS = 90_000;
// Leader and standby share this test's event loop: on a loaded machine a healthy PING can take over a second, and a
// 1 s bound made the healthy standby stand down too. 2 s (and a lease long enough to renew behind it) keeps the
// hand-over to the unhealthy leader's alone.
const FAST = { leaseTtl: 6_000, batchTimeout: 5_000, healthCheckTimeout: 2_000 };

/**
 * A leader on `leaderContext` (the context with one connection swapped for a proxied one), then a standby on the
 * direct one; two orders started while all is well.
 */
async function leaderAndStandby(context: TriggerTestContext, leaderContext: TriggerTestContext) {
  const leader = triggerService(leaderContext, [orderSaga], { ...FAST, holderId: 'leader' });
  await leader.start();
  onCleanup(() => leader.stop());
  await expect.poll(() => leader.status().watchers[0]?.state, { timeout: 10_000 }).toBe('active');
  const standby = triggerService(context, [orderSaga], { ...FAST, holderId: 'standby' });
  await standby.start();
  onCleanup(() => standby.stop());
  await ordersOf(context.db).insertMany([order(), order()]);
  await expect.poll(async () => sagaCount(context), { timeout: 10_000 }).toBe(2);
  const stateOf = (service: typeof leader) => service.status().watchers[0]?.state;
  return { leaderState: () => stateOf(leader), standbyState: () => stateOf(standby) };
}

async function sagaCount(context: TriggerTestContext): Promise<number> {
  return (await sagasOf(context.db, orderSaga.name)).length;
}

/** Cuts the leader's link while three orders arrive; the standby must lead and start their sagas. */
async function cutWhileOrdersArrive(
  context: TriggerTestContext,
  proxy: TcpProxy,
  standbyState: () => string | undefined,
): Promise<void> {
  proxy.setMode('drop');
  await ordersOf(context.db).insertMany([order(), order(), order()]);
  await expect.poll(standbyState, { timeout: 20_000, message: 'the standby to lead' }).toBe('active');
  await expect.poll(async () => sagaCount(context), { timeout: 30_000 }).toBe(5);
}

/** Healed: one more order gets its saga, and no order has two. */
async function healAndCheck(context: TriggerTestContext, proxy: TcpProxy): Promise<void> {
  proxy.setMode('pass');
  await ordersOf(context.db).insertOne(order());
  await expect.poll(async () => sagaCount(context), { timeout: 10_000 }).toBe(6);
  expect(new Set((await sagasOf(context.db, orderSaga.name)).map((stored) => stored.key)).size).toBe(6);
}

describe('Trigger watcher whose Redis goes half-open', () => {
  it(
    'hands the trigger over to a watcher that can queue; every order gets exactly one saga',
    async () => {
      const context = await createTriggerContext(mongo(), 'half-open-redis');
      onCleanup(() => context.close());
      const proxy = await proxyTo(redisUrl());
      // The leader's queues reach Redis through the proxy; the standby's directly. Same prefix, same queues.
      const leaderQueues = new SagaQueues({
        connection: {
          host: '127.0.0.1',
          port: proxy.port,
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
        },
        prefix: context.queuePrefix,
      });
      onCleanup(() => leaderQueues.close());
      const { leaderState, standbyState } = await leaderAndStandby(context, {
        ...context,
        queues: leaderQueues,
      });

      await cutWhileOrdersArrive(context, proxy, standbyState);
      // Started by a watcher that could queue: every saga's first step is in Redis (the sweeper would otherwise
      // have to find them).
      const sagas = await sagasOf(context.db, orderSaga.name);
      const firstJob = (sagaId: string) =>
        context.queues.stepQueue(orderSaga.name).getJob(
          stepJobId({
            sagaId,
            saga: orderSaga.name,
            phase: 'forward',
            step: 0,
            stepName: 'noop',
            attempt: 1,
            generation: 0,
          }),
        );
      await expect
        .poll(
          async () => (await Promise.all(sagas.map(({ _id }) => firstJob(_id)))).filter((job) => !job).length,
        )
        .toBe(0);
      expect(leaderState()).toBe('standby');
      // The old leader stays a standby while the new one holds the lease, and nothing is started twice.
      await healAndCheck(context, proxy);
    },
    HAND_OVER_TEST_TIMEOUT_MS,
  );
});

describe('Trigger watcher cut off from MongoDB', () => {
  it(
    'stops before a standby can lead, and after the heal finds its lease gone; no order gets two sagas',
    async () => {
      const context = await createTriggerContext(mongo(), 'cut-off-mongo');
      onCleanup(() => context.close());
      const proxy = await proxyTo(mongoUrl());
      const leaderDb = (await mongoThrough(proxy)).db(context.db.databaseName);
      const { leaderState, standbyState } = await leaderAndStandby(context, { ...context, db: leaderDb });

      await cutWhileOrdersArrive(context, proxy, standbyState);
      // The cut-off leader gave up before the standby could take over: never two active at once.
      expect(leaderState()).not.toBe('active');
      await healAndCheck(context, proxy);
      expect(leaderState()).toBe('standby');
      expect(standbyState()).toBe('active');
    },
    HAND_OVER_TEST_TIMEOUT_MS,
  );
});
