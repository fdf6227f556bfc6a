// `sagastream dev --demo` as `npm start` runs it: its own embedded MongoDB and redis-server, every role, the
// admin API, demo orders whose sagas reach every end state and demo checkouts answered by the simulated payment
// provider; the README's walkthrough done step by step; plus the CLI's failure modes and `demo`.
import { MongoClient, type Db, type ObjectId } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { mongoUrl, uniqueName } from '../helpers.js';
import { EXAMPLE_SAGAS, killLeftovers, runCli, startCli } from './cli-process.js';

afterEach(() => killLeftovers());

/** The last progress line's counts, e.g. { completed: 12, rejected: 2, … }. */
function countsIn(line: string | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [, name, count] of (line ?? '').matchAll(/(\w+) (\d+)(?= \||$)/g)) {
    if (name !== undefined) counts[name] = Number(count);
  }
  return counts;
}

/** The dev stack's own servers and a generated token, as after a fresh clone. */
const devEnv = { MONGODB_URL: undefined, REDIS_URL: undefined, LOG_LEVEL: undefined, ADMIN_TOKEN: undefined };

describe('sagastream dev --demo', () => {
  it(
    'starts the stack, prints one ready line, shows progress through every end state, and exits 0',
    { timeout: 120_000 },
    async () => {
      const dev = startCli(['dev', '--demo', '--admin-port', '0', '--orders-per-second', '10'], devEnv);
      const ready = await dev.waitForLine(/^sagastream dev stack ready: /);
      expect(ready).toMatch(
        /MongoDB mongodb:\/\/\S+ \(embedded\), Redis redis:\/\/\S+ \(redis-server\), retention 30d, admin http:\/\/\S+, admin token [\w-]{32}$/,
      );
      const admin = /admin (http:\/\/\S+),/.exec(ready)?.[1] ?? '';
      expect((await fetch(`${admin}/healthz`)).status).toBe(200);

      // Not a TTY here, so progress comes as plain lines; wait until every end state has shown up.
      await expect
        .poll(() => countsIn(dev.lines.filter((line) => line.startsWith('orders ')).at(-1)), {
          timeout: 100_000,
          interval: 250,
          message: 'every end state in the progress line',
        })
        .toSatisfy((counts: Record<string, number>) =>
          ['completed', 'compensated', 'failed', 'rejected'].every((status) => (counts[status] ?? 0) > 0),
        );
      // The checkouts' line: captured payments complete, declined ones compensate (both within seconds).
      await expect
        .poll(() => countsIn(dev.lines.filter((line) => line.startsWith('checkouts ')).at(-1)), {
          timeout: 60_000,
          interval: 250,
          message: 'completed and compensated checkouts in the progress line',
        })
        .toSatisfy(
          (counts: Record<string, number>) =>
            (counts.completed ?? 0) > 0 && (counts.compensated ?? 0) > 0 && counts.waiting !== undefined,
        );
      const client = new MongoClient(/MongoDB (mongodb:\/\/\S+)/.exec(ready)?.[1] ?? '');
      const paid = await client
        .db('sagastream')
        .collection('provider_payments')
        .countDocuments({ status: 'captured' });
      expect(paid).toBeGreaterThan(0);
      const retried = await client
        .db('sagastream')
        .collection('sagas')
        .countDocuments({ status: 'completed', 'steps.attempts': { $gt: 1 } });
      await client.close();
      expect(retried).toBeGreaterThan(0);
      expect(await dev.stop('SIGINT')).toBe(0);
    },
  );
});

const TERMINAL = ['completed', 'compensated', 'failed', 'rejected'];

interface SagaView {
  _id: string;
  status: string;
  steps: { name: string; status: string; attempts: number }[];
  history: unknown[];
  waiting?: { ns: string };
}

/** `db.sagas.findOne({ 'trigger.documentKey._id': … }, { status: 1, steps: 1, history: 1, waiting: 1 })`. */
function readSaga(db: Db, orderId: ObjectId): Promise<SagaView | null> {
  return db
    .collection<SagaView>('sagas')
    .findOne(
      { 'trigger.documentKey._id': orderId },
      { projection: { status: 1, steps: 1, history: 1, waiting: 1 } },
    );
}

