// `npm run test:chaos -- [--orders N] [--seconds S] [--seed X] [--drain-seconds D]`: runs the real processes
// (embedded MongoDB, redis-server, 2 watchers, 3 workers), feeds orders, injects faults at seeded random times,
// waits for every saga to end and checks the invariants. The last stdout line is one JSON object.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { findFreePort } from '../../src/embedded/redis-launcher.js';
import { clusterSafePrefix, deadLetterJobId, DEAD_LETTER_QUEUE } from '../../src/queue/queue-names.js';
import type { SagaDocument } from '../../src/model/saga-document.js';
import { TERMINAL_STATUSES } from '../../src/model/saga-document.js';
import { killAllChildren, ManagedProcess, redisProcess, sagastreamProcess } from './chaos-processes.js';
import { FaultInjector } from './fault-injector.js';
import { checkInvariants } from './invariants.js';
import { chaosOrder, type ChaosOrder } from './order-mix.js';
import { SeededRandom } from './seeded-random.js';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '90' },
    seed: { type: 'string', default: '1' },
    'drain-seconds': { type: 'string', default: '240' },
    keep: { type: 'boolean', default: false },
  },
});
const orderCount = Number(values.orders);
const runSeconds = Number(values.seconds);
const seed = Number(values.seed);
const drainSeconds = Number(values['drain-seconds']);
if (
  ![orderCount, runSeconds, seed, drainSeconds].every(Number.isFinite) ||
  orderCount < 1 ||
  runSeconds < 10
) {
  process.stderr.write(
    'usage: run-chaos.ts [--orders N>=1] [--seconds S>=10] [--seed X] [--drain-seconds D]\n',
  );
  process.exit(2);
}

const started = Date.now();
const say = (line: string): void =>
  void process.stdout.write(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Children die with us, whatever ends the run.
process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}

async function insertWithRetry(db: Db, orders: ChaosOrder[]): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await db.collection<ChaosOrder>('orders').insertMany(orders, { ordered: false });
      return;
    } catch (error) {
      // A retry after a lost acknowledgement meets its own earlier insert: duplicates mean "already there".
      const writeErrors = (error as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
      const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
      if (list.length > 0 && list.every((writeError) => writeError.code === 11000)) return;
      if (attempt % 10 === 1) say(`order insert failed (${(error as Error).message}); retrying`);
      await sleep(500);
    }
  }
}

async function generateOrders(db: Db, random: SeededRandom, runId: string): Promise<void> {
  const tickMs = 200;
  const ticks = Math.ceil((runSeconds * 1000) / tickMs);
  let next = 0;
  const begin = Date.now();
  for (let tick = 1; tick <= ticks && next < orderCount; tick += 1) {
    const due = Math.min(orderCount, Math.round((orderCount * tick) / ticks));
    const batch: ChaosOrder[] = [];
    for (; next < due; next += 1) batch.push(chaosOrder(next, runId, random));
    if (batch.length > 0) await insertWithRetry(db, batch);
    await sleep(Math.max(0, begin + tick * tickMs - Date.now()));
  }
}

async function waitForQuiescence(db: Db): Promise<boolean> {
  const deadline = Date.now() + drainSeconds * 1000;
  let lastReport = 0;
  while (Date.now() < deadline) {
    try {
      const sagas = db.collection<SagaDocument>('sagas');
      const total = await sagas.countDocuments({ saga: 'order-fulfillment' });
      const open = await sagas.countDocuments({ status: { $nin: [...TERMINAL_STATUSES] } });
      if (total >= orderCount && open === 0) return true;
      if (Date.now() - lastReport > 10_000) {
        say(`waiting: ${total}/${orderCount} sagas, ${open} not ended`);
        lastReport = Date.now();
      }
    } catch (error) {
      say(`quiescence poll failed: ${(error as Error).message}`);
    }
    await sleep(1_000);
  }
  return false;
}

const runDir = await mkdtemp(join(tmpdir(), 'sagastream-chaos-'));
const logDir = join(runDir, 'logs');
await mkdir(logDir, { recursive: true });
const [mongoPort, redisPort] = [await findFreePort(), await findFreePort()];
const runId = `s${seed}`;
const env = {
  MONGODB_URL: `mongodb://127.0.0.1:${mongoPort}/?replicaSet=rs0`,
  MONGODB_DB: 'chaos',
  REDIS_URL: `redis://127.0.0.1:${redisPort}`,
  SAGASTREAM_QUEUE_PREFIX: `chaos-${seed}`,
  // The example order-fulfillment saga: role commands run only the sagas module they are given.
  SAGAS: fileURLToPath(new URL('../../sagas/index.ts', import.meta.url)),
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
};
say(`run dir ${runDir}; ${orderCount} orders over ${runSeconds} s, seed ${seed}`);

