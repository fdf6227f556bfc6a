// The faults of a chaos run, at seeded random times: worker SIGKILLs (repeatedly), a graceful worker SIGTERM,
// two SIGKILLs of the active watcher, one FLUSHALL, one redis-server restart and one MongoDB restart; on a Redis
// Cluster the SIGKILL of a master and the later restart of that node instead of FLUSHALL and the restart. Also
// measures watcher failover (holder killed → another holder active), recovery after FLUSHALL and the master's
// failover to its replica.
import { Redis, type Cluster } from 'ioredis';
import type { Db } from 'mongodb';
import type { SagaDocument } from '../../src/model/saga-document.js';
import { TERMINAL_STATUSES } from '../../src/model/saga-document.js';
import { queueKeyPrefix, stepQueueName } from '../../src/queue/queue-names.js';
import type { LeaseDocument } from '../../src/store/lease.js';
import type { ManagedProcess } from './chaos-processes.js';
import type { AnyChaosCluster, RunnerClients } from './chaos-cluster.js';
import { MasterFailover } from './master-failover.js';
import { SeededRandom } from './seeded-random.js';

export interface FaultInjectorOptions {
  readonly random: SeededRandom;
  readonly db: Db;
  readonly redis: Redis | Cluster;
  readonly mongo: ManagedProcess;
  /** One redis-server, or the master failover of a Redis Cluster. */
  readonly redisServer: ManagedProcess | MasterFailover;
  /** A key of the busiest queue (order-fulfillment's steps): its master is the one a cluster run kills. */
  readonly busyQueueKey?: string;
  readonly watchers: readonly ManagedProcess[];
  readonly workers: readonly ManagedProcess[];
  readonly say: (line: string) => void;
}

export type Fault =
  | 'kill-worker'
  | 'term-worker'
  | 'kill-watcher'
  | 'flushall'
  | 'restart-redis'
  | 'restart-mongo'
  | 'kill-redis-master'
  | 'restart-redis-node';

const LEASE_ID = 'trigger:order-fulfillment';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const secondsList = (values: readonly number[]): string =>
  values.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ');

/** The wait list of order-fulfillment's step queue, as BullMQ names it (the saga that gets the most steps). */
function busyQueueKey(prefix: string): string {
  const queue = stepQueueName('order-fulfillment');
  return `${queueKeyPrefix(prefix, queue)}:${queue}:wait`;
}

export class FaultInjector {
  private kills = 0;
  private redisFlushes = 0;
  private mongoRestarts = 0;
  private redisRestarts = 0;
  private graceful = 0;
  private readonly failovers: number[] = [];
  private readonly flushRecoveries: string[] = [];
  private masterKills = 0;
  private readonly masterFailovers: number[] = [];
  private readonly rejoins: number[] = [];
  private readonly background: Promise<void>[] = [];

  constructor(private readonly options: FaultInjectorOptions) {}

  /** The faults of a runner's cluster, scheduled from `seed` (a random stream of their own, apart from the orders'). */
  static forCluster(
    cluster: AnyChaosCluster,
    clients: RunnerClients,
    roles: { watchers: readonly ManagedProcess[]; workers: readonly ManagedProcess[] },
    seed: number,
    say: (line: string) => void,
  ): FaultInjector {
    return new FaultInjector({
      random: new SeededRandom(seed ^ 0x5eed),
      db: clients.db,
      redis: clients.redis,
      mongo: cluster.mongo,
      redisServer: cluster.redisCluster ? new MasterFailover(cluster.redisCluster) : cluster.redis,
      busyQueueKey: busyQueueKey(cluster.env.SAGASTREAM_QUEUE_PREFIX!),
      ...roles,
      say,
    });
  }

  /** The fault schedule over `durationMs`: single faults at spread-out fractions, worker kills in between. */
  plan(durationMs: number): { at: number; fault: Fault }[] {
    const { random } = this.options;
    const jitter = (fraction: number): number =>
      Math.round(durationMs * (fraction + random.between(-0.03, 0.03)));
    // FLUSHALL and a restart of the one server have no counterpart on a cluster: its master is killed instead.
    const redisFaults: Fault[] = this.onRedisCluster()
      ? ['kill-redis-master', 'restart-redis-node']
      : ['flushall', 'restart-redis'];
    const faults: { at: number; fault: Fault }[] = [
      { at: jitter(0.15), fault: 'kill-watcher' },
      { at: jitter(0.3), fault: 'term-worker' },
      { at: jitter(0.4), fault: redisFaults[0]! },
      { at: jitter(0.52), fault: redisFaults[1]! },
      { at: jitter(0.65), fault: 'kill-watcher' },
      { at: jitter(0.8), fault: 'restart-mongo' },
    ];
    const workerKills = Math.max(3, Math.round(durationMs / 20_000));
    for (let kill = 0; kill < workerKills; kill += 1) {
      faults.push({ at: Math.round(durationMs * random.between(0.05, 0.9)), fault: 'kill-worker' });
    }
    return faults.sort((a, b) => a.at - b.at);
  }