/** The saga of a trigger document once it has ended. */
async function sagaOf(db: Db, orderId: ObjectId): Promise<SagaView> {
  const read = () => readSaga(db, orderId);
  await expect
    .poll(async () => TERMINAL.includes((await read())?.status ?? ''), {
      timeout: 90_000,
      message: `the saga of order ${orderId.toHexString()} to end`,
    })
    .toBe(true);
  return (await read())!;
}

describe('the README walkthrough', () => {
  // Each step as the README's "Five-minute walkthrough" says it, with the driver standing in for mongosh and
  // fetch for curl. Only --admin-port 0 differs: port 8080 may be taken on a test machine.
  it(
    'runs as written: a saga completes, one compensates, one dead-letters and is redriven, one waits for an insert',
    { timeout: 180_000 },
    async () => {
      // 1. npm start
      const dev = startCli(['dev', '--demo', '--admin-port', '0'], devEnv);
      const ready = await dev.waitForLine(/^sagastream dev stack ready: /);
      const [, uri, admin, token] =
        /MongoDB (mongodb:\/\/\S+) .* admin (http:\/\/\S+), admin token (\S+)$/.exec(ready) ?? [];
      const auth = { authorization: `Bearer ${token ?? ''}` };
      const api = async (
        path: string,
        init: RequestInit = {},
      ): Promise<{ status: number; body: unknown }> => {
        const response = await fetch(`${admin ?? ''}${path}`, { ...init, headers: auth });
        return { status: response.status, body: await response.json() };
      };

      // 2. mongosh 'mongodb://127.0.0.1:PORT/sagastream?replicaSet=rs0'
      const client = new MongoClient((uri ?? '').replace('/?', '/sagastream?'));
      try {
        const db = client.db();
        expect(db.databaseName).toBe('sagastream');
        const order = {
          status: 'pending',
          customer: { id: 'c-1', email: 'ada@example.com' },
          items: [{ sku: 'mug-blue', quantity: 2 }],
          total_amount: 24.9,
        };
        const { insertedId } = await db.collection('orders').insertOne({ ...order });
        const completed = await sagaOf(db, insertedId);
        expect(completed.status).toBe('completed');
        expect(completed.history.length).toBeGreaterThan(0);
        const orderId = insertedId.toHexString();
        for (const [collection, status] of [
          ['payments', 'captured'],
          ['reservations', 'reserved'],
          ['shipments', 'booked'],
          ['notifications', 'sent'],
        ] as const) {
          expect(await db.collection(collection).find({ orderId }).toArray()).toEqual([
            expect.objectContaining({ status }),
          ]);
        }
        // curl -H "Authorization: Bearer $ADMIN_TOKEN" 'http://127.0.0.1:8080/api/sagas?status=completed&limit=1'
        const list = await api('/api/sagas?status=completed&limit=1');
        expect(list.status).toBe(200);
        expect((list.body as { items: unknown[] }).items).toHaveLength(1);
        expect((await fetch(`${admin ?? ''}/api/sagas?status=completed&limit=1`)).status).toBe(401);
        // curl -H "Authorization: Bearer $ADMIN_TOKEN" http://127.0.0.1:8080/api/sagas/<id>
        const detail = await api(`/api/sagas/${completed._id}`);
        const view = detail.body as { status: string; steps: unknown[]; timeline: unknown[] };
        expect(view.status).toBe('completed');
        expect(view.steps).toHaveLength(4);
        expect(view.timeline.length).toBeGreaterThanOrEqual(4);

        // 3. The same order with simulate: { failAt: 'calculate-shipping' }
        const failing = { ...order, simulate: { failAt: 'calculate-shipping' } };
        const compensatedOrder = (await db.collection('orders').insertOne({ ...failing })).insertedId;
        const compensated = await sagaOf(db, compensatedOrder);
        expect(compensated.status).toBe('compensated');
        expect(compensated.steps[2]).toMatchObject({
          name: 'calculate-shipping',
          status: 'failed',
          attempts: 3,
        });
        const compensatedId = compensatedOrder.toHexString();
        expect(await db.collection('reservations').findOne({ orderId: compensatedId })).toMatchObject({
          status: 'released',
        });
        expect(await db.collection('payments').findOne({ orderId: compensatedId })).toMatchObject({
          status: 'refunded',
        });

        // 4. An outage of refunds, the same failing order, a dead letter; end the outage, redrive it.
        await db.collection<{ _id: string }>('outages').insertOne({ _id: 'refund-payment' });
        const deadOrder = (await db.collection('orders').insertOne({ ...failing })).insertedId;
        const failed = await sagaOf(db, deadOrder);
        expect(failed.status).toBe('failed');
        // The dead letter is queued in Redis just after the saga is marked failed in MongoDB.
        const deadLetterOf = async (sagaId: string) =>
          ((await api('/api/dead-letters')).body as { items: { id: string; sagaId: string }[] }).items.find(
            (item) => item.sagaId === sagaId,
          );
        await expect.poll(() => deadLetterOf(failed._id)).toBeDefined();
        const entry = await deadLetterOf(failed._id);
        await db.collection<{ _id: string }>('outages').deleteOne({ _id: 'refund-payment' });
        // curl -X POST -H "Authorization: Bearer $ADMIN_TOKEN" http://127.0.0.1:8080/api/dead-letters/<id>/retry
        const retried = await api(`/api/dead-letters/${entry?.id ?? ''}/retry`, { method: 'POST' });
        expect(retried.status).toBe(200);
        expect(await sagaOf(db, deadOrder)).toMatchObject({ status: 'compensated' });
        expect(await db.collection('payments').findOne({ orderId: deadOrder.toHexString() })).toMatchObject({
          status: 'refunded',
        });

        // Rejected orders (say, without items) are dead letters too.
        const { items: _items, ...withoutItems } = order;
        const rejected = await sagaOf(db, (await db.collection('orders').insertOne(withoutItems)).insertedId);
        expect(rejected.status).toBe('rejected');
        await expect.poll(() => deadLetterOf(rejected._id)).toBeDefined();

        // 5. db.checkouts.insertOne({ status: 'awaiting-payment', customer: …, items: …, total_amount: 24.9 })
        const checkoutId = (
          await db.collection('checkouts').insertOne({ ...order, status: 'awaiting-payment' })
        ).insertedId;
        // db.sagas.findOne({ 'trigger.documentKey._id': ObjectId('…') }, { status: 1, waiting: 1 }) → running, waiting
        await expect
          .poll(async () => (await readSaga(db, checkoutId))?.waiting, { timeout: 30_000 })
          .toBeDefined();
        const waiting = (await readSaga(db, checkoutId))!;
        expect(waiting.status).toBe('running');
        expect(waiting.waiting?.ns).toBe('sagastream.provider_payments');
        // curl -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:8080/api/sagas/$SAGA_ID" → "waiting": { "step": "payment-answered", … }
        const waitingView = (await api(`/api/sagas/${waiting._id}`)).body as {
          status: string;
          waiting: { step: string; for: string; filter: unknown; timeoutAt: string } | null;
        };
        expect(waitingView.status).toBe('running');
        expect(waitingView.waiting).toMatchObject({
          step: 'payment-answered',
          for: 'sagastream.provider_payments',
          filter: { orderId: checkoutId.toHexString(), status: { $in: ['captured', 'declined'] } },
        });
        expect(waitingView.waiting?.timeoutAt).toEqual(expect.any(String));
        // The demo's provider leaves a checkout paid by 'card' alone: nothing answered it by itself.
        expect(
          await db.collection('provider_payments').countDocuments({ orderId: checkoutId.toHexString() }),
        ).toBe(0);
        // db.provider_payments.insertOne({ orderId: '…', status: 'captured', providerRef: 'psp-by-hand' })
        await db
          .collection('provider_payments')
          .insertOne({ orderId: checkoutId.toHexString(), status: 'captured', providerRef: 'psp-by-hand' });
        // db.sagas.findOne(…) → completed; db.courier_bookings.find({ orderId: '…' }) → booked
        expect(await sagaOf(db, checkoutId)).toMatchObject({ status: 'completed' });
        expect(
          await db.collection('courier_bookings').find({ orderId: checkoutId.toHexString() }).toArray(),
        ).toEqual([expect.objectContaining({ status: 'booked' })]);
        expect(
          await db.collection('stock_reservations').findOne({ orderId: checkoutId.toHexString() }),
        ).toMatchObject({
          status: 'reserved',
        });
      } finally {
        await client.close();
      }
      expect(await dev.stop('SIGINT')).toBe(0);
    },
  );
});

