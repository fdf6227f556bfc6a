// `npm run test:chaos -- --partitions [...]`: one worker and the leading watcher reach MongoDB and Redis through
// their own TcpProxy each, beside a direct worker and a direct standby watcher, while orders arrive at a steady
// rate. Each chosen link is dropped, stalled or reset for --fault-seconds, then healed, and the recovery is
// measured; then SIGTERM while both links of a process are dropped. Ends with the invariant checks and one
// JSON line. Exit 1 when an invariant fails, a process never recovered, or SIGTERM needed SIGKILL.
import { parseArgs } from 'node:util';
import { findFreePort } from '../../src/embedded/redis-launcher.js';
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
  type Say,
} from './chaos-cluster.js';
import { checkWithDeadLetters, violations, waitForQuiescence } from './closing-checks.js';
import { OrderFeed } from './order-feed.js';
import {
  completedStepsNow,
  leaseHolderPid,
  measureSigterm,
  measureTriggerRecovery,
  measureWorkerResume,
  ReadinessWatch,
  type ReadinessFigures,
  waitForLeader,
  type SigtermResult,
  type TriggerRecovery,
  type WorkerResume,
} from './partition-measures.js';
import { ProxiedLinks, type LinkTarget } from './proxied-links.js';
import { SeededRandom } from './seeded-random.js';

const LINKS = ['worker-mongo', 'worker-redis', 'watcher-mongo', 'watcher-redis'] as const;
type Link = (typeof LINKS)[number];
const FAULT_MODES = ['drop', 'stall', 'reset'] as const;
type FaultMode = (typeof FAULT_MODES)[number];
const ROLES = ['worker', 'watcher'] as const;
type Role = (typeof ROLES)[number];

/** Beyond this, SIGTERM is followed by SIGKILL (an orchestrator's grace period). */
const SIGTERM_GRACE_MS = 45_000;
/** The issue's goals, reported (not enforced): resume ≤ 10 s, trigger gap ≤ 25 s, SIGTERM ≤ 15 s. */
const GOALS = { resumeSeconds: 10, triggerGapSeconds: 25, sigtermSeconds: 15, readinessSeconds: 10 };

const USAGE =
  'usage: run-chaos.ts --partitions [--links worker-mongo,worker-redis,watcher-mongo,watcher-redis]\n' +
  '  [--modes drop,stall,reset] [--sigterm worker,watcher|none] [--fault-seconds 30] [--rate 10]\n' +
  '  [--recovery-seconds 60] [--settle-seconds 5] [--drain-seconds 300] [--seed 1] [--keep]\n';

function listOption<T extends string>(value: string, allowed: readonly T[], name: string): T[] {
  if (value === 'none') return [];
  const items = value.split(',').map((item) => item.trim());
  const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item));
  if (unknown.length > 0)
    throw new Error(`--${name}: unknown ${unknown.join(', ')} (one of ${allowed.join(', ')})`);
  return items as T[];
}

function parseOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      links: { type: 'string', default: LINKS.join(',') },
      modes: { type: 'string', default: FAULT_MODES.join(',') },
      sigterm: { type: 'string', default: ROLES.join(',') },
      'fault-seconds': { type: 'string', default: '30' },
      rate: { type: 'string', default: '10' },
      'recovery-seconds': { type: 'string', default: '60' },
      'settle-seconds': { type: 'string', default: '5' },
      'drain-seconds': { type: 'string', default: '300' },
      seed: { type: 'string', default: '1' },
      keep: { type: 'boolean', default: false },
    },
  });
  const numbers = {
    faultSeconds: Number(values['fault-seconds']),
    rate: Number(values.rate),
    recoverySeconds: Number(values['recovery-seconds']),
    settleSeconds: Number(values['settle-seconds']),
    drainSeconds: Number(values['drain-seconds']),
    seed: Number(values.seed),
  };
  if (!Object.values(numbers).every(Number.isFinite) || numbers.faultSeconds <= 0 || numbers.rate <= 0) {
    throw new Error('the numeric options must be numbers, --fault-seconds and --rate above 0');
  }
  return {
    ...numbers,
    links: listOption(values.links, LINKS, 'links'),
    modes: listOption(values.modes, FAULT_MODES, 'modes'),
    sigterm: listOption(values.sigterm, ROLES, 'sigterm'),
    keep: values.keep,
  };
}

