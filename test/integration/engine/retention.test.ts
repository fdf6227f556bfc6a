// Retention of finished sagas: the update that ends a saga writes `expiresAt` (its end plus the retention of its
// definition, else of the process); a saga with an open dead letter has none until the letter is discarded; an
// operator's retry removes it; the TTL index then removes expired sagas (on a server whose TTL clock the test moves).
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SagaClient } from '../../../src/client/index.js';
import { SagaRegistry } from '../../../src/definition/index.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { withServer, type ServerFixture } from '../embedded-mongo/embedded-server-fixture.js';
import { connectMongo, mongoUrl, redisUrl } from '../helpers.js';
import {
  engineTest,
  invalidOrder,
  order,
  POLL,
  sagaEndingIn,
  sagasCollection,
  type EngineTest,
} from './engine-test-kit.js';

const SECOND = 1_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let client: MongoClient;
let test: EngineTest | undefined;

beforeAll(async () => {
  client = await connectMongo();
});

afterEach(async () => {
  await test?.stop();
  test = undefined;
});

afterAll(async () => {
  await client.close();
});

/** How long after its end (or after `from`) the saga expires; null when it has no expiry. */
function keptFor(saga: SagaDocument, from: Date | undefined = saga.endedAt): number | null {
  if (!saga.expiresAt) return null;
  return saga.expiresAt.getTime() - from!.getTime();
}

async function deadLetterOf(test: EngineTest, sagaId: string): Promise<{ id: string }> {
  const runtime = test.runtimes[0]!;
  let letter: { id: string } | undefined;
  await expect
    .poll(
      async () => (letter = (await runtime.operations.listDeadLetters()).find((l) => l.sagaId === sagaId)),
      { ...POLL, message: `the dead letter of ${sagaId}` },
    )
    .toBeDefined();
  return letter!;
}

describe('expiry of finished sagas', () => {
  it("a completed or compensated saga expires its definition's retention after it ended", async () => {
    test = engineTest(client, 'retention-ends', { retention: '7d', stepAttempts: 1 });
    await test.start();
    const completed = order();
    // ship refuses: charge and reserve are compensated one by one (the last compensation ends the saga).
    const compensated = order({ ship: { terminal: true } });
    // reserve refuses: nothing to compensate, so the transition into compensation ends the saga.
    const refusedAtOnce = order({ reserve: { terminal: true } });
    await test.orders.insertMany([completed, compensated, refusedAtOnce]);

    const sagas = await Promise.all([
      sagaEndingIn(test.db, completed._id, ['completed']),
      sagaEndingIn(test.db, compensated._id, ['compensated']),
      sagaEndingIn(test.db, refusedAtOnce._id, ['compensated']),
    ]);
    expect(sagas.map((saga) => keptFor(saga))).toEqual([7 * DAY, 7 * DAY, 7 * DAY]);
    expect(sagas[2].compensation?.plan).toEqual([]);

    const indexes = await sagasCollection(test.db).listIndexes().toArray();
    expect(indexes).toContainEqual(
      expect.objectContaining({ name: 'expiresAt_ttl', key: { expiresAt: 1 }, expireAfterSeconds: 0 }),
    );
  });

  it("uses the process's retention when the definition sets none", async () => {
    test = engineTest(client, 'retention-process');
    await test.start({ retention: '12h' });
    const doc = order();
    await test.orders.insertOne(doc);
    expect(keptFor(await sagaEndingIn(test.db, doc._id, ['completed']))).toBe(12 * HOUR);
  });

  it("writes no expiry with retention off, the definition's setting winning over the process's", async () => {
    test = engineTest(client, 'retention-off', { retention: 'off' });
    const runtime = await test.start({ retention: '1h' });
    const doc = order();
    const invalid = invalidOrder();
    await test.orders.insertMany([doc, invalid]);
    const saga = await sagaEndingIn(test.db, doc._id, ['completed']);
    expect(saga.endedAt).toBeInstanceOf(Date);
    expect(saga).not.toHaveProperty('expiresAt');

    // Nor when a dead letter is discarded.
    const rejected = await sagaEndingIn(test.db, invalid._id, ['rejected']);
    await runtime.operations.discardDeadLetter((await deadLetterOf(test, rejected._id)).id);
    const discarded = await sagasCollection(test.db).findOne({ _id: rejected._id });
    expect(discarded?.deadLetter?.discardedAt).toBeInstanceOf(Date);
    expect(discarded).not.toHaveProperty('expiresAt');
  });
});

describe('retention in a SagaClient', () => {
  it('a saga the client cancels before it began ends compensated with the expiry of its retention option', async () => {
    test = engineTest(client, 'retention-client');
    // No process runs the saga: the cancel finds its first step never taken, so nothing is left to compensate.
    const sagaClient = await SagaClient.connect({
      mongodbUrl: mongoUrl(),
      redisUrl: redisUrl(),
      database: test.dbName,
      queuePrefix: test.queuePrefix,
      sagas: new SagaRegistry([test.saga]),
      retention: '2h',
    });
    try {
      const started = await sagaClient.start(test.saga.name, { _id: 'o-1', status: 'new', customer: 'c1' });
      await started.cancel();
      const cancelled = await started.status();
      expect(cancelled).toMatchObject({
        status: 'compensated',
        reason: 'cancelled',
        compensation: { plan: [] },
      });
      expect(keptFor(cancelled!)).toBe(2 * HOUR);
    } finally {
      await sagaClient.close();
    }
  });
});

