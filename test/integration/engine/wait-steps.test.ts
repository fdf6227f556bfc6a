// Wait steps (`.waitFor`): entering a wait stores it with the saga and holds no job; a document that already
// matches ends it at once; its timeout compensates or continues; a cancel ends it; a filter without an equality
// field fails the step.
import { describe, expect, it } from 'vitest';
import { SagaRegistry, type SagaDefinition } from '../../../src/index.js';
import { paymentSaga } from './fixtures/payment-saga.js';
import { mongoAndCleanups } from '../helpers.js';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../../src/embedded/redis-launcher.js';
import { RecoverySweeper } from '../../../src/engine/recovery-sweeper.js';
import { SWEEPER_LEASE_ID } from '../../../src/engine/sweeper-service.js';
import { WaitResumer } from '../../../src/engine/wait-resumer.js';
import type { StepJobRef } from '../../../src/model/step-job-ref.js';
import { SagaStore } from '../../../src/store/saga-store.js';
import { WaitStore } from '../../../src/store/wait-store.js';
import { SweeperMarks } from '../../../src/store/sweeper-marks.js';
import { LeaseStore } from '../../../src/store/lease.js';
import {
  FAST_SWEEPER,
  FAST_WATCHER,
  FAST_WORKER,
  engineTest,
  sagasCollection,
  testLogger,
  type EngineTest,
} from './engine-test-kit.js';

const { mongo, onCleanup } = mongoAndCleanups();

const POLL = { timeout: 20_000, interval: 50 };
const LONG_POLL = { timeout: 100_000, interval: 200 };

async function started(
  name: string,
  definition: SagaDefinition,
): Promise<{ test: EngineTest; registry: SagaRegistry }> {
  const test = engineTest(mongo(), name);
  onCleanup(() => test.stop());
  const registry = new SagaRegistry([definition]);
  await test.start({ registry, roles: ['worker'], worker: FAST_WORKER });
  return { test, registry };
}

