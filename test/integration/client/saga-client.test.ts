// SagaClient against real servers and a running worker: start, await, cancel and dedupe sagas from code.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SagaRegistry, TerminalError, defineSaga } from '../../../src/index.js';
import { ValidationError } from '../../../src/errors/validation-error.js';
import { SagastreamError } from '../../../src/errors/sagastream-error.js';
import { mongoAndCleanups } from '../helpers.js';
import { engineTest } from '../engine/engine-test-kit.js';

const { mongo, onCleanup } = mongoAndCleanups();

/** Released by the test, so a saga can be held in its second step while the test acts on it. */
let releaseHold: () => void = () => undefined;
/** Set once the held step runs. */
let holding = false;

const chargeOrder = defineSaga({
  name: 'charge-order',
  trigger: { collection: 'orders' },
  input: z.object({ customerId: z.string(), total: z.number().positive(), hold: z.boolean().default(false) }),
})
  .step({
    name: 'charge-card',
    run: async (ctx) => {
      if (ctx.input.total > 1000) throw new TerminalError('card declined');
      return Promise.resolve({ chargeId: `ch-${ctx.sagaId}` });
    },
    compensate: async () => Promise.resolve(),
  })
  .step({
    name: 'notify',
    run: async (ctx) => {
      if (ctx.input.hold) {
        await new Promise<void>((resolve) => {
          releaseHold = resolve;
          holding = true;
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
      }
      return { notified: ctx.outputs['charge-card'].chargeId };
    },
  })
  .build();

/** No trigger: it can only be started from code. */
const refund = defineSaga({ name: 'refund', input: z.object({ amount: z.number() }) })
  .step({ name: 'pay-back', run: async (ctx) => Promise.resolve({ refunded: ctx.input.amount }) })
  .build();

async function setUp(name: string) {
  const test = engineTest(mongo(), name);
  onCleanup(() => test.stop());
  const registry = new SagaRegistry([chargeOrder, refund]);
  const runtime = await test.start({ registry });
  const client = await test.client(registry);
  return { client, db: test.db, runtime };
}

describe('SagaClient', () => {
  it('starts a saga and awaits its result: outputs when it completes, the error when it compensates', async () => {
    const { client } = await setUp('client-result');
    const paid = await client.start('charge-order', { customerId: 'c-1', total: 25 }, { key: 'order-1' });
    expect(paid.created).toBe(true);
    await expect(paid.result({ timeout: '30s' })).resolves.toEqual({
      sagaId: paid.id,
      status: 'completed',
      outputs: { 'charge-card': { chargeId: `ch-${paid.id}` }, notify: { notified: `ch-${paid.id}` } },
    });
    const stored = await paid.status();
    expect(stored).toMatchObject({ _id: paid.id, key: 'order-1', status: 'completed' });
    expect(stored?.trigger).toBeUndefined();

    const declined = await client.start('charge-order', { customerId: 'c-2', total: 5000 });
    const end = await declined.result({ timeout: '30s' });
    expect(end.status).toBe('compensated');
    expect(end.outputs).toEqual({});
    expect(end.error).toMatchObject({ code: 'TERMINAL', message: 'card declined' });
    // A handle made from the id alone sees the same end, read at once.
    await expect(client.handle(declined.id).result()).resolves.toEqual(end);
  });

  it('returns the existing saga for a key that already has one, and starts nothing for an invalid input', async () => {
    const { client, db } = await setUp('client-dedupe');
    const first = await client.start('charge-order', { customerId: 'c-1', total: 10 }, { key: 'same' });
    const second = await client.start('charge-order', { customerId: 'c-9', total: 99 }, { key: 'same' });
    expect(second.created).toBe(false);
    expect(second.id).toBe(first.id);
    await first.result({ timeout: '30s' });

    const invalid = await client
      .start('charge-order', { customerId: 'c-1', total: -1 }, { key: 'bad' })
      .catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(ValidationError);
    expect((invalid as ValidationError).issues.map((issue) => issue.path)).toEqual(['total']);
    expect(await db.collection('sagas').countDocuments()).toBe(1);
    await expect(client.start('no-such-saga', {})).rejects.toThrow(/No saga named "no-such-saga"/);
  });

  it('runs a saga without a trigger, started from code only, beside a triggered one', async () => {
    const { client, db, runtime } = await setUp('client-no-trigger');
    // The watcher follows only the triggered saga.
    expect(runtime.trigger?.status().watchers.map((watcher) => watcher.saga)).toEqual(['charge-order']);
    const started = await client.start('refund', { amount: 12 });
    await expect(started.result({ timeout: '30s' })).resolves.toMatchObject({
      status: 'completed',
      outputs: { 'pay-back': { refunded: 12 } },
    });
    // A triggered saga still starts from an insert in the same process.
    await db.collection('orders').insertOne({ customerId: 'c-7', total: 7 });
    await expect
      .poll(
        async () =>
          (await db.collection<{ status: string }>('sagas').findOne({ saga: 'charge-order' }))?.status,
        {
          timeout: 30_000,
        },
      )
      .toBe('completed');
  });

  it('cancels a running saga, and a result wait that times out leaves the saga running', async () => {
    const { client } = await setUp('client-cancel');
    const held = await client.start('charge-order', { customerId: 'c-1', total: 10, hold: true });
    // Nothing is stored when a step begins (one write per step): the step is `scheduled` until its result.
    await expect.poll(() => holding, { timeout: 30_000 }).toBe(true);
    expect((await held.status())?.steps[1]?.status).toBe('scheduled');

    const timedOut = await held.result({ timeout: 50 }).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(SagastreamError);
    expect((timedOut as SagastreamError).code).toBe('RESULT_TIMEOUT');
    expect((await held.status())?.status).toBe('running');

    const ending = held.result({ timeout: '30s' });
    await held.cancel();
    releaseHold();
    const end = await ending;
    expect(end.status).toBe('compensated');
    expect((await held.status())?.reason).toBe('cancelled');
  });
});

describe('SagaClient operator actions', () => {
  it('pages dead letters, retries the saga behind one and discards another', async () => {
    const { client, db } = await setUp('client-dead-letters');
    // Invalid trigger documents are stored as rejected sagas with a dead letter each.
    await db.collection('orders').insertMany([
      { customerId: 'c-1', total: -1 },
      { customerId: 'c-2', total: -2 },
    ]);
    await expect.poll(async () => (await client.deadLetters()).items.length, { timeout: 30_000 }).toBe(2);

    const first = await client.deadLetters({ limit: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.next).not.toBeNull();
    const second = await client.deadLetters({ limit: 1, after: first.next! });
    expect(second.items).toHaveLength(1);
    expect(second.next).toBeNull();
    const [retried, discarded] = [first.items[0]!, second.items[0]!];

    await expect(client.retryDeadLetter(retried.id)).rejects.toMatchObject({
      code: 'INPUT_VALIDATION_FAILED',
    });
    const rejected = await client.handle(retried.sagaId).status();
    await db
      .collection('orders')
      .updateOne(rejected!.trigger!.documentKey as Record<string, unknown>, { $set: { total: 5 } });
    expect((await client.retryDeadLetter(retried.id)).status).toBe('running');
    await expect.poll(async () => (await client.handle(retried.sagaId).status())?.status).toBe('completed');

    await client.discardDeadLetter(discarded.id);
    expect((await client.deadLetters()).items).toEqual([]);
    expect((await client.handle(discarded.sagaId).status())?.status).toBe('rejected');
    await expect(client.retry(discarded.sagaId)).rejects.toMatchObject({ code: 'INPUT_VALIDATION_FAILED' });
    await expect(client.deadLetters({ limit: 0 })).rejects.toThrow(TypeError);
  });
});