describe('retention and dead letters', () => {
  it('keeps a failed saga until its dead letter is discarded; an operator retry removes the expiry', async () => {
    test = engineTest(client, 'retention-failed', {
      retention: '7d',
      stepAttempts: 1,
      compensationAttempts: 1,
    });
    const runtime = await test.start();
    const doc = order({ ship: { failAlways: true }, reserve: { compensationFailAlways: true } });
    await test.orders.insertOne(doc);
    const failed = await sagaEndingIn(test.db, doc._id, ['failed']);
    expect(failed).not.toHaveProperty('expiresAt');

    // Retried while its letter is open: it runs its compensation again and fails again, still without an expiry.
    const first = await deadLetterOf(test, failed._id);
    const redriven = await runtime.operations.retryDeadLetter(first.id);
    expect(redriven).toMatchObject({ status: 'compensating', generation: 1 });
    await expect
      .poll(() => sagasCollection(test!.db).findOne({ _id: failed._id }), POLL)
      .toMatchObject({ status: 'failed', generation: 1 });
    expect(await sagasCollection(test.db).findOne({ _id: failed._id })).not.toHaveProperty('expiresAt');

    const second = await deadLetterOf(test, failed._id);
    await runtime.operations.discardDeadLetter(second.id);
    const discarded = (await sagasCollection(test.db).findOne({ _id: failed._id }))!;
    expect(keptFor(discarded, discarded.deadLetter?.discardedAt)).toBe(7 * DAY);

    // Retried after the discard: it runs again, so it has no expiry any more.
    const retried = await runtime.operations.retry(failed._id);
    expect(retried).toMatchObject({ status: 'compensating', generation: 2 });
    expect(retried).not.toHaveProperty('expiresAt');
    await expect
      .poll(() => sagasCollection(test!.db).findOne({ _id: failed._id }), POLL)
      .toMatchObject({ status: 'failed', generation: 2 });
    expect(await sagasCollection(test.db).findOne({ _id: failed._id })).not.toHaveProperty('expiresAt');
  });

  it('keeps a rejected saga until its letter is discarded; retried and completed, it expires from its end', async () => {
    test = engineTest(client, 'retention-rejected', { retention: '7d' });
    const runtime = await test.start();
    const doc = invalidOrder();
    await test.orders.insertOne(doc);
    const rejected = await sagaEndingIn(test.db, doc._id, ['rejected']);
    expect(rejected).not.toHaveProperty('expiresAt');

    const letter = await deadLetterOf(test, rejected._id);
    await runtime.operations.discardDeadLetter(letter.id);
    const discarded = (await sagasCollection(test.db).findOne({ _id: rejected._id }))!;
    expect(keptFor(discarded, discarded.deadLetter?.discardedAt)).toBe(7 * DAY);

    await test.orders.updateOne({ _id: doc._id }, { $set: { customer: 'c2' } });
    const retried = await runtime.operations.retry(rejected._id);
    expect(retried).toMatchObject({ status: 'running', generation: 1 });
    expect(retried).not.toHaveProperty('expiresAt');
    const completed = await sagaEndingIn(test.db, doc._id, ['completed']);
    expect(keptFor(completed)).toBe(7 * DAY);
  });
});

describe('removal by the TTL index', () => {
  let server: ServerFixture;
  /** How far the embedded server's TTL clock runs ahead of real time. */
  let ahead = 0;

  beforeAll(async () => {
    // Its own server: a TTL pass every 50 ms on a clock the test moves, instead of mongod's 60 s on real time.
    server = await withServer({ ttlMonitorSleepSecs: 0.05, now: () => Date.now() + ahead });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('removes expired sagas and keeps the one whose dead letter is open', async () => {
    test = engineTest(server.client, 'retention-ttl', {
      retention: '30s',
      stepAttempts: 1,
      compensationAttempts: 1,
    });
    const runtime = await test.start({ mongodbUrl: server.server.uri });
    const completed = order();
    const failed = order({ ship: { failAlways: true }, reserve: { compensationFailAlways: true } });
    const rejected = invalidOrder();
    await test.orders.insertMany([completed, failed, rejected]);
    const ended = await Promise.all([
      sagaEndingIn(test.db, completed._id, ['completed']),
      sagaEndingIn(test.db, failed._id, ['failed']),
      sagaEndingIn(test.db, rejected._id, ['rejected']),
    ]);
    const ids = ended.map((saga) => saga._id);
    await runtime.operations.discardDeadLetter((await deadLetterOf(test, ids[2]!)).id);
    await deadLetterOf(test, ids[1]!);
    const stored = async () =>
      (
        await sagasCollection(test!.db)
          .find({}, { projection: { _id: 1 } })
          .toArray()
      ).map((saga) => saga._id);
    expect((await stored()).sort()).toEqual([...ids].sort());

    // 31 s later on the TTL clock: the completed saga and the rejected one whose letter was discarded have expired.
    ahead = 31 * SECOND;
    await expect.poll(stored, POLL).toEqual([ids[1]]);
    expect(await sagasCollection(test.db).findOne({ _id: ids[1]! })).toMatchObject({ status: 'failed' });
  });
});