describe('wait steps', () => {
  it('end at once with a matching document that exists when the wait begins', async () => {
    const saga = paymentSaga('wait-existing');
    const { test, registry } = await started('wait-existing', saga);
    await test.db
      .collection('payments')
      .insertOne({ orderId: 'o-1', status: 'captured', providerRef: 'psp-7' });
    const handle = await (await test.client(registry)).start(saga.name, { orderId: 'o-1' });

    const result = await handle.result({ timeout: '20s' });

    expect(result.status).toBe('completed');
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.steps[1]).toMatchObject({ name: 'payment-captured', status: 'completed' });
    expect(doc.steps[1]!.output).toMatchObject({ orderId: 'o-1', providerRef: 'psp-7' });
    expect(doc.steps[2]!.output).toEqual({ shippedWith: 'psp-7' });
    expect(doc.waiting).toBeUndefined();
  });

  it('stores the wait with the saga and holds no step job while waiting', async () => {
    const saga = paymentSaga('wait-stored', { timeout: '1h' });
    const { test, registry } = await started('wait-stored', saga);
    const handle = await (await test.client(registry)).start(saga.name, { orderId: 'o-2' });

    await expect
      .poll(async () => (await sagasCollection(test.db).findOne({ _id: handle.id }))?.steps[1]?.status, POLL)
      .toBe('waiting');
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.waiting).toMatchObject({
      step: 1,
      ns: `${test.dbName}.payments`,
      on: ['insert', 'update', 'replace'],
    });
    expect(doc.waiting!.keys).toHaveLength(2);
    expect(doc.waiting!.timeoutAt!.getTime() - doc.waiting!.since.getTime()).toBe(3_600_000);
    const runtime = test.runtimes[0]!;
    const counts = await runtime.queues.stepQueue(saga.name).getJobCounts('active', 'waiting', 'delayed');
    expect(counts).toEqual({ active: 0, waiting: 0, delayed: 0 });
    expect(await runtime.queues.timers.getJob(`${handle.id}.wait1.g0`)).toBeDefined();
  });

  it('compensates the steps before it when its timeout passes with no document', async () => {
    const saga = paymentSaga('wait-timeout', { timeout: '300ms' });
    const { test, registry } = await started('wait-timeout', saga);
    const handle = await (await test.client(registry)).start(saga.name, { orderId: 'o-3' });

    const result = await handle.result({ timeout: '20s' });

    expect(result.status).toBe('compensated');
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.steps[1]).toMatchObject({ status: 'failed', error: { code: 'WAIT_TIMEOUT' } });
    expect(doc.steps[0]!.compensation).toMatchObject({ status: 'completed' });
    expect(doc.steps[1]!.compensation).toBeUndefined();
    expect(doc.waiting).toBeUndefined();
  });

  it("goes on with output null when its timeout passes and onTimeout is 'continue'", async () => {
    const saga = paymentSaga('wait-continue', { timeout: '300ms', onTimeout: 'continue' });
    const { test, registry } = await started('wait-continue', saga);
    const handle = await (await test.client(registry)).start(saga.name, { orderId: 'o-4' });

    expect((await handle.result({ timeout: '20s' })).status).toBe('completed');
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.steps[1]).toMatchObject({ status: 'completed', output: null });
    expect(doc.steps[2]!.output).toEqual({ shippedWith: 'nothing' });
  });

  it('is ended by a cancel: the saga compensates the steps before it, and a later document changes nothing', async () => {
    const saga = paymentSaga('wait-cancel', { timeout: '1h' });
    const { test, registry } = await started('wait-cancel', saga);
    const handle = await (await test.client(registry)).start(saga.name, { orderId: 'o-5' });
    await expect
      .poll(async () => (await sagasCollection(test.db).findOne({ _id: handle.id }))?.steps[1]?.status, POLL)
      .toBe('waiting');

    await test.runtimes[0]!.operations.cancel(handle.id);
    const result = await handle.result({ timeout: '20s' });

    expect(result.status).toBe('compensated');
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.waiting).toBeUndefined();
    expect(doc.steps[1]).toMatchObject({ status: 'waiting' });
    expect(doc.compensation?.plan).toEqual([0]);
  });

  it('fails the step, and compensates, when match gives no top-level equality field', async () => {
    const saga = paymentSaga('wait-bad-filter', { noEquality: true });
    const { test, registry } = await started('wait-bad-filter', saga);
    const handle = await (await test.client(registry)).start(saga.name, { orderId: 'o-6' });

    expect((await handle.result({ timeout: '20s' })).status).toBe('compensated');
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.steps[1]).toMatchObject({ status: 'failed', error: { code: 'INVALID_WAIT_FILTER' } });
  });
});