const mongo = new ManagedProcess(
  sagastreamProcess('mongo', ['mongo', '--port', String(mongoPort), '--dbpath', join(runDir, 'mongo')], env),
  logDir,
);
const redis = new ManagedProcess(redisProcess(redisPort, join(runDir, 'redis')), logDir);
await mkdir(join(runDir, 'redis'), { recursive: true });
const watchers = [1, 2].map(
  (n) => new ManagedProcess(sagastreamProcess(`watcher${n}`, ['watcher'], env), logDir),
);
const workers = [1, 2, 3].map(
  (n) => new ManagedProcess(sagastreamProcess(`worker${n}`, ['worker'], env), logDir),
);

let exitCode = 1;
let client: MongoClient | undefined;
let redisClient: Redis | undefined;
let deadLetters: Queue | undefined;
try {
  await Promise.all([mongo.start(), redis.start()]);
  client = new MongoClient(env.MONGODB_URL, { serverSelectionTimeoutMS: 5_000 });
  await client.connect();
  const db = client.db(env.MONGODB_DB);
  redisClient = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
  // Redis is restarted on purpose; ioredis reconnects by itself.
  redisClient.on('error', () => undefined);
  for (const watcher of watchers) await watcher.start();
  await Promise.all(workers.map((worker) => worker.start()));
  say('all processes ready');

  const random = new SeededRandom(seed);
  const faults = new FaultInjector({
    random: new SeededRandom(seed ^ 0x5eed),
    db,
    redis: redisClient,
    mongo,
    redisServer: redis,
    watchers,
    workers,
    say,
  });
  await Promise.all([generateOrders(db, random, runId), faults.run(runSeconds * 1000)]);
  say(`all ${orderCount} orders inserted; waiting for every saga to end (at most ${drainSeconds} s)`);
  const quiet = await waitForQuiescence(db);
  say(quiet ? 'every saga has ended' : 'gave up waiting: some sagas have not ended');
  await faults.settled();

  deadLetters = new Queue(DEAD_LETTER_QUEUE, {
    connection: { host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null },
    prefix: clusterSafePrefix(env.SAGASTREAM_QUEUE_PREFIX),
  });
  const dlq = deadLetters;
  const hasDeadLetter = async (sagaId: string, generation: number): Promise<boolean> =>
    (await dlq.getJob(deadLetterJobId(sagaId, generation))) !== undefined;
  // Dead letters lost with FLUSHALL come back with the sweeper's next round (every 15 s): allow two rounds.
  let report = await checkInvariants(db, orderCount, hasDeadLetter);
  for (let wait = 0; report.counts.deadLettersMissing > 0 && wait < 40; wait += 1) {
    await sleep(1_000);
    report = await checkInvariants(db, orderCount, hasDeadLetter);
  }

  const seconds = Math.round((Date.now() - started) / 1000);
  say(`outcomes: ${JSON.stringify(report.outcomes)}`);
  for (const line of faults.summary()) say(line);
  if (report.problems.length > 0) {
    say(`${report.problems.length} problems (first 30):`);
    for (const problem of report.problems.slice(0, 30)) say(`  ${problem}`);
  }
  const { counts } = report;
  const failed =
    counts.missing +
    counts.duplicates +
    counts.nonTerminal +
    counts.wrongOutcome +
    counts.doubleEffects +
    counts.badCompensations +
    counts.deadLettersMissing;
  exitCode = failed === 0 ? 0 : 1;
  say(exitCode === 0 ? 'all invariants hold' : `INVARIANTS VIOLATED; logs kept in ${runDir}`);
  process.stdout.write(`${JSON.stringify({ ...counts, ...faults.counts(), seconds })}\n`);
} catch (error) {
  say(`chaos run aborted: ${(error as Error).stack ?? String(error)}`);
  exitCode = 1;
} finally {
  await deadLetters?.close().catch(() => undefined);
  redisClient?.disconnect();
  await client?.close(true).catch(() => undefined);
  await Promise.all([...workers, ...watchers].map((child) => child.stop('SIGTERM', 10_000)));
  await Promise.all([mongo.stop('SIGTERM', 10_000), redis.stop('SIGTERM', 10_000)]);
  killAllChildren();
  if (exitCode === 0 && !values.keep) await rm(runDir, { recursive: true, force: true });
}
process.exit(exitCode);
