// `npm run test:soak -- [--minutes 60] [--rate R] [--fault-every-seconds S] [--window-seconds W] ...`: a steady
// load at about half capacity for a long time, with a fault every few minutes in turn: SIGKILL of a worker (and
// restart), a redis-server restart, a partition of the proxied worker's MongoDB or Redis link. Samples RSS, open
// descriptors, live heap and event-loop delay of every process after a warm-up, at the middle and at the end,
// counts sagas/s per window, checks the invariants and the soak's goals (soak-goals.ts), and prints one JSON line.
// Each sample also counts every process's descriptors by kind and peer (process-probe.ts), and whether a watcher
// led its trigger.
// Exit 1 when an invariant fails, a worker had to be restarted to resume, or (runs of 30 minutes or more, or
// --goals) a goal is missed.
import { parseArgs } from 'node:util';
import { findFreePort } from '../../src/embedded/redis-launcher.js';
import type { SagaDocument } from '../../src/model/saga-document.js';
import type { ManagedProcess } from './chaos-processes.js';
import {
  createCluster,
  killChildrenOnExit,
  progress,
  roleProcess,
  sleep,
  startServers,
  stopCluster,
  type RunnerClients,
} from './chaos-cluster.js';
import { checkWithDeadLetters, violations, waitForQuiescence } from './closing-checks.js';
import { FaultInjector } from './fault-injector.js';
import { OrderFeed } from './order-feed.js';
import { completedStepsNow, measureWorkerResume } from './partition-measures.js';
import { sampleProcess, type ProcessSample } from './process-probe.js';
import { judgeSoak } from './soak-goals.js';
import { ProxiedLinks, type LinkTarget } from './proxied-links.js';
import { SeededRandom } from './seeded-random.js';
import type { ProxyMode } from './tcp-proxy.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    rate: { type: 'string', default: '6' },
    'fault-every-seconds': { type: 'string', default: '180' },
    'partition-seconds': { type: 'string', default: '20' },
    'window-seconds': { type: 'string', default: '300' },
    'drain-seconds': { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    goals: { type: 'boolean' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const faultEverySeconds = Number(values['fault-every-seconds']);
const partitionSeconds = Number(values['partition-seconds']);
const windowSeconds = Number(values['window-seconds']);
const drainSeconds = Number(values['drain-seconds']);
const seed = Number(values.seed);
/** Shorter runs report the goals; their first window and warm-up are too short to hold them to it. */
const enforceGoals = values.goals ?? minutes >= 30;
if (
  ![minutes, rate, faultEverySeconds, partitionSeconds, windowSeconds, drainSeconds, seed].every(
    Number.isFinite,
  ) ||
  minutes <= 0 ||
  rate <= 0 ||
  faultEverySeconds < 20 ||
  windowSeconds < 10
) {
  process.stderr.write(
    'usage: run-soak.ts [--minutes 60] [--rate 6] [--fault-every-seconds 180 (>= 20)]\n' +
      '  [--partition-seconds 20] [--window-seconds 300 (>= 10)] [--drain-seconds 300] [--seed 1] [--keep] [--goals]\n',
  );
  process.exit(2);
}

/** Each partition is the next of these, on the proxied worker's links. */
const PARTITIONS: readonly { target: LinkTarget; mode: ProxyMode }[] = [
  { target: 'redis', mode: 'drop' },
  { target: 'mongo', mode: 'stall' },
  { target: 'redis', mode: 'reset' },
  { target: 'mongo', mode: 'drop' },
  { target: 'redis', mode: 'stall' },
  { target: 'mongo', mode: 'reset' },
];
/** How long each sample reads RSS (once a second) and the event-loop delay over. */
const SAMPLE_PERIOD_MS = 10_000;
const WARM_UP_MAX_MS = 10 * 60_000;
/**
 * No fault in this long before the end sample (a sixth of the run, at most 2 minutes): a fault's burst (a killed
 * worker's stalled steps, a backlog after a partition) grows the connection pools, which close idle connections
 * after a minute, so the last sample measures the steady state rather than the last fault.
 */
const SETTLE_MAX_MS = 2 * 60_000;

const started = Date.now();
const say = progress('soak', started);
killChildrenOnExit();
const cluster = await createCluster('soak', `soak-${seed}`);
const links = await ProxiedLinks.start(cluster);
const metricsPorts = new Map<ManagedProcess, number>();
async function monitoredRole(name: string, args: string[], env: Record<string, string> = {}) {
  const port = await findFreePort();
  const role = roleProcess(cluster, name, [...args, '--metrics-port', String(port)], env);
  metricsPorts.set(role, port);
  return role;
}
const watchers = [await monitoredRole('watcher1', ['watcher']), await monitoredRole('watcher2', ['watcher'])];
const proxiedWorker = await monitoredRole('worker-proxied', ['worker'], links.env());
const directWorker = await monitoredRole('worker-direct', ['worker']);
const workers = [proxiedWorker, directWorker];
const roles = [...watchers, ...workers];
say(
  `run dir ${cluster.runDir}; ${minutes} min at ${rate} orders/s, a fault every ${faultEverySeconds} s, ` +
    `windows of ${windowSeconds} s`,
);

type Samples = Record<string, ProcessSample>;
/** Names for the remote ports of the descriptors sampled: a socket left per reconnect shows under its target. */
const portNames = new Map<number, string>([
  [cluster.mongoPort, 'mongo'],
  [cluster.redisPort, 'redis'],
  [links.mongo.port, 'mongo-proxy'],
  [links.redis.port, 'redis-proxy'],
]);
async function sampleAll(): Promise<Samples> {
  const all = [cluster.mongo, ...roles];
  const taken = await Promise.all(
    all.map((role) => sampleProcess(role.pid, metricsPorts.get(role), SAMPLE_PERIOD_MS, portNames)),
  );
  return Object.fromEntries(all.map((role, index) => [role.spec.name, taken[index]!]));
}

/** Sagas that ended per second in each full window of the load phase. */
async function throughputWindows(clients: RunnerClients, from: number, to: number): Promise<number[]> {
  const ended = await clients.db
    .collection<SagaDocument>('sagas')
    .find(
      { endedAt: { $gte: new Date(from), $lt: new Date(to) } },
      { projection: { endedAt: 1 }, sort: { endedAt: 1 } },
    )
    .toArray();
  const windows = Array.from({ length: Math.floor((to - from) / (windowSeconds * 1000)) }, () => 0);
  for (const { endedAt } of ended) {
    const index = Math.floor((endedAt!.getTime() - from) / (windowSeconds * 1000));
    if (index < windows.length) windows[index]! += 1;
  }
  return windows.map((count) => Math.round((count / windowSeconds) * 100) / 100);
}

let exitCode = 1;
let clients: RunnerClients | undefined;
let ticker: NodeJS.Timeout | undefined;
try {
  clients = await startServers(cluster);
  const { db } = clients;
  for (const role of roles) await role.start();
  say(
    'processes ready: watcher1, watcher2, worker-proxied (MongoDB and Redis through proxies), worker-direct',
  );
  const feed = new OrderFeed({ db, random: new SeededRandom(seed), runId: `k${seed}`, rate, say });
  // Kills hit worker-direct only: worker-proxied lives through the whole run (and its partitions), so one
  // worker's memory is judged from the first sample to the last.
  const faults = FaultInjector.forCluster(cluster, clients, { watchers, workers: [directWorker] }, seed, say);
  const feeding = feed.run();
  ticker = setInterval(() => void feed.progress().then(say), 30_000);
  const loadStart = Date.now();
  const loadEnd = loadStart + minutes * 60_000;
  const samples: { start?: Samples; middle?: Samples; end?: Samples } = {};
  // Samples run beside the faults: warm-up first (a sixth of the run, at most 10 minutes: the JIT, the heap's
  // young generation and the allocator settle in the first minutes under load), then the middle.
  const sampling = (async () => {
    await sleep(Math.min(WARM_UP_MAX_MS, (minutes * 60_000) / 6));
    samples.start = await sampleAll();
    say(`start sample: ${JSON.stringify(samples.start)}`);
    await sleep(Math.max(0, loadStart + (loadEnd - loadStart) / 2 - Date.now()));
    samples.middle = await sampleAll();
    say(`middle sample: ${JSON.stringify(samples.middle)}`);
  })();
  const partitions: { link: string; mode: ProxyMode; resumeSeconds: number | null }[] = [];
  let kills = 0;
  let redisRestarts = 0;
  let stuckRestarts = 0;
  for (let round = 0; ; round += 1) {
    // Partition first, so that a short run has one; each fault must be over (heal, recovery) before the end.
    const kind = (['partition', 'kill-worker', 'restart-redis'] as const)[round % 3]!;
    const due = loadStart + (round + 0.5) * faultEverySeconds * 1000;
    const reserveMs = (kind === 'partition' ? partitionSeconds + 65 : 15) * 1000;
    const settleMs = Math.min(SETTLE_MAX_MS, (minutes * 60_000) / 6);
    if (due + reserveMs > loadEnd - SAMPLE_PERIOD_MS - settleMs) break;
    await sleep(Math.max(0, due - Date.now()));
    if (kind === 'kill-worker') {
      await faults.inject('kill-worker');
      kills += 1;
    } else if (kind === 'restart-redis') {
      await faults.inject('restart-redis');
      redisRestarts += 1;
    } else {
      const { target, mode } = PARTITIONS[(round / 3) % PARTITIONS.length]!;
      say(`worker-proxied ${target} ${mode} for ${partitionSeconds} s`);
      links.set([target], mode);
      await sleep(partitionSeconds * 1000);
      const port = metricsPorts.get(proxiedWorker)!;
      const baseline = await completedStepsNow(port);
      links.set([target], 'pass');
      const { resumeSeconds } = await measureWorkerResume(port, Date.now(), baseline, 0, 60_000);
      partitions.push({ link: `worker-${target}`, mode, resumeSeconds });
      say(`healed; worker-proxied's first step ${resumeSeconds ?? 'not within 60'} s after the heal`);
      if (resumeSeconds === null) {
        say('worker-proxied is stuck: SIGKILL and restart');
        await proxiedWorker.stop('SIGKILL');
        await proxiedWorker.start();
        stuckRestarts += 1;
      }
    }
  }
  await sampling;
  await sleep(Math.max(0, loadEnd - SAMPLE_PERIOD_MS - Date.now()));
  samples.end = await sampleAll();
  say(`end sample: ${JSON.stringify(samples.end)}`);
  await feed.stop();
  await feeding;
  clearInterval(ticker);
  const windows = await throughputWindows(clients, loadStart, Date.now());
  say(`sagas/s per ${windowSeconds} s window: ${windows.join(', ')}`);
  say(`${feed.count} orders inserted; waiting for every saga to end (at most ${drainSeconds} s)`);
  const quiet = await waitForQuiescence(db, feed.count, drainSeconds, say);
  say(quiet ? 'every saga has ended' : 'gave up waiting: some sagas have not ended');
  const { counts } = await checkWithDeadLetters(
    db,
    clients.redis,
    cluster.env.SAGASTREAM_QUEUE_PREFIX!,
    feed.count,
    say,
  );
  const processes = Object.fromEntries(
    Object.keys(samples.end).map((name) => [
      name,
      { start: samples.start?.[name], middle: samples.middle?.[name], end: samples.end?.[name] },
    ]),
  );
  const goals = judgeSoak(processes, windows, {
    [cluster.mongo.spec.name]: 'the MongoDB server holds every stored saga: its memory grows with the data',
  });
  say(
    `goals ${goals.met ? 'met' : 'missed'}: RSS and descriptors ${goals.flat ? 'flat' : 'NOT flat'} within 10 %, ` +
      `throughput ${goals.steady ? 'steady' : 'NOT steady'} within 15 % (largest deviation ` +
      `${goals.throughputDeviation ?? 'n/a'})${enforceGoals ? '' : ' (reported, not enforced on a short run)'}`,
  );
  // A worker that had to be killed to resume after a partition is a failure too, not only a lost saga.
  const passed = violations(counts) === 0 && stuckRestarts === 0 && (goals.met || !enforceGoals);
  exitCode = passed ? 0 : 1;
  say(
    exitCode === 0
      ? 'all invariants hold'
      : `FAILED (${violations(counts)} invariant violations, ${stuckRestarts} stuck workers, goals ` +
          `${goals.met ? 'met' : 'missed'}); logs kept in ${cluster.runDir}`,
  );
  const figures = { minutes, rate, windowSeconds, processes, sagasPerSecond: windows, goals };
  const faultCounts = { kills, redisRestarts, partitions, stuckRestarts };
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stdout.write(`${JSON.stringify({ ...figures, faults: faultCounts, ...counts, seconds })}\n`);
} catch (error) {
  say(`soak aborted: ${(error as Error).stack ?? String(error)}`);
  exitCode = 1;
} finally {
  clearInterval(ticker);
  links.set(['mongo', 'redis'], 'pass');
  await clients?.close();
  await stopCluster(cluster, roles, exitCode === 0 && !values.keep);
  await links.close();
}
process.exit(exitCode);