  async run(durationMs: number): Promise<void> {
    const begin = Date.now();
    for (const { at, fault } of this.plan(durationMs)) {
      await sleep(Math.max(0, begin + at - Date.now()));
      try {
        await this.inject(fault);
      } catch (error) {
        this.options.say(`fault ${fault} could not be injected: ${(error as Error).message}`);
        throw error;
      }
    }
  }

  /** Waits for the background measurements (bounded by their own timeouts). */
  async settled(): Promise<void> {
    await Promise.all(this.background);
  }

  counts(): Record<string, number | number[]> {
    const counts = { kills: this.kills, redisFlushes: this.redisFlushes, mongoRestarts: this.mongoRestarts };
    if (!this.onRedisCluster()) return counts;
    const seconds = (values: number[]): number[] => values.map((ms) => Math.round(ms / 100) / 10);
    return {
      ...counts,
      redisMasterKills: this.masterKills,
      redisFailoverSeconds: seconds(this.masterFailovers),
      redisRejoinSeconds: seconds(this.rejoins),
    };
  }

  private onRedisCluster(): boolean {
    return this.options.redisServer instanceof MasterFailover;
  }

  summary(): string[] {
    const failovers = secondsList(this.failovers);
    const redis = this.onRedisCluster()
      ? `${this.masterKills} Redis master SIGKILLs (failover ${secondsList(this.masterFailovers) || 'not measured'}), ` +
        `${this.rejoins.length} killed masters back as replicas (FLUSHALL and redis-server restarts are left out ` +
        'on a Redis Cluster)'
      : `${this.redisFlushes} FLUSHALL, ${this.redisRestarts} redis-server restarts`;
    return [
      `faults: ${this.kills} SIGKILLs, ${this.graceful} graceful worker stops, ${redis}, ` +
        `${this.mongoRestarts} MongoDB restarts`,
      `watcher failover (holder killed → standby active): ${failovers || 'not measured'}`,
      ...this.flushRecoveries,
    ];
  }

  /** One fault now (the soak schedules its own). */
  async inject(fault: Fault): Promise<void> {
    const { random, say, workers } = this.options;
    switch (fault) {
      case 'kill-worker': {
        const worker = random.pick(workers);
        say(`SIGKILL ${worker.spec.name} (pid ${String(worker.pid)})`);
        await worker.stop('SIGKILL');
        this.kills += 1;
        await sleep(random.int(200, 2_000));
        await worker.start();
        return;
      }
      case 'term-worker': {
        const worker = random.pick(workers);
        say(`SIGTERM ${worker.spec.name} (graceful)`);
        await worker.stop('SIGTERM');
        this.graceful += 1;
        await worker.start();
        return;
      }
      case 'kill-watcher':
        return this.killActiveWatcher();
      case 'flushall':
        return this.flushRedis();
      case 'restart-redis':
        await this.restart(this.redisProcess(), 'redis-server');
        this.redisRestarts += 1;
        return;
      case 'kill-redis-master':
        return this.killRedisMaster();
      case 'restart-redis-node': {
        const { address, rejoinMs } = await this.failover().restartKilled();
        this.rejoins.push(rejoinMs);
        say(`killed master ${address} started again: a replica after ${(rejoinMs / 1000).toFixed(1)} s`);
        return;
      }
      case 'restart-mongo':
        await this.restart(this.options.mongo, 'the embedded MongoDB server');
        this.mongoRestarts += 1;
        return;
    }
  }

  private redisProcess(): ManagedProcess {
    const { redisServer } = this.options;
    if (redisServer instanceof MasterFailover)
      throw new Error('no single redis-server in a Redis Cluster run');
    return redisServer;
  }

  private failover(): MasterFailover {
    const { redisServer } = this.options;
    if (!(redisServer instanceof MasterFailover)) throw new Error('a master kill needs a Redis Cluster run');
    return redisServer;
  }