type Options = ReturnType<typeof parseOptions>;

type FaultFigures = { link: Link; mode: FaultMode; restarted: boolean } & (
  | ({ role: 'worker' } & WorkerResume & ReadinessFigures)
  | ({ role: 'watcher'; leaderChanged: boolean } & TriggerRecovery)
);

/** The processes of the scenario; the proxied ones are the fault targets. */
interface Cast {
  readonly worker: ManagedProcess;
  readonly workerLinks: ProxiedLinks;
  readonly workerMetricsPort: number;
  readonly watcher: ManagedProcess;
  readonly watcherLinks: ProxiedLinks;
  readonly standby: ManagedProcess;
  readonly others: readonly ManagedProcess[];
}

class PartitionRun {
  readonly figures: FaultFigures[] = [];
  readonly sigterm: Partial<Record<Role, SigtermResult>> = {};

  constructor(
    private readonly clients: RunnerClients,
    private readonly cast: Cast,
    private readonly feed: OrderFeed,
    private readonly options: Options,
    private readonly say: Say,
  ) {}

  /**
   * The proxied watcher takes the lease: a direct watcher holding it is stopped gracefully (and started again
   * afterwards); a lease left by a killed holder is waited out. The proxied watcher is restarted once if it
   * does not take over within 45 s.
   */
  async makeProxiedWatcherLead(): Promise<void> {
    const { db } = this.clients;
    const { watcher, standby } = this.cast;
    if (!watcher.running) await watcher.start();
    const begin = Date.now();
    let restarted = false;
    for (;;) {
      const holder = await leaseHolderPid(db);
      if (holder !== undefined && holder === watcher.pid) break;
      if (holder !== undefined && holder === standby.pid) {
        this.say('the direct watcher leads: SIGTERM it so that the proxied one takes over');
        await standby.stop('SIGTERM', 20_000);
      }
      if (!restarted && Date.now() - begin > 45_000) {
        this.say('the proxied watcher did not take the lease within 45 s: restarting it');
        await this.restart(watcher);
        restarted = true;
      }
      if (Date.now() - begin > 90_000) throw new Error('the proxied watcher never took the lease');
      await sleep(200);
    }
    if (!standby.running) await standby.start();
  }

  async fault(link: Link, mode: FaultMode): Promise<void> {
    const { faultSeconds, recoverySeconds } = this.options;
    const [role, target] = link.split('-') as [Role, LinkTarget];
    if (role === 'watcher') await this.makeProxiedWatcherLead();
    const links = role === 'worker' ? this.cast.workerLinks : this.cast.watcherLinks;
    const holderBefore = await leaseHolderPid(this.clients.db);
    this.say(`${link} ${mode} for ${faultSeconds} s`);
    const faultAt = Date.now();
    links.set([target], mode);
    const readiness = role === 'worker' ? new ReadinessWatch(this.cast.workerMetricsPort, faultAt) : null;
    await sleep(faultSeconds * 1000);
    const baseline = role === 'worker' ? await completedStepsNow(this.cast.workerMetricsPort) : 0;
    links.set([target], 'pass');
    const healAt = Date.now();
    readiness?.healed(healAt);
    this.say(`${link} healed`);
    if (role === 'worker') {
      const resume = await measureWorkerResume(
        this.cast.workerMetricsPort,
        healAt,
        baseline,
        10_000,
        recoverySeconds * 1000,
      );
      const restarted = resume.resumeSeconds === null;
      this.say(
        restarted
          ? `worker completed no step within ${recoverySeconds} s of the heal: SIGKILL and restart`
          : `worker's first completed step ${resume.resumeSeconds} s after the heal`,
      );
      const ready = (await readiness?.stop()) ?? { notReadySeconds: null, readyAgainSeconds: null };
      this.say(
        `worker /readyz: not ready ${ready.notReadySeconds ?? 'never'} s after the fault, ` +
          `ready again ${ready.readyAgainSeconds ?? 'not'} s after the heal`,
      );
      if (restarted) await this.restart(this.cast.worker);
      this.figures.push({ link, mode, role, ...resume, ...ready, restarted });
    } else {
      const recovery = await measureTriggerRecovery(
        this.clients.db,
        this.feed,
        faultAt,
        healAt,
        recoverySeconds * 1000,
      );
      const leaderChanged = (await leaseHolderPid(this.clients.db)) !== holderBefore;
      const restarted = recovery.catchUpSeconds === null;
      this.say(
        `trigger: longest gap ${recovery.longestGapSeconds} s, caught up ` +
          `${restarted ? `not within ${recoverySeconds} s (SIGKILL and restart the proxied watcher)` : `${recovery.catchUpSeconds} s after the heal`}` +
          `${leaderChanged ? ', the standby took over' : ''}`,
      );
      if (restarted) await this.restart(this.cast.watcher);
      this.figures.push({ link, mode, role, leaderChanged, ...recovery, restarted });
    }
    await sleep(this.options.settleSeconds * 1000);
  }