describe('the wait watcher', () => {
  async function bothRoles(name: string, definition: SagaDefinition) {
    const test = engineTest(mongo(), name);
    onCleanup(() => test.stop());
    const registry = new SagaRegistry([definition]);
    await test.start({ registry, worker: FAST_WORKER });
    const client = await test.client(registry);
    return { test, client };
  }

  const waitingStep = (test: EngineTest, id: string) => async () =>
    (await sagasCollection(test.db).findOne({ _id: id }))?.steps[1]?.status;

  it('resumes a waiting saga when a matching document is inserted, and not for another order', async () => {
    const saga = paymentSaga('watch-insert', { timeout: '1h' });
    const { test, client } = await bothRoles('watch-insert', saga);
    const handle = await client.start(saga.name, { orderId: 'w-1' });
    await expect.poll(waitingStep(test, handle.id), POLL).toBe('waiting');

    const payments = test.db.collection('payments');
    await payments.insertOne({ orderId: 'w-other', status: 'captured', providerRef: 'not-mine' });
    await payments.insertOne({ orderId: 'w-1', status: 'pending', providerRef: 'not-yet' });
    await payments.insertOne({ orderId: 'w-1', status: 'captured', providerRef: 'psp-1' });

    expect((await handle.result({ timeout: '20s' })).status).toBe('completed');
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.steps[1]!.output).toMatchObject({ orderId: 'w-1', providerRef: 'psp-1' });
    // Followed behind its own lease, beside the saga's (absent) trigger.
    expect(test.runtimes[0]!.trigger!.status().watchers).toEqual([
      expect.objectContaining({ saga: `wait:${test.dbName}.payments`, state: 'active' }),
    ]);
    expect(doc.steps[2]!.output).toEqual({ shippedWith: 'psp-1' });
  });

  it('resumes on an update that makes a document match, with the document as it is stored', async () => {
    const saga = paymentSaga('watch-update', { timeout: '1h' });
    const { test, client } = await bothRoles('watch-update', saga);
    const payments = test.db.collection('payments');
    const { insertedId } = await payments.insertOne({
      orderId: 'w-2',
      status: 'pending',
      providerRef: 'psp-2',
    });
    const handle = await client.start(saga.name, { orderId: 'w-2' });
    await expect.poll(waitingStep(test, handle.id), POLL).toBe('waiting');

    await payments.updateOne({ _id: insertedId }, { $set: { status: 'captured' } });

    expect((await handle.result({ timeout: '20s' })).status).toBe('completed');
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.steps[1]!.output).toMatchObject({ _id: insertedId, status: 'captured', providerRef: 'psp-2' });
  });

  it(
    'resumes 1,000 concurrent waits, each once, whatever the order of their documents',
    { timeout: 120_000 },
    async () => {
      const saga = paymentSaga('watch-many', { timeout: '1h' });
      const { test, client } = await bothRoles('watch-many', saga);
      const orders = Array.from({ length: 1_000 }, (_, index) => `m-${index}`);
      const sagas = sagasCollection(test.db);
      await Promise.all(orders.map((orderId) => client.start(saga.name, { orderId })));
      await expect
        .poll(() => sagas.countDocuments({ saga: saga.name, 'steps.1.status': 'waiting' }), LONG_POLL)
        .toBe(orders.length);

      const shuffled = [...orders].sort(() => Math.random() - 0.5);
      // Some twice: a second matching document finds the wait ended.
      const payments = [...shuffled, ...shuffled.slice(0, 100)].map((orderId) => ({
        orderId,
        status: 'captured',
        providerRef: `ref-${orderId}`,
      }));
      for (let first = 0; first < payments.length; first += 50) {
        await test.db.collection('payments').insertMany(payments.slice(first, first + 50));
      }

      await expect
        .poll(() => sagas.countDocuments({ saga: saga.name, status: 'completed' }), LONG_POLL)
        .toBe(orders.length);
      const docs = await sagas
        .find({ saga: saga.name }, { projection: { history: 1, input: 1, steps: 1 } })
        .toArray();
      for (const doc of docs) {
        const { orderId } = doc.input as { orderId: string };
        expect(doc.steps[2]!.output).toEqual({ shippedWith: `ref-${orderId}` });
        expect(doc.history.filter((event) => event.type === 'wait-ended')).toHaveLength(1);
      }
    },
  );
});

describe('a waiting saga after Redis lost its data', () => {
  it('gets its timers back from the sweeper: the wait still times out and the deadline still holds', async () => {
    const redisServer = await startRedisServer({});
    onCleanup(() => redisServer.stop());
    const saga = paymentSaga('wait-flush', { timeout: '3s' });
    const test = engineTest(mongo(), 'wait-flush', {}, redisServer.url);
    onCleanup(() => test.stop());
    const registry = new SagaRegistry([saga]);
    const runtime = await test.start({ registry, worker: FAST_WORKER, sweeper: FAST_SWEEPER });
    const handle = await (await test.client(registry)).start(saga.name, { orderId: 'f-1' });
    await expect
      .poll(async () => (await sagasCollection(test.db).findOne({ _id: handle.id }))?.steps[1]?.status, POLL)
      .toBe('waiting');
    const redis = new Redis(redisServer.url);
    onCleanup(async () => void (await redis.quit()));
    await redis.flushall();
    expect(await runtime.queues.timers.getJob(`${handle.id}.wait1.g0`)).toBeUndefined();

    await expect
      .poll(async () => (await runtime.queues.timers.getJob(`${handle.id}.wait1.g0`)) !== undefined, POLL)
      .toBe(true);
    expect(await runtime.queues.hasDeadline(handle.id, 0)).toBe(true);
    const result = await handle.result({ timeout: '20s' });
    expect(result.status).toBe('compensated');
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.steps[1]).toMatchObject({ status: 'failed', error: { code: 'WAIT_TIMEOUT' } });
  });
});