  private async killRedisMaster(): Promise<void> {
    const { busyQueueKey, say } = this.options;
    if (busyQueueKey === undefined) throw new Error('no busy queue key to pick a master by');
    say(`SIGKILL the Redis master serving ${busyQueueKey}`);
    const kill = await this.failover().killMasterOf(busyQueueKey);
    this.kills += 1;
    this.masterKills += 1;
    this.masterFailovers.push(kill.failoverMs);
    say(
      `Redis failover: master ${kill.address} (slot ${kill.slot}) SIGKILLed, replica ${kill.replica} took over ` +
        `after ${(kill.failoverMs / 1000).toFixed(1)} s`,
    );
  }

  /** SIGTERM a server, leave it down for 1–3 s, start it again on the same port and data. */
  private async restart(server: ManagedProcess, name: string): Promise<void> {
    const { random, say } = this.options;
    say(`stopping ${name} (SIGTERM)`);
    await server.stop('SIGTERM');
    await sleep(random.int(1_000, 3_000));
    await server.start();
    say(`${name} is back`);
  }

  private async lease(): Promise<LeaseDocument | null> {
    return this.options.db.collection<LeaseDocument>('leases').findOne({ _id: LEASE_ID });
  }

  private async killActiveWatcher(): Promise<void> {
    const { say, watchers } = this.options;
    const lease = await this.lease();
    const holderPid = lease === null ? undefined : Number(lease.holder.split(':')[1]);
    const active = watchers.find((watcher) => watcher.pid === holderPid);
    if (lease === null || active === undefined) throw new Error(`no live watcher holds ${LEASE_ID}`);
    say(
      `SIGKILL active ${active.spec.name} (pid ${String(active.pid)}, fencing token ${lease.fencingToken})`,
    );
    const killedAt = Date.now();
    await active.stop('SIGKILL');
    this.kills += 1;
    // The killed one comes back as a standby, so the next kill also has someone to take over.
    await active.start();
    const deadline = killedAt + 60_000;
    for (;;) {
      const current = await this.lease().catch(() => null);
      if (
        current !== null &&
        current.fencingToken > lease.fencingToken &&
        current.expiresAt.getTime() > Date.now()
      ) {
        const failoverMs = Date.now() - killedAt;
        this.failovers.push(failoverMs);
        say(`watcher failover: ${current.holder} active after ${(failoverMs / 1000).toFixed(1)} s`);
        return;
      }
      if (Date.now() > deadline) throw new Error('no watcher took over the lease within 60 s');
      await sleep(100);
    }
  }

  private async flushRedis(): Promise<void> {
    const { db, say } = this.options;
    const sagas = db.collection<SagaDocument>('sagas');
    const open = await sagas
      .find({ status: { $nin: [...TERMINAL_STATUSES] } }, { projection: { revision: 1 } })
      .toArray();
    const { redis } = this.options;
    // Never reached on a cluster (the plan leaves FLUSHALL out), where it would empty one master only.
    if (!(redis instanceof Redis)) throw new Error('FLUSHALL needs a single redis-server');
    await redis.flushall();
    const flushedAt = Date.now();
    this.redisFlushes += 1;
    say(`FLUSHALL with ${open.length} sagas in flight`);
    // Recovery: every saga in flight at the flush has moved on (its revision changed) or ended.
    this.background.push(
      (async () => {
        const revisions = new Map(open.map((saga) => [saga._id, saga.revision]));
        let firstProgressMs: number | undefined;
        while (revisions.size > 0 && Date.now() - flushedAt < 180_000) {
          await sleep(250);
          const now = await sagas
            .find({ _id: { $in: [...revisions.keys()] } }, { projection: { revision: 1 } })
            .toArray()
            .catch(() => []);
          for (const saga of now) {
            if (saga.revision !== revisions.get(saga._id)) {
              revisions.delete(saga._id);
              firstProgressMs ??= Date.now() - flushedAt;
            }
          }
        }
        const all =
          revisions.size === 0 ? `${((Date.now() - flushedAt) / 1000).toFixed(1)} s` : 'not within 180 s';
        this.flushRecoveries.push(
          `recovery after FLUSHALL (${open.length} sagas in flight): first progress after ` +
            `${firstProgressMs === undefined ? '-' : (firstProgressMs / 1000).toFixed(1)} s, all moved on after ${all}`,
        );
      })(),
    );
  }
}
