// `npm run test:chaos -- [--orders N] [--checkouts N] [--seconds S] [--seed X] [--drain-seconds D] [--redis-cluster]`:
// runs the real processes (embedded MongoDB, redis-server or a local Redis Cluster, 2 watchers, 3 workers), feeds
// orders and checkouts (whose payment answers it writes itself), injects faults at seeded random times,
// waits for every saga to end and checks the invariants. The last stdout line is one JSON object.
import { parseArgs } from 'node:util';
import {
  createCluster,
  createRedisClusterRun,
  killChildrenOnExit,
  progress,
  roleProcess,
  startServers,
  stopCluster,
  type RunnerClients,
} from './chaos-cluster.js';
import { checkWithDeadLetters, violations, waitForQuiescence } from './closing-checks.js';
import { CheckoutFeed } from './checkout-feed.js';
import { FaultInjector } from './fault-injector.js';
import { OrderFeed } from './order-feed.js';
import { SeededRandom } from './seeded-random.js';

// The partitions scenario has options of its own (see partition-scenario.ts).
if (process.argv.includes('--partitions')) {
  const { runPartitionScenario } = await import('./partition-scenario.js');
  process.exit(await runPartitionScenario(process.argv.slice(2).filter((arg) => arg !== '--partitions')));
}

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '300' },
    // Checkouts for order-payment (a wait for the provider's answer, then a parallel group), besides the orders.
    checkouts: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '90' },
    seed: { type: 'string', default: '1' },
    'drain-seconds': { type: 'string', default: '240' },
    keep: { type: 'boolean', default: false },
    // A local Redis Cluster (3 masters, 3 replicas) instead of one redis-server; a master is SIGKILLed mid-run.
    'redis-cluster': { type: 'boolean', default: false },
  },
});
const orderCount = Number(values.orders);
const checkoutCount = Number(values.checkouts);
const runSeconds = Number(values.seconds);
const seed = Number(values.seed);
const drainSeconds = Number(values['drain-seconds']);
if (
  ![orderCount, checkoutCount, runSeconds, seed, drainSeconds].every(Number.isFinite) ||
  orderCount < 1 ||
  checkoutCount < 0 ||
  runSeconds < 10
) {
  process.stderr.write(
    'usage: run-chaos.ts [--orders N>=1] [--checkouts N>=0] [--seconds S>=10] [--seed X] [--drain-seconds D] ' +
      '[--redis-cluster] [--keep]\n',
  );
  process.exit(2);
}

const started = Date.now();
const say = progress('chaos', started);
killChildrenOnExit();

const cluster = values['redis-cluster']
  ? await createRedisClusterRun('chaos', `chaos-${seed}`)
  : await createCluster('chaos', `chaos-${seed}`);
say(
  `run dir ${cluster.runDir}; ${orderCount} orders and ${checkoutCount} checkouts over ${runSeconds} s, seed ${seed}`,
);
if (cluster.redisCluster) {
  say(
    `Redis Cluster ${cluster.redisCluster.url} (3 masters, 3 replicas): a master is SIGKILLed and restarted ` +
      'instead of FLUSHALL and the redis-server restart, which this mode leaves out',
  );
}
const watchers = [1, 2].map((n) => roleProcess(cluster, `watcher${n}`, ['watcher']));
const workers = [1, 2, 3].map((n) => roleProcess(cluster, `worker${n}`, ['worker']));

let exitCode = 1;
let clients: RunnerClients | undefined;
try {
  clients = await startServers(cluster);
  const { db } = clients;
  for (const watcher of watchers) await watcher.start();
  await Promise.all(workers.map((worker) => worker.start()));
  say('all processes ready');

  const feed = new OrderFeed({
    db,
    random: new SeededRandom(seed),
    runId: `s${seed}`,
    rate: orderCount / runSeconds,
    total: orderCount,
    say,
  });
  const checkouts = new CheckoutFeed({
    db,
    random: new SeededRandom(seed + 1),
    runId: `s${seed}`,
    rate: checkoutCount / runSeconds,
    total: checkoutCount,
    say,
  });
  const faults = FaultInjector.forCluster(cluster, clients, { watchers, workers }, seed, say);
  await Promise.all([feed.run(), checkouts.run(), faults.run(runSeconds * 1000)]);
  await checkouts.answered();
  say(
    `all ${orderCount} orders and ${checkoutCount} checkouts inserted, every payment answer written; waiting for ` +
      `every saga to end (at most ${drainSeconds} s)`,
  );
  const quiet = await waitForQuiescence(db, orderCount, drainSeconds, say, checkoutCount);
  say(quiet ? 'every saga has ended' : 'gave up waiting: some sagas have not ended');
  await faults.settled();

  const { counts } = await checkWithDeadLetters(
    db,
    clients.redis,
    cluster.env.SAGASTREAM_QUEUE_PREFIX!,
    orderCount,
    say,
    checkoutCount,
  );
  const seconds = Math.round((Date.now() - started) / 1000);
  for (const line of faults.summary()) say(line);
  exitCode = violations(counts) === 0 ? 0 : 1;
  say(exitCode === 0 ? 'all invariants hold' : `INVARIANTS VIOLATED; logs kept in ${cluster.runDir}`);
  process.stdout.write(`${JSON.stringify({ ...counts, ...faults.counts(), seconds })}\n`);
} catch (error) {
  say(`chaos run aborted: ${(error as Error).stack ?? String(error)}`);
  exitCode = 1;
} finally {
  await clients?.close();
  await stopCluster(cluster, [...workers, ...watchers], exitCode === 0 && !values.keep);
}
process.exit(exitCode);