describe('a wait whose worker died between storing it and looking for its document', () => {
  it('is ended by the sweeper, which looks again for the waits entered since its last sweep', async () => {
    const saga = paymentSaga('wait-entry-lost', { timeout: '1h' });
    const { test, registry } = await started('wait-entry-lost', saga);
    const worker = test.runtimes[0]!;
    // The payment is written before the saga reaches its wait, while no wait watcher runs: only the read after the
    // wait's write can find it. This worker stores the wait and dies (throws) before that read, each time.
    await test.db
      .collection('payments')
      .insertOne({ orderId: 'el-1', status: 'captured', providerRef: 'psp-el' });
    const entered: number[] = [];
    worker.worker!.processor.hooks.afterWaitEntered = (ref: StepJobRef) => {
      entered.push(ref.step);
      return Promise.reject(new Error('worker died after storing the wait'));
    };
    const handle = await (await test.client(registry)).start(saga.name, { orderId: 'el-1' });
    await expect
      .poll(async () => (await sagasCollection(test.db).findOne({ _id: handle.id }))?.steps[1]?.status, POLL)
      .toBe('waiting');
    expect(entered).toEqual([1]);

    // Another process's sweeper reads the waits entered since its last sweep (every wait, on its first) again.
    const store = new SagaStore(test.db);
    const waits = new WaitStore(store);
    const logger = testLogger('wait-entry-lost');
    const resumer = new WaitResumer({ registry, store, waits, queues: worker.queues, logger });
    const sweeper = new RecoverySweeper(registry, store, worker.queues, worker.operations, logger, {
      batchSize: 100,
      stuckAfter: 3,
      waits: { store: waits, resumer },
    });
    const marks = new SweeperMarks(test.db);
    expect(await marks.waitsRecheckedFrom()).toBeNull();
    // The sweeper sweeps while it holds its lease; its mark is kept there.
    expect(
      await new LeaseStore(test.db).tryAcquire(SWEEPER_LEASE_ID, 'another-process', 60_000),
    ).not.toBeNull();
    const sweptFrom = Date.now();
    expect(await sweeper.sweep()).toMatchObject({ waitsRechecked: 1, waitsMatched: 1 });

    const result = await handle.result({ timeout: '20s' });
    expect(result.status).toBe('completed');
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.steps[2]!.output).toEqual({ shippedWith: 'psp-el' });
    expect(doc.history.filter((event) => event.type === 'wait-ended')).toHaveLength(1);
    // The sweep's start is kept in MongoDB: the next sweeper (this process's or another's) reads only the waits
    // entered since (less a margin), not every open wait again.
    expect((await marks.waitsRecheckedFrom())!.getTime()).toBeGreaterThanOrEqual(sweptFrom);
  });
});

