// Metrics counted where things happen: a real watcher and worker started with `--metrics-port 0` run the demo
// saga through success, a retry, a compensation, a failed compensation and a rejected input; each serves its
// own /metrics on loopback. The admin process, which ran none of it, shows the gauges and no counters.
import type { Db, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample } from '../../prometheus-samples.js';
import { connectMongo } from '../helpers.js';
import { exampleOrder, killLeftovers, roleEnvironment, startCli, type CliProcess } from './cli-process.js';

const SAGA = 'order-fulfillment';
const TERMINAL = ['completed', 'compensated', 'failed', 'rejected'];

let client: MongoClient;
let db: Db;
let watcher: CliProcess;
let worker: CliProcess;
let admin: CliProcess;
const urls = { watcher: '', worker: '', admin: '' };

const scrape = async (url: string): Promise<string> => (await fetch(url)).text();

beforeAll(async () => {
  const env = roleEnvironment('e2e-metrics');
  client = await connectMongo();
  db = client.db(env.MONGODB_DB);
  watcher = startCli(['watcher', '--metrics-port', '0'], env);
  worker = startCli(['worker', '--metrics-port', '0'], env);
  admin = startCli(['admin'], env);
  const [watcherLine, workerLine, adminLine] = await Promise.all(
    [watcher, worker, admin].map((role) => role.waitForLine(/ ready: /)),
  );
  urls.watcher = /; metrics (\S+)$/.exec(watcherLine ?? '')?.[1] ?? '';
  urls.worker = /; metrics (\S+)$/.exec(workerLine ?? '')?.[1] ?? '';
  urls.admin = `${/admin API (http:\/\/\S+)/.exec(adminLine ?? '')?.[1] ?? ''}/metrics`;
}, 90_000);

afterAll(async () => {
  await Promise.all([watcher, worker, admin].map((role) => role?.stop()));
  killLeftovers();
  await client?.close();
});

