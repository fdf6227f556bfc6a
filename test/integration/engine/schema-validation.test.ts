// User schemas that are async or throw, on the engine's every validation path: a step's output, and the input a
// redrive of a rejected saga validates again. Neither may stall the saga or be retried as if transient.
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SagaRegistry, defineSaga, type SagaDefinition } from '../../../src/definition/index.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { connectMongo } from '../helpers.js';
import { engineTest, type EngineTest } from './engine-test-kit.js';

let client: MongoClient;
const tests: EngineTest[] = [];

beforeAll(async () => {
  client = await connectMongo();
});

afterEach(async () => {
  for (const test of tests.splice(0).reverse()) await test.stop();
});

afterAll(async () => {
  await client.close();
});

/** Records each run and compensation in `effects`, so a test sees what ran how often. */
function checkedSaga(effects: string[]): SagaDefinition {
  return defineSaga({
    name: 'checked',
    trigger: { collection: 'orders' },
    input: z
      .object({ _id: z.string(), customer: z.string(), outcome: z.string() })
      .refine(async (value) => Promise.resolve(value.customer !== 'blocked'), {
        error: 'customer is blocked',
      }),
  })
    .step({
      name: 'reserve',
      output: z.object({ reservationId: z.string() }).refine(async () => Promise.resolve(true)),
      run: async (ctx) => {
        effects.push(`reserve:${ctx.input._id}`);
        return Promise.resolve({ reservationId: `res-${ctx.input._id}` });
      },
      compensate: async (ctx) => {
        effects.push(`undo-reserve:${ctx.input._id}`);
        return Promise.resolve();
      },
    })
    .step({
      name: 'charge',
      retry: { attempts: 3, backoff: { type: 'fixed', delay: 10 } },
      output: z.object({ outcome: z.string() }).refine((value) => {
        if (value.outcome === 'explode') throw new Error('fraud check unreachable');
        return value.outcome !== 'refused';
      }, 'payment refused'),
      run: async (ctx) => {
        effects.push(`charge:${ctx.input._id}`);
        return Promise.resolve({ outcome: ctx.input.outcome });
      },
    })
    .build();
}

/** The engine kit's runtime (watcher, worker, sweeper) on a database of its own, running `saga`. */
async function start(name: string, saga: SagaDefinition) {
  const test = engineTest(client, name);
  tests.push(test);
  const runtime = await test.start({ registry: new SagaRegistry([saga]) });
  const sagaOf = (orderId: string) => test.db.collection<SagaDocument>('sagas').findOne({ key: orderId });
  return {
    runtime,
    db: test.db,
    orders: test.db.collection<{ _id: string; customer: string; outcome: string }>('orders'),
    sagaOf,
  };
}

async function statusOf(read: () => Promise<SagaDocument | null>): Promise<string | undefined> {
  return (await read())?.status;
}

describe('schemas that are async or throw', () => {
  it('checks step outputs with async refinements, and fails a step whose output schema throws without retrying it', async () => {
    const effects: string[] = [];
    const test = await start('outputs', checkedSaga(effects));
    await test.orders.insertMany([
      { _id: 'ok', customer: 'c1', outcome: 'paid' },
      { _id: 'refused', customer: 'c1', outcome: 'refused' },
      { _id: 'explode', customer: 'c1', outcome: 'explode' },
    ]);

    await expect.poll(() => statusOf(() => test.sagaOf('ok')), { timeout: 30_000 }).toBe('completed');
    for (const id of ['refused', 'explode']) {
      await expect.poll(() => statusOf(() => test.sagaOf(id)), { timeout: 30_000 }).toBe('compensated');
      const saga = (await test.sagaOf(id))!;
      expect(saga.steps[1]).toMatchObject({ status: 'failed', attempts: 1 });
      expect(saga.steps[1]!.error?.code).toBe('OUTPUT_VALIDATION_FAILED');
      expect(effects.filter((effect) => effect === `charge:${id}`)).toHaveLength(1);
      expect(effects).toContain(`undo-reserve:${id}`);
    }
    expect((await test.sagaOf('refused'))!.steps[1]!.error?.message).toMatch(/payment refused/);
    expect((await test.sagaOf('explode'))!.steps[1]!.error?.message).toMatch(
      /the schema threw: fraud check unreachable/,
    );
  });

  it('validates a rejected saga again with its async schema when an operator retries it', async () => {
    const effects: string[] = [];
    const test = await start('redrive', checkedSaga(effects));
    await test.orders.insertOne({ _id: 'later-ok', customer: 'blocked', outcome: 'paid' });
    await expect.poll(() => statusOf(() => test.sagaOf('later-ok')), { timeout: 30_000 }).toBe('rejected');
    const rejected = (await test.sagaOf('later-ok'))!;
    expect(rejected.validationIssues).toEqual([{ path: '(root)', message: 'customer is blocked' }]);

    await expect(test.runtime.operations.retry(rejected._id)).rejects.toThrow(/customer is blocked/);
    await test.orders.updateOne({ _id: 'later-ok' }, { $set: { customer: 'c1' } });
    await test.runtime.operations.retry(rejected._id);
    await expect.poll(() => statusOf(() => test.sagaOf('later-ok')), { timeout: 30_000 }).toBe('completed');
  });
});
