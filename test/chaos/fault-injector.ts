// The faults of a chaos run, at seeded random times: worker SIGKILLs (repeatedly), a graceful worker SIGTERM,
// two SIGKILLs of the active watcher, one FLUSHALL, one redis-server restart and one MongoDB restart. Also
// measures watcher failover (holder killed → another holder active) and recovery after FLUSHALL.
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { SagaDocument } from '../../src/model/saga-document.js';
import { TERMINAL_STATUSES } from '../../src/model/saga-document.js';
import type { LeaseDocument } from '../../src/store/lease.js';
import type { ManagedProcess } from './chaos-processes.js';
import type { ChaosCluster, RunnerClients } from './chaos-cluster.js';
import { SeededRandom } from './seeded-random.js';

export interface FaultInjectorOptions {
  readonly random: SeededRandom;
  readonly db: Db;
  readonly redis: Redis;
  readonly mongo: ManagedProcess;
  readonly redisServer: ManagedProcess;
  readonly watchers: readonly ManagedProcess[];
  readonly workers: readonly ManagedProcess[];
  readonly say: (line: string) => void;
}

export type Fault =
  'kill-worker' | 'term-worker' | 'kill-watcher' | 'flushall' | 'restart-redis' | 'restart-mongo';

const LEASE_ID = 'trigger:order-fulfillment';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class FaultInjector {
  private kills = 0;
  private redisFlushes = 0;
  private mongoRestarts = 0;
  private redisRestarts = 0;
  private graceful = 0;
  private readonly failovers: number[] = [];
  private readonly flushRecoveries: string[] = [];
  private readonly background: Promise<void>[] = [];

  constructor(private readonly options: FaultInjectorOptions) {}

  /** The faults of a runner's cluster, scheduled from `seed` (a random stream of their own, apart from the orders'). */
  static forCluster(
    cluster: ChaosCluster,
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
      redisServer: cluster.redis,
      ...roles,
      say,
    });
  }

  /** The fault schedule over `durationMs`: single faults at spread-out fractions, worker kills in between. */
  plan(durationMs: number): { at: number; fault: Fault }[] {
    const { random } = this.options;
    const jitter = (fraction: number): number =>
      Math.round(durationMs * (fraction + random.between(-0.03, 0.03)));
    const faults: { at: number; fault: Fault }[] = [
      { at: jitter(0.15), fault: 'kill-watcher' },
      { at: jitter(0.3), fault: 'term-worker' },
      { at: jitter(0.4), fault: 'flushall' },
      { at: jitter(0.52), fault: 'restart-redis' },
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

  counts(): { kills: number; redisFlushes: number; mongoRestarts: number } {
    return { kills: this.kills, redisFlushes: this.redisFlushes, mongoRestarts: this.mongoRestarts };
  }

  summary(): string[] {
    const failovers = this.failovers.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ');
    return [
      `faults: ${this.kills} SIGKILLs, ${this.graceful} graceful worker stops, ${this.redisFlushes} FLUSHALL, ` +
        `${this.redisRestarts} redis-server restarts, ${this.mongoRestarts} MongoDB restarts`,
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
        await this.restart(this.options.redisServer, 'redis-server');
        this.redisRestarts += 1;
        return;
      case 'restart-mongo':
        await this.restart(this.options.mongo, 'the embedded MongoDB server');
        this.mongoRestarts += 1;
        return;
    }
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
    await this.options.redis.flushall();
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