  /** Drops both links of the proxied `role`, sends SIGTERM a few seconds later, then heals and restarts it. */
  async sigtermWhilePartitioned(role: Role): Promise<void> {
    const target = role === 'worker' ? this.cast.worker : this.cast.watcher;
    const links = role === 'worker' ? this.cast.workerLinks : this.cast.watcherLinks;
    if (role === 'watcher') await this.makeProxiedWatcherLead();
    this.say(`${role}: drop both links, SIGTERM 3 s later (SIGKILL after ${SIGTERM_GRACE_MS / 1000} s)`);
    links.set(['mongo', 'redis'], 'drop');
    await sleep(3_000);
    const result = await measureSigterm(target, SIGTERM_GRACE_MS);
    this.sigterm[role] = result;
    this.say(`${role} ${result.killed ? 'needed SIGKILL' : `exited ${result.exitSeconds} s after SIGTERM`}`);
    links.set(['mongo', 'redis'], 'pass');
    await target.start();
  }

  private async restart(target: ManagedProcess): Promise<void> {
    await target.stop('SIGKILL');
    await target.start();
  }

  /** Processes that never recovered, SIGTERMs that needed SIGKILL, and missed goals. */
  verdict(): { stuck: number; goalsMissed: number } {
    let stuck = this.figures.filter((figure) => figure.restarted).length;
    let goalsMissed = 0;
    for (const figure of this.figures) {
      if (figure.role === 'worker' && (figure.resumeSeconds ?? Infinity) > GOALS.resumeSeconds)
        goalsMissed += 1;
      if (figure.role === 'worker' && (figure.notReadySeconds ?? Infinity) > GOALS.readinessSeconds)
        goalsMissed += 1;
      if (figure.role === 'worker' && (figure.readyAgainSeconds ?? Infinity) > GOALS.readinessSeconds)
        goalsMissed += 1;
      if (figure.role === 'watcher' && figure.longestGapSeconds > GOALS.triggerGapSeconds) goalsMissed += 1;
    }
    for (const result of Object.values(this.sigterm)) {
      if (result.killed) stuck += 1;
      if (result.exitSeconds > GOALS.sigtermSeconds) goalsMissed += 1;
    }
    return { stuck, goalsMissed };
  }
}

