// `npm run bench`: raw BullMQ, raw change streams and the orchestrator side by side, against one spawned
// redis-server and one embedded MongoDB server (its own process), or the MongoDB and Redis given with
// --mongodb-url / --redis-url. Options: --sagas N, --rate R, --quick, --warmup N, --concurrency C,
// --stored 10000,100000, --repeat N (growth phases run N times, medians reported), --cpu-prof DIR (profiles of
// every child). Phases: throughput (offered above capacity), half load (offered at half the measured sagas/s,
// for latency below saturation, with raw BullMQ chains at the same rate), growth (10k and 100k sagas stored),
// waits (payments waking waiting sagas, with 1,000 and with 100,000 other waits open), tracing (the throughput
// phase again with OpenTelemetry on in the roles: in-memory exporter, batch processor; bench/tracing-preload.ts),
// and with --redis-cluster, cluster (the throughput phase on a local Redis Cluster of 3 masters and 3 replicas,
// with each master's share of the commands; bench/cluster-spread.ts).
// Progress goes to stderr; the last stdout line is one JSON object. Figures are informational: nothing here
// asserts timings.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { MongoClient, type Document } from 'mongodb';
import { startRedisServer } from '../src/embedded/redis-launcher.js';
import { BENCH_ORDERS, BENCH_SAGA } from './bench-sagas.js';
import { onRedisCluster } from './cluster-spread.js';
import {
  atRate,
  childNodeFlags,
  cpuMeter,
  givenMongo,
  givenRedis,
  log,
  percentile,
  range,
  round,
  rssMb,
  startMongo,
  startRawChangeWatcher,
  startRawWorker,
  startRole,
  type BenchRedis,
  type Child,
} from './bench-support.js';
import { storedSagas } from './stored-sagas.js';
import { waitPhase } from './wait-phase.js';
import {
  RAW_CHAIN_LENGTH,
  RAW_JOB_OPTIONS,
  RAW_QUEUE,
  type RawChangeMessage,
  type RawWorkerMessage,
} from './raw-chain.js';