describe('metrics of the worker and watcher processes', { timeout: 120_000 }, () => {
  it('answer /healthz and /readyz for a process manager: MongoDB and Redis answer, the watcher is active', async () => {
    for (const url of [urls.watcher, urls.worker]) {
      const origin = new URL(url).origin;
      expect((await fetch(`${origin}/healthz`)).status).toBe(200);
      const ready = await fetch(`${origin}/readyz`);
      const report = (await ready.json()) as {
        ready: boolean;
        failing: string[];
        watchers: { saga: string; state: string }[];
      };
      expect(ready.status, JSON.stringify(report)).toBe(200);
      expect(report.failing).toEqual([]);
      // Both example sagas' triggers and order-payment's wait. The worker runs no watcher: it reports them as
      // watched elsewhere.
      const state = url === urls.watcher ? 'active' : 'not-here';
      expect(report.watchers.map((watcher) => [watcher.saga, watcher.state]).sort()).toEqual([
        ['order-fulfillment', state],
        ['order-payment', state],
        [`wait:${db.databaseName}.provider_payments`, state],
      ]);
    }
  });

  it('listen on loopback, serve only GET /metrics, and the admin names none', async () => {
    expect(urls.watcher).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(urls.worker).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(admin.lines[0]).not.toContain('; metrics');
    const origin = new URL(urls.worker).origin;
    expect((await fetch(`${origin}/`)).status).toBe(404);
    expect((await fetch(`${origin}/api/sagas`)).status).toBe(404);
    expect((await fetch(urls.worker, { method: 'POST' })).status).toBe(405);
  });

  it('count outcomes, step durations, retries and watcher lag where they happen', async () => {
    const cases: Record<string, unknown>[] = [
      {},
      { simulate: { failAt: 'process-payment', failTimes: 1 } },
      { simulate: { failAt: 'reserve-inventory' } },
      { simulate: { failAt: 'send-confirmation', failCompensationAt: 'reserve-inventory' } },
      { items: [] },
    ];
    const inserted = await db.collection('orders').insertMany(cases.map((extra) => exampleOrder(extra)));
    const statuses = await Promise.all(
      Object.values(inserted.insertedIds).map(async (id: ObjectId) => {
        const read = () =>
          db.collection<{ status: string }>('sagas').findOne({ 'trigger.documentKey._id': id });
        await expect
          .poll(async () => TERMINAL.includes((await read())?.status ?? ''), { timeout: 90_000 })
          .toBe(true);
        return (await read())?.status;
      }),
    );
    expect(statuses).toEqual(['completed', 'completed', 'compensated', 'failed', 'rejected']);

    const saga = { saga: SAGA };
    const step = (name: string, outcome: string) => ({ saga: SAGA, step: name, outcome });
    // A saga's end is counted just after its transition is written: wait for the counters, then read the rest.
    const ends = (text: string) =>
      ['completed', 'compensated', 'failed'].map((end) =>
        sample(text, `sagastream_sagas_${end}_total`, saga),
      );
    await expect.poll(async () => ends(await scrape(urls.worker))).toEqual([2, 1, 1]);
    const fromWorker = await scrape(urls.worker);
    // Every order but the rejected one paid; the retried one failed once first.
    const durations = 'sagastream_step_duration_seconds_count';
    expect(sample(fromWorker, durations, step('process-payment', 'completed'))).toBe(4);
    expect(sample(fromWorker, durations, step('process-payment', 'failed'))).toBe(1);
    expect(sample(fromWorker, durations, step('reserve-inventory', 'failed'))).toBe(3);
    expect(sample(fromWorker, durations, step('process-payment', 'compensated'))).toBe(1);
    expect(sample(fromWorker, durations, step('reserve-inventory', 'compensation-failed'))).toBe(3);
    const retries = (name: string, phase: string) =>
      sample(fromWorker, 'sagastream_step_retries_total', { saga: SAGA, step: name, phase });
    expect(retries('process-payment', 'forward')).toBe(1);
    expect(retries('reserve-inventory', 'forward')).toBe(2);
    expect(retries('send-confirmation', 'forward')).toBe(2);
    expect(retries('reserve-inventory', 'compensate')).toBe(2);
    // Starts belong to the watcher.
    expect(sample(fromWorker, 'sagastream_sagas_started_total', saga)).toBeUndefined();

    const fromWatcher = await scrape(urls.watcher);
    expect(sample(fromWatcher, 'sagastream_sagas_started_total', saga)).toBe(5);
    expect(sample(fromWatcher, 'sagastream_sagas_rejected_total', saga)).toBe(1);
    expect(sample(fromWatcher, 'sagastream_watcher_active', saga)).toBe(1);
    expect(sample(fromWatcher, 'sagastream_watcher_lag_seconds', saga)).toBeGreaterThanOrEqual(0);
    expect(fromWatcher).not.toContain('sagastream_step_duration_seconds_count{');
    expect(fromWatcher).toContain('process_cpu_user_seconds_total');

    // The failed saga's dead letter is queued just after its status is written.
    await expect.poll(async () => sample(await scrape(urls.admin), 'sagastream_dead_letters')).toBe(2);
    const fromAdmin = await scrape(urls.admin);
    expect(sample(fromAdmin, 'sagastream_sagas', { saga: SAGA, status: 'completed' })).toBe(2);
    expect(sample(fromAdmin, 'sagastream_sagas', { saga: SAGA, status: 'failed' })).toBe(1);
    expect(sample(fromAdmin, 'sagastream_queue_jobs', { queue: `saga-${SAGA}`, state: 'failed' })).toBe(0);
    // The admin ran no step and started no saga: it counts nothing from the saga collection's changes.
    for (const counter of ['sagastream_sagas_completed_total', 'sagastream_sagas_started_total']) {
      expect(sample(fromAdmin, counter, saga), counter).toBeUndefined();
    }
    expect(fromAdmin).not.toContain('sagastream_step_duration_seconds_count{');
  });

  it('stop gracefully with their listeners open', async () => {
    const keptAlive = await fetch(urls.worker);
    expect(keptAlive.status).toBe(200);
    expect(await Promise.all([watcher, worker, admin].map((role) => role.stop()))).toEqual([0, 0, 0]);
    await expect(fetch(urls.worker)).rejects.toThrow();
  });
});
