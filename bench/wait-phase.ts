// The wait phase of `npm run bench`: `open` sagas wait for a payment that never comes, `targets` more wait for
// payments that the bench writes at `rate`/s; it reports the wake-up latency (payment written → the wait's write
// that queues the next step) and the CPU per payment of the watcher (where wait watchers run), MongoDB and the
// worker. Run with 1,000 and with 100,000 open waits, it shows whether a wake-up costs more as waits pile up.
import { setTimeout as sleep } from 'node:timers/promises';
import type { MongoClient } from 'mongodb';
import { BENCH_PAYMENTS, BENCH_WAIT_SAGA } from './bench-sagas.js';
import {
  atRate,
  cpuMeter,
  cpuMs,
  log,
  percentile,
  range,
  round,
  startRole,
  type BenchRedis,
  type Child,
} from './bench-support.js';
import { waitingSagas } from './waiting-sagas.js';
import { SweeperMarks } from '../src/store/sweeper-marks.js';

export interface WaitPhaseContext {
  client: MongoClient;
  mongo: { uri: string; pid: number | undefined };
  redis: BenchRedis;
  runId: string;
  cleanup: Child[];
}

export interface WaitPhaseResult {
  open: number;
  woken: number;
  wakeP50Ms: number;
  wakeP99Ms: number;
  /** CPU per payment, e.g. `watcher 412 · mongo 380 · worker 150`. */
  cpu: string;
  /** The same, summed over the three processes: the figure compared between runs. */
  cpuUsPerEvent: number;
}

/** How long the phase waits for the roles to settle (the wait watcher's first reconcile, the sweeper's timers). */
const SETTLE_TIMEOUT_MS = 300_000;

export async function waitPhase(
  context: WaitPhaseContext,
  open: number,
  targets: number,
  rate: number,
): Promise<WaitPhaseResult> {
  const { client, mongo, redis, runId, cleanup } = context;
  const database = `bench_${runId}_waits${open}`;
  const db = client.db(database);
  const sagas = db.collection('sagas');
  log(`waits: storing ${open} open waits and ${targets} to wake`);
  for (const [prefix, count] of [
    ['never', open],
    ['paid', targets],
  ] as const) {
    for (let offset = 0; offset < count; offset += 5_000) {
      await sagas.insertMany(waitingSagas(database, prefix, offset, Math.min(5_000, count - offset)));
    }
  }
  const env = {
    mongodbUrl: mongo.uri,
    redisUrl: redis.url,
    database,
    queuePrefix: `bench-${runId}-waits${open}`,
  };
  const watcher = await startRole('watcher', env);
  const worker = await startRole('worker', env);
  cleanup.push(watcher, worker);
  // A wait watcher that starts without a checkpoint first reconciles every open wait, and the first recovery sweep
  // reads every open wait's document again (a worker may have died before its entering read): measured after both.
  const checkpointId = `wait:${database}.${BENCH_PAYMENTS}`;
  const settleBy = Date.now() + SETTLE_TIMEOUT_MS;
  while ((await db.collection<{ _id: string }>('checkpoints').countDocuments({ _id: checkpointId })) === 0) {
    if (Date.now() > settleBy) throw new Error(`waits: the wait watcher never checkpointed ${checkpointId}`);
    await sleep(200);
  }
  const marks = new SweeperMarks(db);
  while ((await marks.waitsRecheckedFrom()) === null) {
    if (Date.now() > settleBy) throw new Error('waits: the first recovery sweep never finished');
    await sleep(200);
  }
  log(`waits: ${targets} payments at ${rate}/s against ${open + targets} open waits`);
  const payments = db.collection(BENCH_PAYMENTS);
  const order = range(0, targets).sort(() => Math.random() - 0.5);
  const cpu = cpuMeter({ watcher: watcher.process.pid, mongo: mongo.pid, worker: worker.process.pid });
  const pids = [watcher.process.pid, mongo.pid, worker.process.pid];
  // A server given by URL runs elsewhere: its CPU is not counted (NaN adds as nothing here).
  const cpuNow = (): number => pids.reduce<number>((sum, pid) => sum + (cpuMs(pid) || 0), 0);
  const startCpu = cpuNow();
  await atRate(targets, rate, (first, count) => {
    const writtenAt = Date.now();
    return payments.insertMany(
      order.slice(first, first + count).map((n) => ({ orderId: `paid-${n}`, writtenAt })),
    );
  });
  const completed = () => sagas.countDocuments({ saga: BENCH_WAIT_SAGA, status: 'completed' });
  let done = await completed();
  let lastProgress = Date.now();
  while (done < targets && Date.now() - lastProgress < 60_000) {
    await sleep(200);
    const now = await completed();
    if (now !== done) [done, lastProgress] = [now, Date.now()];
  }
  const perEvent = cpu(targets);
  const cpuUsPerEvent = round(((cpuNow() - startCpu) * 1000) / targets);
  await Promise.all([watcher.stop(), worker.stop()]);
  const woken = await sagas
    .find(
      { saga: BENCH_WAIT_SAGA, 'steps.0.status': 'completed' },
      { projection: { 'steps.endedAt': 1, 'steps.output.writtenAt': 1 } },
    )
    .toArray();
  const latencies = woken
    .map((saga) => {
      const paid = (saga.steps as { endedAt?: Date; output?: { writtenAt?: number } }[])[0];
      return (paid?.endedAt?.getTime() ?? NaN) - (paid?.output?.writtenAt ?? NaN);
    })
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  return {
    open,
    woken: latencies.length,
    wakeP50Ms: round(percentile(latencies, 50), 2),
    wakeP99Ms: round(percentile(latencies, 99), 2),
    cpu: perEvent,
    cpuUsPerEvent,
  };
}
