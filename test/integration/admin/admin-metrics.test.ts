// The admin's /metrics in a process that also runs the watcher and worker (as `start` and `dev` do): the
// counters those roles counted where things happened, next to the admin's gauges. And the event stream's bound
// on unsent output: a client that stops reading is dropped and counted, one that reads is kept.
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Collection } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAdminServer, type AdminServer } from '../../../src/admin/index.js';
import { SagaRegistry } from '../../../src/definition/index.js';
import { sagaIdFor } from '../../../src/model/saga-id.js';
import { SagaRuntime } from '../../../src/runtime/saga-runtime.js';
import { createLogger } from '../../../src/logging/logger.js';
import { PrometheusSagaMetrics } from '../../../src/metrics/index.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { sample } from '../../prometheus-samples.js';
import { mongoUrl, redisUrl, uniqueName } from '../helpers.js';
import { ordersSaga, type OrderDocument } from './admin-fixture.js';

const MAX_BUFFERED_BYTES = 256 * 1024;

let runtime: SagaRuntime;
let admin: AdminServer;
let sagas: Collection<SagaDocument>;
let orders: Collection<OrderDocument>;

const scrape = async (): Promise<string> => (await fetch(`${admin.url}/metrics`)).text();

beforeAll(async () => {
  const registry = new SagaRegistry([ordersSaga({ compensationBroken: false })]);
  const logger = createLogger({ level: 'silent', pretty: false });
  const metrics = new PrometheusSagaMetrics();
  runtime = await SagaRuntime.start({
    mongodbUrl: mongoUrl(),
    database: uniqueName('admin-metrics'),
    redisUrl: redisUrl(),
    queuePrefix: uniqueName('admin-metrics-q'),
    registry,
    logger,
    metrics,
    roles: ['watcher', 'worker'],
    watcher: { leaseTtl: 2_000, standbyPollInterval: 100, maxAwaitTime: 100 },
    worker: { concurrency: 5, shutdownGrace: 1_000 },
    sweeper: { interval: 60_000 },
  });
  admin = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    backend: runtime,
    registry,
    logger,
    metrics,
    eventStreamMaxBufferedBytes: MAX_BUFFERED_BYTES,
  });
  sagas = runtime.db.collection<SagaDocument>('sagas');
  orders = runtime.db.collection<OrderDocument>('orders');
  await vi.waitFor(() => {
    const active = runtime.trigger?.status().watchers.every((watcher) => watcher.state === 'active');
    expect(active, 'an active watcher').toBe(true);
  });
});

afterAll(async () => {
  await admin?.close();
  await runtime?.stop();
});

describe('admin /metrics with the engine metrics of its process', () => {
  it('serves the counters the watcher and worker counted, the gauges, and process metrics once', async () => {
    await orders.insertOne({ _id: 'order-metrics-1', status: 'new', mode: 'ok' });
    await expect
      .poll(async () => sample(await scrape(), 'sagastream_sagas_completed_total', { saga: 'orders' }), {
        timeout: 20_000,
      })
      .toBe(1);
    const text = await scrape();
    expect(sample(text, 'sagastream_sagas_started_total', { saga: 'orders' })).toBe(1);
    expect(
      sample(text, 'sagastream_step_duration_seconds_count', {
        saga: 'orders',
        step: 'charge',
        outcome: 'completed',
      }),
    ).toBe(1);
    expect(sample(text, 'sagastream_watcher_active', { saga: 'orders' })).toBe(1);
    expect(sample(text, 'sagastream_watcher_lag_seconds', { saga: 'orders' })).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'sagastream_sagas', { saga: 'orders', status: 'completed' })).toBe(1);
    expect(sample(text, 'sagastream_dead_letters')).toBe(0);
    expect(text.match(/^# TYPE process_cpu_user_seconds_total /gm)).toHaveLength(1);
  });
});

/** A saga document as the event stream shows it; nothing runs for a `completed` one. */
function finishedSaga(key: string): SagaDocument {
  const now = new Date();
  return {
    _id: sagaIdFor('orders', key),
    saga: 'orders',
    version: 1,
    key,
    status: 'completed',
    input: null,
    stepIndex: 0,
    generation: 0,
    steps: [],
    trigger: { ns: { db: 'shop', coll: 'orders' }, documentKey: { _id: key }, operationType: 'insert' },
    deadline: now,
    revision: 0,
    createdAt: now,
    updatedAt: now,
    history: [],
  };
}

/** An event stream client that reads everything and remembers the saga ids it was sent. */
async function readingClient(): Promise<{ seen: Set<string>; close(): void }> {
  const controller = new AbortController();
  const response = await fetch(`${admin.url}/api/events`, { signal: controller.signal });
  expect(response.status).toBe(200);
  const seen = new Set<string>();
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      pending += value;
      const events = pending.split('\n\n');
      pending = events.pop() ?? '';
      for (const event of events) {
        const data = /^data: (.*)$/m.exec(event)?.[1];
        if (event.includes('event: saga') && data) seen.add((JSON.parse(data) as { id: string }).id);
      }
    }
  })().catch(() => undefined);
  return { seen, close: () => controller.abort() };
}

/** An event stream client that reads the response head and then nothing more. */
async function stalledClient(): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port: Number(new URL(admin.url).port) });
  // Dropping it resets the connection; that is expected here.
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await once(socket, 'data');
  socket.pause();
  return socket;
}

describe('event stream backpressure', () => {
  it('drops a client that stops reading once its unsent output passes the bound, and keeps a reading one', async () => {
    const reading = await readingClient();
    const stalled = await stalledClient();
    const clients = async () => sample(await scrape(), 'sagastream_event_stream_clients');
    await expect.poll(clients).toBe(2);
    expect(sample(await scrape(), 'sagastream_event_stream_dropped_total')).toBe(0);

    // Bursts of about 100 KiB of saga events, each sent once the reading client has all of the previous one,
    // until the stalled client's output (past what the kernel's socket buffers hold) passes the bound.
    const padding = 'k'.repeat(2_000);
    let dropped = 0;
    for (let burst = 0; dropped === 0 && burst < 400; burst++) {
      const documents = Array.from({ length: 50 }, (_, index) =>
        finishedSaga(`${padding}-${burst}-${index}`),
      );
      await sagas.insertMany(documents);
      const last = documents.at(-1)!._id;
      await expect.poll(() => reading.seen.has(last), { timeout: 10_000 }).toBe(true);
      dropped = sample(await scrape(), 'sagastream_event_stream_dropped_total') ?? 0;
    }
    expect(dropped).toBe(1);
    expect(await clients()).toBe(1);

    // The reading client is still served.
    const after = finishedSaga('after-the-drop');
    await sagas.insertOne(after);
    await expect.poll(() => reading.seen.has(after._id)).toBe(true);
    reading.close();
    stalled.destroy();
  }, 120_000);
});
