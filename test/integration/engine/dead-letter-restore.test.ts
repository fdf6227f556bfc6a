// The recovery sweeper and dead letters: every dead letter is checked against Redis once per Redis epoch (its
// first sweep, then after Redis lost its data), and on every sweep only those never recorded as queued.
import { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../../src/embedded/redis-launcher.js';
import { deadLetterJobId } from '../../../src/queue/queue-names.js';
import type { SagaRuntime } from '../../../src/runtime/saga-runtime.js';
import { connectMongo } from '../helpers.js';
import {
  POLL,
  engineTest,
  invalidOrder,
  sagaEndingIn,
  sagasCollection,
  type EngineTest,
} from './engine-test-kit.js';

let client: MongoClient;
let redisServer: RedisServer;
let test: EngineTest | undefined;
beforeAll(async () => {
  client = await connectMongo();
  // Its own Redis: FLUSHALL on the shared one would wipe the queues of tests running in parallel.
  redisServer = await startRedisServer({});
});
afterEach(async () => {
  await test?.stop();
  test = undefined;
});
afterAll(async () => {
  await redisServer.stop();
  await client.close();
});

async function deadLetterIds(runtime: SagaRuntime): Promise<string[]> {
  return (await runtime.queues.deadLetterIds()).sort();
}

describe('dead letters and the recovery sweeper', () => {
  it('restores every dead letter after Redis lost its data, and on other sweeps only those never queued', async () => {
    test = engineTest(client, 'dead-letter-restore', {}, redisServer.url);
    const runtime = await test.start();
    const orders = [invalidOrder(), invalidOrder(), invalidOrder()];
    await test.orders.insertMany(orders);
    const sagas = await Promise.all(orders.map((order) => sagaEndingIn(test!.db, order._id, ['rejected'])));
    const ids = sagas.map((saga) => deadLetterJobId(saga._id, saga.generation)).sort();
    await expect.poll(() => deadLetterIds(runtime), POLL).toEqual(ids);

    // Redis loses everything: the next sweep is in a new epoch and queues every dead letter again.
    const redis = new Redis(redisServer.url);
    try {
      await redis.flushall();
      await expect
        .poll(() => deadLetterIds(runtime), { ...POLL, message: 'dead letters restored' })
        .toEqual(ids);

      // Two dead letters vanish from Redis without Redis losing its data. The first one's saga was never recorded
      // as queued (a process stopped between its transition and the queueing): a sweep restores it. The second one
      // was recorded: sweeps within the epoch do not read it back, so it stays gone.
      const [unqueued, queued] = sagas;
      await runtime.queues.deadLetters.remove(deadLetterJobId(queued!._id, queued!.generation));
      await runtime.queues.deadLetters.remove(deadLetterJobId(unqueued!._id, unqueued!.generation));
      await sagasCollection(test.db).updateOne(
        { _id: unqueued!._id },
        { $unset: { 'deadLetter.queuedGeneration': '' } },
      );
      await expect
        .poll(() => runtime.queues.hasDeadLetter(unqueued!._id, unqueued!.generation), {
          ...POLL,
          message: 'the unqueued dead letter restored',
        })
        .toBe(true);
      expect(await runtime.queues.hasDeadLetter(queued!._id, queued!.generation)).toBe(false);
      expect(
        (await sagasCollection(test.db).findOne({ _id: unqueued!._id }))?.deadLetter?.queuedGeneration,
      ).toBe(unqueued!.generation);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