async function startCast(
  cluster: Awaited<ReturnType<typeof createCluster>>,
  clients: RunnerClients,
  say: Say,
): Promise<Cast> {
  const workerLinks = await ProxiedLinks.start(cluster);
  const watcherLinks = await ProxiedLinks.start(cluster);
  const workerMetricsPort = await findFreePort();
  const worker = roleProcess(
    cluster,
    'worker-proxied',
    ['worker', '--metrics-port', String(workerMetricsPort)],
    workerLinks.env(),
  );
  const watcher = roleProcess(cluster, 'watcher-proxied', ['watcher'], watcherLinks.env());
  const standby = roleProcess(cluster, 'watcher-direct', ['watcher']);
  const directWorker = roleProcess(cluster, 'worker-direct', ['worker']);
  await watcher.start();
  if (!(await waitForLeader(clients.db, watcher, 30_000)))
    throw new Error('the proxied watcher took no lease');
  await standby.start();
  await Promise.all([worker.start(), directWorker.start()]);
  say('processes ready: worker-proxied, worker-direct, watcher-proxied (leader), watcher-direct (standby)');
  return { worker, workerLinks, workerMetricsPort, watcher, watcherLinks, standby, others: [directWorker] };
}

/** Runs the scenario; returns the exit code. */
export async function runPartitionScenario(args: string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(args);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const started = Date.now();
  const say = progress('partitions', started);
  killChildrenOnExit();
  const cluster = await createCluster('partitions', `partitions-${options.seed}`);
  say(
    `run dir ${cluster.runDir}; links ${options.links.join(',') || 'none'}, modes ${options.modes.join(',') || 'none'}, ` +
      `${options.faultSeconds} s each, ${options.rate} orders/s`,
  );
  let clients: RunnerClients | undefined;
  let cast: Cast | undefined;
  let exitCode = 1;
  let ticker: NodeJS.Timeout | undefined;
  let feed: OrderFeed | undefined;
  try {
    clients = await startServers(cluster);
    cast = await startCast(cluster, clients, say);
    feed = new OrderFeed({
      db: clients.db,
      random: new SeededRandom(options.seed),
      runId: `p${options.seed}`,
      rate: options.rate,
      say,
    });
    const feeding = feed.run();
    const progressOf = feed;
    ticker = setInterval(() => void progressOf.progress().then(say), 15_000);
    const run = new PartitionRun(clients, cast, feed, options, say);
    await sleep(10_000);
    for (const link of options.links) for (const mode of options.modes) await run.fault(link, mode);
    for (const role of options.sigterm) await run.sigtermWhilePartitioned(role);
    await feed.stop();
    await feeding;
    say(`${feed.count} orders inserted; waiting for every saga to end (at most ${options.drainSeconds} s)`);
    const quiet = await waitForQuiescence(clients.db, feed.count, options.drainSeconds, say);
    say(quiet ? 'every saga has ended' : 'gave up waiting: some sagas have not ended');
    const { counts } = await checkWithDeadLetters(
      clients.db,
      clients.redis,
      cluster.env.SAGASTREAM_QUEUE_PREFIX!,
      feed.count,
      say,
    );
    const { stuck, goalsMissed } = run.verdict();
    const failed = violations(counts);
    exitCode = failed === 0 && stuck === 0 ? 0 : 1;
    say(
      `${failed} invariant violations, ${stuck} processes that never recovered or needed SIGKILL, ` +
        `${goalsMissed} missed goals (resume ≤ ${GOALS.resumeSeconds} s, trigger gap ≤ ${GOALS.triggerGapSeconds} s, ` +
        `SIGTERM ≤ ${GOALS.sigtermSeconds} s; reported only)`,
    );
    if (exitCode !== 0) say(`FAILED; logs kept in ${cluster.runDir}`);
    const seconds = Math.round((Date.now() - started) / 1000);
    process.stdout.write(
      `${JSON.stringify({ faults: run.figures, sigterm: run.sigterm, stuck, goalsMissed, ...counts, seconds })}\n`,
    );
  } catch (error) {
    say(`partition run aborted: ${(error as Error).stack ?? String(error)}`);
    exitCode = 1;
  } finally {
    clearInterval(ticker);
    void feed?.stop();
    for (const links of [cast?.workerLinks, cast?.watcherLinks]) links?.set(['mongo', 'redis'], 'pass');
    await clients?.close();
    const roles = cast ? [cast.worker, cast.watcher, cast.standby, ...cast.others] : [];
    await stopCluster(cluster, roles, exitCode === 0 && !options.keep);
    await Promise.all([cast?.workerLinks.close(), cast?.watcherLinks.close()]);
  }
  return exitCode;
}