describe('sagastream failure modes', { timeout: 60_000 }, () => {
  it('explains an unreachable Redis in one line and exits 1', async () => {
    const result = await runCli(['worker'], {
      MONGODB_URL: mongoUrl(),
      REDIS_URL: 'redis://127.0.0.1:1',
      SAGAS: EXAMPLE_SAGAS,
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^Cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\)\. Check REDIS_URL/,
      ),
    ]);
  });

  it('explains an unreachable MongoDB in one line and exits 1', async () => {
    const result = await runCli(['watcher'], {
      SAGAS: EXAMPLE_SAGAS,
      MONGODB_URL: 'mongodb://127.0.0.1:1/?replicaSet=rs0',
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^Cannot reach MongoDB at mongodb:\/\/127\.0\.0\.1:1\/\?replicaSet=rs0 \(.*\)\. Check MONGODB_URL/,
      ),
    ]);
  });

  it('exits 2 for bad options, 1 for a sagas module that is missing or has no sagas', async () => {
    expect((await runCli(['worker', '--concurrency', '0'])).code).toBe(2);
    expect((await runCli(['worker', '--steps-per-job', '0'])).code).toBe(2);
    expect((await runCli(['dev', '--admin-port', 'x'])).code).toBe(2);
    const missing = await runCli(['watcher', '--sagas-module', './no-such-module.ts'], {
      MONGODB_URL: mongoUrl(),
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^The sagas module .*no-such-module\.ts does not exist: check the path/);
    expect(missing.stderr).not.toContain('Usage:');
    const empty = await runCli(['watcher', '--sagas-module', 'test/integration/e2e/cli-process.ts'], {
      MONGODB_URL: mongoUrl(),
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('exports no sagas');
  });

  it.each(['start', 'worker', 'watcher', 'admin', 'dev', 'demo'])(
    '"%s --help" prints its usage',
    async (command) => {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: sagastream ${command}`);
    },
  );
});

describe('sagastream demo', () => {
  it(
    'inserts --count demo orders and checkouts into MONGODB_URL and exits 0',
    { timeout: 60_000 },
    async () => {
      const database = uniqueName('e2e-demo');
      const result = await runCli(['demo', '--orders-per-second', '50', '--count', '25'], {
        MONGODB_URL: mongoUrl(),
        MONGODB_DB: database,
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(
        `inserting 50 orders/s into ${database}.orders and 25 checkouts/s into ${database}.checkouts (25 of each)`,
      );
      const client = new MongoClient(mongoUrl());
      expect(await client.db(database).collection('orders').countDocuments({ status: 'pending' })).toBe(25);
      expect(
        await client
          .db(database)
          .collection('checkouts')
          .countDocuments({ status: 'awaiting-payment', paymentMethod: /^test-card-/ }),
      ).toBe(25);
      await client.close();
    },
  );

  it('inserts only orders with --checkouts-per-second 0', { timeout: 60_000 }, async () => {
    const database = uniqueName('e2e-demo');
    const result = await runCli(
      ['demo', '--orders-per-second', '50', '--checkouts-per-second', '0', '--count', '5'],
      {
        MONGODB_URL: mongoUrl(),
        MONGODB_DB: database,
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`inserting 50 orders/s into ${database}.orders (5 in all)`);
    const client = new MongoClient(mongoUrl());
    expect(await client.db(database).collection('orders').countDocuments()).toBe(5);
    expect(await client.db(database).collection('checkouts').countDocuments()).toBe(0);
    await client.close();
  });
});
