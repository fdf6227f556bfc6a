// End to end with one process per role, as Compose runs them: a watcher, two workers and the admin API,
// started with the real CLI against the harness's MongoDB and Redis and driven only from outside (orders in
// with the driver; the sagas, the service collections and the admin API read back).
import type { Db, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../helpers.js';
import { exampleOrder, killLeftovers, roleEnvironment, startCli, type CliProcess } from './cli-process.js';

const TERMINAL = ['completed', 'compensated', 'failed', 'rejected'];

interface SagaRow {
  _id: string;
  status: string;
  trigger: { documentKey: { _id: ObjectId } };
  steps: { name: string; attempts: number; status: string }[];
}

let client: MongoClient;
let db: Db;
let env: Record<string, string>;
const roles: CliProcess[] = [];
let adminUrl: string;

/** The order's saga once it has ended. */
async function sagaFor(orderId: ObjectId): Promise<SagaRow> {
  let saga = null as SagaRow | null;
  await expect
    .poll(
      async () =>
        (saga = await db.collection<SagaRow>('sagas').findOne({ 'trigger.documentKey._id': orderId }))
          ?.status,
      { timeout: 90_000, interval: 250, message: `the saga of order ${orderId.toHexString()} to end` },
    )
    .toBeOneOf(TERMINAL);
  return saga!;
}

beforeAll(async () => {
  env = roleEnvironment('e2e-roles');
  client = await connectMongo();
  db = client.db(env.MONGODB_DB);
  roles.push(
    startCli(['watcher'], env),
    startCli(['worker', '--concurrency', '2'], env),
    // One worker queues every step as its own job, the other runs a saga's steps in a row: they share the sagas.
    startCli(['worker', '--concurrency', '2', '--steps-per-job', '1'], env),
    startCli(['admin'], env),
  );
  const ready = await Promise.all(roles.map((role) => role.waitForLine(/ ready: /)));
  adminUrl = /admin API (http:\/\/\S+)/.exec(ready[3] ?? '')?.[1] ?? '';
}, 90_000);

afterAll(async () => {
  await Promise.all(roles.map((role) => role.stop()));
  killLeftovers();
  await client?.close();
});

describe('separate role processes', { timeout: 120_000 }, () => {
  it('print a ready line naming their role', () => {
    expect(roles[0]?.lines[0]).toMatch(/^sagastream watcher ready: watcher for order-fulfillment/);
    expect(roles[1]?.lines[0]).toMatch(/^sagastream worker ready: worker for order-fulfillment/);
    expect(adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('run every simulate path and rejected input to the expected end, visible in the admin API', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['success', {}, 'completed'],
      ['retry', { simulate: { failAt: 'process-payment', failTimes: 1 } }, 'completed'],
      ['timeout-retry', { simulate: { hangAt: 'send-confirmation', failTimes: 1 } }, 'completed'],
      ['compensate', { simulate: { failAt: 'reserve-inventory' } }, 'compensated'],
      ['timeout-compensate', { simulate: { hangAt: 'send-confirmation' } }, 'compensated'],
      [
        'dead-letter',
        { simulate: { failAt: 'send-confirmation', failCompensationAt: 'reserve-inventory' } },
        'failed',
      ],
      ['no-items', { items: [] }, 'rejected'],
      ['no-customer', { customer: null }, 'rejected'],
      ['text-total', { total_amount: 'twelve' }, 'rejected'],
    ];
    const inserted = await db.collection('orders').insertMany(cases.map(([, extra]) => exampleOrder(extra)));
    const sagas = await Promise.all(
      cases.map((_, index) => sagaFor(inserted.insertedIds[index] as ObjectId)),
    );
    expect(sagas.map((saga, index) => [cases[index]?.[0], saga.status])).toEqual(
      cases.map(([name, , status]) => [name, status]),
    );

    const byName = Object.fromEntries(cases.map(([name], index) => [name, sagas[index] as SagaRow]));
    expect(byName.retry?.steps[0]).toMatchObject({ status: 'completed', attempts: 2 });
    expect(byName['timeout-retry']?.steps[3]).toMatchObject({ status: 'completed', attempts: 2 });
    const compensated = byName.compensate as SagaRow;
    expect(
      await db.collection('payments').findOne({ _id: `${compensated._id}:process-payment` as never }),
    ).toMatchObject({ status: 'refunded' });

    const detail = (await (await fetch(`${adminUrl}/api/sagas/${byName['dead-letter']?._id}`)).json()) as {
      status: string;
    };
    expect(detail.status).toBe('failed');
    const deadLetters = (await (await fetch(`${adminUrl}/api/dead-letters`)).json()) as {
      items: { sagaId: string }[];
    };
    const deadLettered = new Set(deadLetters.items.map((entry) => entry.sagaId));
    for (const name of ['dead-letter', 'no-items', 'no-customer', 'text-total']) {
      expect(deadLettered.has(byName[name]?._id ?? '')).toBe(true);
    }
  });

  it('share the steps between the two worker processes', async () => {
    const inserted = await db
      .collection('orders')
      .insertMany(Array.from({ length: 40 }, () => exampleOrder()));
    await Promise.all(Object.values(inserted.insertedIds).map((id) => sagaFor(id)));
    const markers: unknown[] = await db.collection('payments').distinct('handledBy');
    const workerMarkers = [roles[1]?.pid, roles[2]?.pid].map((pid) =>
      markers.find((marker) => String(marker).endsWith(`:${pid}`)),
    );
    expect(workerMarkers.every((marker) => marker !== undefined)).toBe(true);
  });

  it('stop gracefully on SIGTERM with exit code 0', async () => {
    const codes = await Promise.all(roles.map((role) => role.stop()));
    expect(codes).toEqual([0, 0, 0, 0]);
  });
});