const { values } = parseArgs({
  options: {
    sagas: { type: 'string' },
    rate: { type: 'string' },
    quick: { type: 'boolean', default: false },
    concurrency: { type: 'string' },
    stored: { type: 'string' },
    'cpu-prof': { type: 'string' },
    only: { type: 'string' },
    warmup: { type: 'string' },
    repeat: { type: 'string' },
    'mongodb-url': { type: 'string' },
    'redis-url': { type: 'string' },
    'redis-cluster': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const sagas = Number(values.sagas ?? (quick ? 1_000 : 20_000));
const rate = Number(values.rate ?? (quick ? 500 : 1_000));
const concurrency = Number(values.concurrency ?? 10);
// Items each phase runs first, at the same rate, and leaves out of its figures: JIT compilation, Lua script
// loading and connection pools filling up are start-up costs, not steady-state ones.
const warmup = Number(values.warmup ?? (quick ? 200 : 1_000));
const [storedSmall = 10_000, storedLarge = 100_000] = (values.stored ?? (quick ? '2000,10000' : ''))
  .split(',')
  .filter(Boolean)
  .map(Number);
const only = new Set((values.only ?? 'raw,change,orchestrator,half,growth,waits,tracing').split(','));
/** Node flags of the tracing phase's role processes: an SDK registered before the CLI starts. */
const TRACING_FLAGS = ['--import', 'tsx', '--import', './bench/tracing-preload.ts'];
// The wait phase: payments that wake `WAIT_TARGETS` waiting sagas, written at WAIT_RATE/s, with few and with many
// other waits open (that never match).
const [waitsFew, waitsMany] = quick ? [200, 2_000] : [1_000, 100_000];
const WAIT_TARGETS = quick ? 500 : 5_000;
const WAIT_RATE = quick ? 500 : 1_000;
const repeat = Number(values.repeat ?? 1);
// The half-load phase offers this many seconds of sagas at half the measured capacity.
const HALF_LOAD_SECONDS = quick ? 10 : 30;
if (![sagas, rate, concurrency, warmup, repeat].every((n) => Number.isInteger(n) && n >= 0) || repeat < 1) {
  process.stderr.write('usage: run-bench.ts [--sagas N] [--rate R] [--concurrency C] [--repeat N≥1] …\n');
  process.exit(2);
}
const STALL_MS = 60_000;
if (values['cpu-prof']) childNodeFlags.push('--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`);

const runId = Date.now().toString(36);
const redis: BenchRedis = values['redis-url'] ? givenRedis(values['redis-url']) : await startRedisServer();
const mongo = values['mongodb-url'] ? givenMongo(values['mongodb-url']) : await startMongo();
const client = new MongoClient(mongo.uri, { maxPoolSize: 64 });
await client.connect();
const cleanup: Child[] = [];

interface Latency {
  p50: number;
  p99: number;
}
const latencyOf = (values: number[]): Latency => {
  values.sort((a, b) => a - b);
  return { p50: round(percentile(values, 50), 2), p99: round(percentile(values, 99), 2) };
};

/**
 * Sends a baseline child `{type}` over IPC and resolves with its answer, the first message of the same type:
 * `report` (what it measured) or `reset` (done forgetting it, after a warm-up).
 */
function ask<M extends { type: string }, T extends M['type']>(
  child: Child,
  type: T,
): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve) => {
    const onMessage = (message: M) => {
      if (message.type !== type) return;
      child.process.off('message', onMessage);
      resolve(message as Extract<M, { type: T }>);
    };
    child.process.on('message', onMessage);
    child.process.send?.({ type });
  });
}

/**
 * A baseline's warm-up: `offer(warmup)`, wait until `progress()` counts it, then have the child forget it. The
 * caller zeroes its progress counter afterwards (the child's next reports count from zero).
 */
async function warmUpBaseline<M extends { type: string }>(
  child: Child,
  what: string,
  offer: (total: number) => Promise<void>,
  progress: () => number,
): Promise<void> {
  log(`${what}: warming up with ${warmup}`);
  await offer(warmup);
  await waitFor(progress, warmup, `${what} warm-up`);
  await ask<M, 'reset'>(child, 'reset');
}

async function rawBullmq(
  label: string,
  chains: number,
  offeredRate: number,
): Promise<{ stepsPerSec: number; chain: Latency; cpu: string }> {
  const prefix = `bench-raw-${runId}-${label}`;
  const worker = await startRawWorker(redis.url, prefix, concurrency);
  cleanup.push(worker);
  const url = new URL(redis.url);
  const connection = {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
  const queue = new Queue(RAW_QUEUE, { connection, prefix });
  let completed = 0;
  worker.process.on('message', (message: RawWorkerMessage) => {
    if (message.type === 'progress') completed = message.completed;
  });
  const offer = (total: number, offset: number) =>
    atRate(total, offeredRate, (first, count) => {
      const startedAt = Date.now();
      return queue.addBulk(
        range(offset + first, count).map((chain) => ({
          name: 'step',
          data: { chain, step: 1, startedAt },
          opts: RAW_JOB_OPTIONS,
        })),
      );
    });
  if (warmup > 0) {
    await warmUpBaseline<RawWorkerMessage>(
      worker,
      'raw BullMQ chains',
      (n) => offer(n, chains),
      () => completed,
    );
    completed = 0;
  }
  log(
    `raw BullMQ (${label}): ${chains} chains of ${RAW_CHAIN_LENGTH} jobs at ${round(offeredRate)}/s, ` +
      `concurrency ${concurrency}`,
  );
  const cpu = cpuMeter({ worker: worker.process.pid, redis: redis.pid, bench: process.pid });
  const begin = Date.now();
  await offer(chains, 0);
  await waitFor(() => completed, chains, 'raw BullMQ chains');
  const result = await ask<RawWorkerMessage, 'report'>(worker, 'report');
  const cpuPerStep = cpu(result.latencies.length * RAW_CHAIN_LENGTH);
  await queue.close();
  await worker.stop();
  const seconds = (result.lastDoneAt - begin) / 1000;
  return {
    stepsPerSec: round((result.latencies.length * RAW_CHAIN_LENGTH) / seconds),
    chain: latencyOf(result.latencies),
    cpu: cpuPerStep,
  };
}

async function rawChangeStream(database: string): Promise<Latency> {
  const collection = client.db(database).collection<{ seq: number; sentAt: number }>('raw_changes');
  const events = Math.min(sagas, 10_000);
  // The observer is a process of its own, like the trigger watcher it is the baseline for.
  const watcher = await startRawChangeWatcher(mongo.uri, database, 'raw_changes');
  cleanup.push(watcher);
  let received = 0;
  watcher.process.on('message', (message: RawChangeMessage) => {
    if (message.type === 'progress') received = message.received;
  });
  const offer = (total: number, offset: number) =>
    atRate(total, rate, (first, count) => {
      const sentAt = performance.timeOrigin + performance.now();
      return collection.insertMany(range(offset + first, count).map((seq) => ({ seq, sentAt })));
    });
  if (warmup > 0) {
    await warmUpBaseline<RawChangeMessage>(
      watcher,
      'raw change events',
      (n) => offer(n, events),
      () => received,
    );
    received = 0;
  }
  log(`raw change stream: ${events} inserts at ${rate}/s`);
  await offer(events, 0);
  await waitFor(() => received, events, 'raw change events');
  const result = await ask<RawChangeMessage, 'report'>(watcher, 'report');
  await watcher.stop();
  return latencyOf(result.latencies);
}

/** Median, min and max (MB, one decimal) of the RSS readings taken while `from` ≤ completed < `to`. */
function rssWindow(samples: { completed: number; mb: number }[], from: number, to: number) {
  const values = samples
    .filter((sample) => sample.completed >= from && sample.completed < to && Number.isFinite(sample.mb))
    .map((sample) => sample.mb)
    .sort((a, b) => a - b);
  return {
    median: round(percentile(values, 50), 1),
    min: round(values[0] ?? NaN, 1),
    max: round(values[values.length - 1] ?? NaN, 1),
  };
}

/** Polls `current()` until it reaches `target`; gives up when it makes no progress for STALL_MS. */
async function waitFor(current: () => number, target: number, what: string, onTick?: (n: number) => void) {
  let last = -1;
  let lastChange = Date.now();
  let lastLog = 0;
  for (;;) {
    const value = current();
    onTick?.(value);
    if (value >= target) return;
    if (value !== last) [last, lastChange] = [value, Date.now()];
    if (Date.now() - lastChange > STALL_MS) {
      log(`${what}: stalled at ${value}/${target}; reporting what finished`);
      return;
    }
    if (Date.now() - lastLog > 2_000) {
      log(`${what}: ${value}/${target}`);
      lastLog = Date.now();
    }
    await sleep(100);
  }
}

interface OrchestratorResult {
  stepsPerSec: number;
  sagasPerSec: number;
  trigger: Latency;
  e2e: Latency;
  rssStartMb: number;
  rss2kMb: number;
  rssEndMb: number;
  rssRanges: string;
  completed: number;
  cpu: string;
  /** p50s of where a completed saga's time went (see `segmentsOf`). */
  segments: string;
}

interface OrchestratorPhase {
  label: string;
  /** Finished sagas stored before the run (the growth phases). */
  stored: number;
  /** Orders offered, and at what rate. */
  count: number;
  offeredRate: number;
  /** OpenTelemetry on in the watcher and the worker (TRACING_FLAGS). */
  traced?: boolean;
  /** The Redis of the roles, when not the bench's own (the cluster phase), and its processes by name. */
  redisUrl?: string;
  redisPids?: Record<string, number | undefined>;
}

/** How often the worker's RSS is read, from the first order offered to the last saga completed. */
const RSS_SAMPLE_MS = 100;

async function orchestrator({
  label,
  stored,
  count,
  offeredRate,
  traced = false,
  redisUrl = redis.url,
  redisPids = { redis: redis.pid },
}: OrchestratorPhase): Promise<OrchestratorResult> {
  const database = `bench_${runId}_${label}`;
  const db = client.db(database);
  if (stored > 0) {
    log(`${label}: storing ${stored} finished sagas`);
    for (let offset = 0; offset < stored; offset += 5_000) {
      await db
        .collection('sagas')
        .insertMany(storedSagas(BENCH_SAGA, offset, Math.min(5_000, stored - offset)));
    }
  }
  const env = {
    mongodbUrl: mongo.uri,
    redisUrl,
    database,
    queuePrefix: `bench-${runId}-${label}`,
  };
  const nodeFlags = traced ? TRACING_FLAGS : [];
  const watcher = await startRole('watcher', env, [], nodeFlags);
  const worker = await startRole('worker', env, ['--concurrency', String(concurrency)], nodeFlags);
  cleanup.push(watcher, worker);
  const pid = worker.process.pid;
  const rssStartMb = rssMb(pid);

  // Worker RSS follows V8's old-space sawtooth (tens of MB between collections), so one reading says little: the
  // figures are medians of the readings taken while the sagas 2,000–4,000 and the last 2,000 completed.
  const rssSamples: { completed: number; mb: number }[] = [];
  const sagasCollection = db.collection('sagas');
  const orders = db.collection(BENCH_ORDERS);
  // Progress from a change stream: a count over a collection of 100,000 stored sagas would load the server.
  let completed = 0;
  const completions = sagasCollection.watch([
    { $match: { operationType: 'update', 'updateDescription.updatedFields.status': 'completed' } },
  ]);
  completions.on('change', () => (completed += 1));
  completions.on('error', (error) => log(`${label}: progress stream failed: ${String(error)}`));
  const offer = (total: number, offset: number) =>
    atRate(total, offeredRate, (first, batch) => {
      const insertedAt = Date.now();
      return orders.insertMany(
        range(offset + first, batch).map((seq) => ({ seq, insertedAt, status: 'pending' })),
      );
    });
  if (warmup > 0) {
    log(`${label}: warming up with ${warmup} orders`);
    await offer(warmup, count);
    await waitFor(() => completed, warmup, `${label} warm-up sagas completed`);
  }
  // Sagas created from here on are the measured ones.
  const begin = new Date();
  const warmed = completed;
  const cpu = cpuMeter({
    worker: pid,
    watcher: watcher.process.pid,
    mongo: mongo.pid,
    ...redisPids,
    bench: process.pid,
  });
  log(
    `${label}: ${count} orders at ${round(offeredRate)}/s (${stored} sagas stored), ` +
      `worker concurrency ${concurrency}`,
  );
  // Sampled on a timer while the orders are offered too: under overload most sagas complete meanwhile.
  const sampler = setInterval(
    () => rssSamples.push({ completed: completed - warmed, mb: rssMb(pid) }),
    RSS_SAMPLE_MS,
  );
  try {
    await offer(count, 0);
    await waitFor(() => completed - warmed, count, `${label} sagas completed`);
  } finally {
    clearInterval(sampler);
  }
  await completions.close();
  // Medians over the 2,000 sagas after the first 2,000, and over the last 2,000 (tenths for a short run).
  const span = Math.max(1, Math.min(2_000, Math.floor(count / 10)));
  const early = rssWindow(rssSamples, span, 2 * span);
  const late = rssWindow(rssSamples, count - span, count + 1);
  const cpuPerStep = cpu((completed - warmed) * 4);
  await Promise.all([watcher.stop(), worker.stop()]);
  const docs = await sagasCollection
    .find(
      { createdAt: { $gte: begin } },
      {
        projection: {
          createdAt: 1,
          endedAt: 1,
          status: 1,
          'input.insertedAt': 1,
          'steps.attemptStartedAt': 1,
          'steps.endedAt': 1,
        },
      },
    )
    .toArray();
  const trigger: number[] = [];
  const e2e: number[] = [];
  let firstInsert = Infinity;
  let lastEnd = 0;
  for (const doc of docs) {
    const insertedAt = (doc.input as { insertedAt: number }).insertedAt;
    firstInsert = Math.min(firstInsert, insertedAt);
    trigger.push((doc.createdAt as Date).getTime() - insertedAt);
    if (doc.status !== 'completed') continue;
    const endedAt = (doc.endedAt as Date).getTime();
    lastEnd = Math.max(lastEnd, endedAt);
    e2e.push(endedAt - insertedAt);
  }
  const seconds = (lastEnd - firstInsert) / 1000;
  return {
    stepsPerSec: round((e2e.length * 4) / seconds),
    sagasPerSec: round(e2e.length / seconds),
    trigger: latencyOf(trigger),
    e2e: latencyOf(e2e),
    rssStartMb: round(rssStartMb, 1),
    rss2kMb: early.median,
    rssEndMb: late.median,
    rssRanges: `${early.min}–${early.max} / ${late.min}–${late.max}`,
    completed: e2e.length,
    cpu: cpuPerStep,
    segments: segmentsOf(docs),
  };
}

/**
 * Where completed sagas' time went, as p50s in ms: `start` from the saga stored to its first step's attempt
 * starting, `in step` from an attempt's start to its result (the step's code and the worker around it), `hop` from
 * one step's result to the next step's start (the result write, the next job's add and pick-up), `end` from the
 * last step's result to the saga's end.
 */
function segmentsOf(docs: readonly Document[]): string {
  const start: number[] = [];
  const inStep: number[] = [];
  const hop: number[] = [];
  const end: number[] = [];
  const time = (value: unknown) => (value instanceof Date ? value.getTime() : NaN);
  for (const doc of docs) {
    if (doc.status !== 'completed') continue;
    const steps = doc.steps as { attemptStartedAt?: Date; endedAt?: Date }[];
    start.push(time(steps[0]?.attemptStartedAt) - time(doc.createdAt));
    steps.forEach((step, index) => {
      inStep.push(time(step.endedAt) - time(step.attemptStartedAt));
      if (index > 0) hop.push(time(step.attemptStartedAt) - time(steps[index - 1]!.endedAt));
    });
    end.push(time(doc.endedAt) - time(steps.at(-1)?.endedAt));
  }
  const p50 = (values: number[]) => latencyOf(values.filter(Number.isFinite)).p50;
  return `start ${p50(start)} · in step ${p50(inStep)} · hop ${p50(hop)} · end ${p50(end)}`;
}

const table: [string, string | number][] = [];
const summary: Record<string, number> = {};
const NO_LATENCY: Latency = { p50: NaN, p99: NaN };

/** The median of `runs` by `pick` (an odd count gives a run's own figure). */
function medianOf<T>(runs: readonly T[], pick: (run: T) => number): number {
  const sorted = runs.map(pick).sort((a, b) => a - b);
  return percentile(sorted, 50);
}

try {
  const raw = only.has('raw')
    ? await rawBullmq('throughput', sagas, rate)
    : { stepsPerSec: NaN, chain: NO_LATENCY, cpu: '' };
  const change = only.has('change') ? await rawChangeStream(`bench_${runId}_raw`) : NO_LATENCY;
  const main = only.has('orchestrator')
    ? await orchestrator({ label: 'main', stored: 0, count: sagas, offeredRate: rate })
    : null;
  // Below saturation: half the sagas/s the throughput phase measured, so latency is not a backlog's.
  const halfRate = main && only.has('half') ? main.sagasPerSec / 2 : NaN;
  const halfCount = Math.max(warmup, Math.round(halfRate * HALF_LOAD_SECONDS));
  const half = Number.isFinite(halfRate)
    ? await orchestrator({ label: 'half', stored: 0, count: halfCount, offeredRate: halfRate })
    : null;
  const halfRaw = half ? await rawBullmq('half', halfCount, halfRate) : null;
  const smallRuns: OrchestratorResult[] = [];
  const largeRuns: OrchestratorResult[] = [];
  for (let run = 1; only.has('growth') && run <= repeat; run += 1) {
    const suffix = repeat > 1 ? `-${run}` : '';
    smallRuns.push(
      await orchestrator({
        label: `stored${storedSmall}${suffix}`,
        stored: storedSmall,
        count: sagas,
        offeredRate: rate,
      }),
    );
    largeRuns.push(
      await orchestrator({
        label: `stored${storedLarge}${suffix}`,
        stored: storedLarge,
        count: sagas,
        offeredRate: rate,
      }),
    );
  }
  // The throughput phase again with tracing on, next to it: what one trace per saga costs in steps/s.
  const traced = only.has('tracing')
    ? await orchestrator({ label: 'traced', stored: 0, count: sagas, offeredRate: rate, traced: true })
    : null;
  // Opt-in (--redis-cluster): six more redis-server processes on the same cores.
  const onCluster = values['redis-cluster']
    ? await onRedisCluster(`bench-${runId}-cluster`, (redisUrl, redisPids) =>
        orchestrator({ label: 'cluster', stored: 0, count: sagas, offeredRate: rate, redisUrl, redisPids }),
      )
    : null;
  const waitContext = { client, mongo, redis, runId, cleanup };
  const waitRuns = only.has('waits')
    ? [
        await waitPhase(waitContext, waitsFew, WAIT_TARGETS, WAIT_RATE),
        await waitPhase(waitContext, waitsMany, WAIT_TARGETS, WAIT_RATE),
      ]
    : [];
  const [fewWaits, manyWaits] = waitRuns;
  const growth = (runs: OrchestratorResult[]) =>
    runs.length === 0 ? NaN : medianOf(runs, (run) => run.stepsPerSec);
  Object.assign(summary, {
    rawStepsPerSec: raw.stepsPerSec,
    stepsPerSec: main?.stepsPerSec ?? NaN,
    stepsRatio: round((main?.stepsPerSec ?? NaN) / raw.stepsPerSec, 3),
    rawChainP50Ms: raw.chain.p50,
    e2eP50Ms: main?.e2e.p50 ?? NaN,
    e2eP99Ms: main?.e2e.p99 ?? NaN,
    e2eRatio: round((half?.e2e.p50 ?? NaN) / (halfRaw?.chain.p50 ?? NaN), 3),
    rawChangeP50Ms: change.p50,
    rawChangeP99Ms: change.p99,
    triggerP50Ms: main?.trigger.p50 ?? NaN,
    triggerP99Ms: main?.trigger.p99 ?? NaN,
    sagasPerSec: main?.sagasPerSec ?? NaN,
    halfLoadRate: round(halfRate),
    halfTriggerP50Ms: half?.trigger.p50 ?? NaN,
    halfTriggerP99Ms: half?.trigger.p99 ?? NaN,
    halfE2eP50Ms: half?.e2e.p50 ?? NaN,
    halfE2eP99Ms: half?.e2e.p99 ?? NaN,
    halfRawChainP50Ms: halfRaw?.chain.p50 ?? NaN,
    halfRawChainP99Ms: halfRaw?.chain.p99 ?? NaN,
    stored10kStepsPerSec: growth(smallRuns),
    stored100kStepsPerSec: growth(largeRuns),
    rssStartMb: main?.rssStartMb ?? NaN,
    rssAt2kMb: main?.rss2kMb ?? NaN,
    rssEndMb: main?.rssEndMb ?? NaN,
    waitOpen: manyWaits?.open ?? NaN,
    waitWakeP50Ms: manyWaits?.wakeP50Ms ?? NaN,
    waitWakeP99Ms: manyWaits?.wakeP99Ms ?? NaN,
    waitCpuUsPerEvent: manyWaits?.cpuUsPerEvent ?? NaN,
    waitFewOpen: fewWaits?.open ?? NaN,
    waitFewWakeP50Ms: fewWaits?.wakeP50Ms ?? NaN,
    waitFewWakeP99Ms: fewWaits?.wakeP99Ms ?? NaN,
    waitFewCpuUsPerEvent: fewWaits?.cpuUsPerEvent ?? NaN,
    waitCostRatio: round((manyWaits?.cpuUsPerEvent ?? NaN) / (fewWaits?.cpuUsPerEvent ?? NaN), 3),
    tracedStepsPerSec: traced?.stepsPerSec ?? NaN,
    tracingCost: round(1 - (traced?.stepsPerSec ?? NaN) / (main?.stepsPerSec ?? NaN), 3),
    clusterStepsPerSec: onCluster?.result.stepsPerSec ?? NaN,
    // Masters that served at least a tenth of the run's commands.
    clusterMastersServing: onCluster
      ? onCluster.masters.filter(
          (master) => master.ops >= 0.1 * onCluster.masters.reduce((sum, each) => sum + each.ops, 0),
        ).length
      : NaN,
  });
  table.push(
    ['sagas per run / insert rate / worker concurrency', `${sagas} / ${rate}/s / ${concurrency}`],
    ['raw BullMQ steps/s', raw.stepsPerSec],
    ['raw BullMQ 4-job chain p50 / p99 ms', `${raw.chain.p50} / ${raw.chain.p99}`],
    ['raw BullMQ CPU µs per step', raw.cpu],
    ['raw change stream insert→event p50 / p99 ms', `${change.p50} / ${change.p99}`],
  );
  const phases: [string, OrchestratorResult | null | undefined][] = [
    ['orchestrator at overload', main],
    ['orchestrator at overload, tracing on', traced],
    ['orchestrator at overload on a Redis Cluster (3 masters)', onCluster?.result],
    [`orchestrator at half load (${round(halfRate)} sagas/s offered)`, half],
    ...smallRuns.map((run, i): [string, OrchestratorResult] => [
      `orchestrator, ${storedSmall} stored #${i + 1}`,
      run,
    ]),
    ...largeRuns.map((run, i): [string, OrchestratorResult] => [
      `orchestrator, ${storedLarge} stored #${i + 1}`,
      run,
    ]),
  ];
  for (const [name, run] of phases) {
    if (!run) continue;
    table.push(
      [`${name}: completed sagas`, run.completed],
      [`${name}: steps/s (sagas/s)`, `${run.stepsPerSec} (${run.sagasPerSec})`],
      [`${name}: trigger p50 / p99 ms`, `${run.trigger.p50} / ${run.trigger.p99}`],
      [`${name}: end-to-end p50 / p99 ms`, `${run.e2e.p50} / ${run.e2e.p99}`],
      [`${name}: CPU µs per step`, run.cpu],
      [`${name}: p50 ms per segment`, run.segments],
    );
  }
  for (const master of onCluster?.masters ?? []) {
    const total = onCluster!.masters.reduce((sum, each) => sum + each.ops, 0);
    table.push([
      `Redis Cluster master ${master.address}: commands (share) · queues held`,
      `${master.ops} (${round((100 * master.ops) / total)}%) · ${master.queues.join(', ') || '-'}`,
    ]);
  }
  for (const run of waitRuns) {
    const name = `waits, ${run.open} open + ${WAIT_TARGETS} woken at ${WAIT_RATE}/s`;
    table.push(
      [`${name}: woken`, run.woken],
      [`${name}: payment written → next step queued p50 / p99 ms`, `${run.wakeP50Ms} / ${run.wakeP99Ms}`],
      [`${name}: CPU µs per payment`, `${run.cpu} (sum ${run.cpuUsPerEvent})`],
    );
  }
  if (halfRaw)
    table.push([
      'raw BullMQ 4-job chain at half load p50 / p99 ms',
      `${halfRaw.chain.p50} / ${halfRaw.chain.p99}`,
    ]);
  if (main)
    table.push([
      'worker RSS MB: start / median after the first 2k sagas / over the last 2k (ranges)',
      `${main.rssStartMb} / ${main.rss2kMb} / ${main.rssEndMb} (${main.rssRanges})`,
    ]);
  table.push(
    ['stepsRatio (goal ≥ 0.45)', summary.stepsRatio!],
    ['tracingCost: 1 − steps/s traced ÷ untraced (goal < 0.1)', summary.tracingCost!],
    ['e2eRatio at half load (goal ≤ 3)', summary.e2eRatio!],
    [
      'growth: 100k vs 10k stored steps/s (goal ≥ 0.9)',
      round(summary.stored100kStepsPerSec! / summary.stored10kStepsPerSec!, 3),
    ],
  );
} finally {
  await Promise.allSettled(cleanup.map((child) => child.stop()));
  await client.close();
  await mongo.stop();
  await redis.stop();
}
const width = Math.max(...table.map(([name]) => name.length));
console.log(`| ${'measure'.padEnd(width)} | value |\n| ${'-'.repeat(width)} | --- |`);
for (const [name, value] of table) console.log(`| ${name.padEnd(width)} | ${value} |`);
// JSON has no NaN: a phase that did not run reports null.
console.log(JSON.stringify(summary, (_key, value: unknown) => (Number.isNaN(value) ? null : value)));