describe('wait watchers across processes', () => {
  it('hand over on failover: the standby takes the lease and resumes the wait', async () => {
    const saga = paymentSaga('wait-failover', { timeout: '1h' });
    const test = engineTest(mongo(), 'wait-failover');
    onCleanup(() => test.stop());
    const registry = new SagaRegistry([saga]);
    const first = await test.start({ registry, worker: FAST_WORKER, watcher: FAST_WATCHER });
    const second = await test.start({ registry, worker: FAST_WORKER, watcher: FAST_WATCHER });
    const stateOf = (runtime: typeof first) => runtime.trigger!.status().watchers[0]!.state;
    await expect.poll(() => [stateOf(first), stateOf(second)].sort(), POLL).toEqual(['active', 'standby']);
    const [leader, standby] = stateOf(first) === 'active' ? [first, second] : [second, first];
    const handle = await (await test.client(registry)).start(saga.name, { orderId: 'fo-1' });
    await expect
      .poll(async () => (await sagasCollection(test.db).findOne({ _id: handle.id }))?.steps[1]?.status, POLL)
      .toBe('waiting');

    await leader.stop();
    await expect.poll(() => stateOf(standby), POLL).toBe('active');
    await test.db
      .collection('payments')
      .insertOne({ orderId: 'fo-1', status: 'captured', providerRef: 'psp-fo' });

    expect((await handle.result({ timeout: '20s' })).status).toBe('completed');
  });

  it('reconcile on a first start: a document written while no wait watcher ran resumes its wait', async () => {
    const saga = paymentSaga('wait-reconcile', { timeout: '1h' });
    const test = engineTest(mongo(), 'wait-reconcile');
    onCleanup(() => test.stop());
    const registry = new SagaRegistry([saga]);
    await test.start({ registry, roles: ['worker'], worker: FAST_WORKER });
    const handle = await (await test.client(registry)).start(saga.name, { orderId: 'rc-1' });
    await expect
      .poll(async () => (await sagasCollection(test.db).findOne({ _id: handle.id }))?.steps[1]?.status, POLL)
      .toBe('waiting');
    await test.db
      .collection('payments')
      .insertOne({ orderId: 'rc-1', status: 'captured', providerRef: 'psp-rc' });
    // Another process sweeps (this one's sweeper would read every wait again on its first sweep and end it first).
    const now = new Date();
    await test.db.collection<{ _id: string } & Record<string, unknown>>('leases').insertOne({
      _id: SWEEPER_LEASE_ID,
      holder: 'another-process',
      fencingToken: 1,
      acquiredAt: now,
      renewedAt: now,
      expiresAt: new Date(now.getTime() + 3_600_000),
    });

    const watcher = await test.start({ registry, roles: ['watcher'], watcher: FAST_WATCHER });

    expect((await handle.result({ timeout: '20s' })).status).toBe('completed');
    expect(watcher.trigger!.status().watchers[0]).toMatchObject({ scanned: 1, started: 1 });
  });

  it('resume a saga once when a restart replays the event that matched it', async () => {
    const saga = paymentSaga('wait-replay', { timeout: '1h' });
    const test = engineTest(mongo(), 'wait-replay');
    onCleanup(() => test.stop());
    const registry = new SagaRegistry([saga]);
    const runtime = await test.start({ registry, worker: FAST_WORKER, watcher: FAST_WATCHER });
    const handle = await (await test.client(registry)).start(saga.name, { orderId: 'rp-1' });
    await expect
      .poll(async () => (await sagasCollection(test.db).findOne({ _id: handle.id }))?.steps[1]?.status, POLL)
      .toBe('waiting');
    const checkpoints = test.db.collection<{ _id: string }>('checkpoints');
    const id = `wait:${test.dbName}.payments`;
    const before = await checkpoints.findOne({ _id: id });
    expect(before).not.toBeNull();

    await test.db
      .collection('payments')
      .insertOne({ orderId: 'rp-1', status: 'captured', providerRef: 'psp-rp' });
    expect((await handle.result({ timeout: '20s' })).status).toBe('completed');
    await runtime.stop();
    // The position from before the payment: the next watcher reads that insert again.
    await checkpoints.replaceOne({ _id: id }, before!);
    const restarted = await test.start({ registry, worker: FAST_WORKER, watcher: FAST_WATCHER });

    await expect.poll(() => restarted.trigger!.status().watchers[0]!.events, POLL).toBeGreaterThanOrEqual(1);
    expect(restarted.trigger!.status().watchers[0]).toMatchObject({ started: 0 });
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.status).toBe('completed');
    expect(doc.history.filter((event) => event.type === 'wait-ended')).toHaveLength(1);
  });
});
