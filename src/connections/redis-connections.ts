// Every ioredis connection of a process is made here, with its role's options, an 'error' listener (so nothing
// prints raw dumps) and a RedisHealthCheck. A BullMQ worker gets its own `worker` connection; the blocking
// connection BullMQ duplicates from it is made here too (through `duplicate`), as a watched `worker-blocking` one.
// A REDIS_URL that names a Redis Cluster makes every connection an ioredis `Cluster` client with the same options.
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ConnectionStates } from './connection-states.js';
import type { HealthScheduler } from './health-scheduler.js';
import { RedisHealthCheck } from './redis-health.js';
import {
  DEFAULT_REDIS_TIMEOUTS,
  redisClusterOptions,
  redisOptionsFromUrl,
  type RedisRole,
  type RedisTimeouts,
} from './redis-options.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';

/** One Redis or a Redis Cluster, as REDIS_URL says: BullMQ and every caller here take either. */
export type RedisClient = Redis | Cluster;

export interface RedisHealthSettings {
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
}

export const DEFAULT_REDIS_HEALTH: RedisHealthSettings = {
  pingIntervalMs: 2_000,
  pingTimeoutMs: 3_000,
  handshakeTimeoutMs: 5_000,
};

export interface RedisConnectionsOptions {
  readonly url: string;
  readonly states: ConnectionStates;
  readonly health?: RedisHealthSettings;
  readonly timeouts?: RedisTimeouts;
  readonly scheduler?: HealthScheduler;
}

/** How long `release` waits for QUIT before it drops the socket. */
const QUIT_TIMEOUT_MS = 500;

/** An ioredis client whose duplicates (BullMQ's blocking connection) are watched connections as well. */
class WatchedRedis extends Redis {
  readonly duplicates = new Set<RedisClient>();

  constructor(
    options: RedisOptions,
    private readonly makeDuplicate: (override: Partial<RedisOptions>) => RedisClient,
  ) {
    super(options);
  }

  override duplicate(override: Partial<RedisOptions> = {}): Redis {
    const copy = this.makeDuplicate(override);
    this.duplicates.add(copy);
    return copy as Redis;
  }
}

/** The same for a Redis Cluster: BullMQ duplicates it with `duplicate(undefined, { redisOptions })`. */
class WatchedCluster extends Cluster {
  readonly duplicates = new Set<RedisClient>();

  constructor(
    nodes: ClusterNode[],
    options: ClusterOptions,
    private readonly makeDuplicate: (override: Partial<RedisOptions>) => RedisClient,
  ) {
    super(nodes, options);
  }

  override duplicate(_nodes: ClusterNode[] = [], override: Partial<ClusterOptions> = {}): Cluster {
    const copy = this.makeDuplicate(override.redisOptions ?? {});
    this.duplicates.add(copy);
    return copy as Cluster;
  }
}

export class RedisConnections {
  private readonly checks = new Map<RedisClient, RedisHealthCheck>();
  private readonly health: RedisHealthSettings;
  private readonly timeouts: RedisTimeouts;
  private readonly target: RedisTarget;

  /** @throws RedisUrlError when the URL is malformed. */
  constructor(private readonly options: RedisConnectionsOptions) {
    this.health = options.health ?? DEFAULT_REDIS_HEALTH;
    this.timeouts = options.timeouts ?? DEFAULT_REDIS_TIMEOUTS;
    this.target = parseRedisUrl(options.url);
  }

  /** A new watched connection: one `producer` per SagaQueues, one `worker` per BullMQ worker. */
  create(role: Exclude<RedisRole, 'worker-blocking'>): RedisClient {
    return this.make(role, {});
  }

  private connect(role: RedisRole, override: Partial<RedisOptions>): RedisClient {
    // BullMQ names its blocking connection through `duplicate({ connectionName })`: keep the blocking options.
    const duplicate = (copyOverride: Partial<RedisOptions>) => this.make('worker-blocking', copyOverride);
    if (this.target.kind === 'single') {
      const options = { ...redisOptionsFromUrl(this.options.url, role, this.timeouts), ...override };
      return new WatchedRedis(options, duplicate);
    }
    const options = redisClusterOptions(this.target, role, this.timeouts);
    options.redisOptions = { ...options.redisOptions, ...override };
    return new WatchedCluster([...this.target.nodes], options, duplicate);
  }

  private make(role: RedisRole, override: Partial<RedisOptions>): RedisClient {
    const client = this.connect(role, override);
    // Errors are reported through the connection's state (RedisHealthCheck); this keeps ioredis from printing them.
    client.on('error', () => undefined);
    const handle = this.options.states.register('redis', role);
    this.checks.set(
      client,
      new RedisHealthCheck(client, handle, {
        // A PING would wait behind BZPOPMIN; BullMQ's watchdog bounds the blocking command instead.
        pingIntervalMs: role === 'worker-blocking' ? 0 : this.health.pingIntervalMs,
        pingTimeoutMs: this.health.pingTimeoutMs,
        handshakeTimeoutMs: this.health.handshakeTimeoutMs,
        ...(this.options.scheduler ? { scheduler: this.options.scheduler } : {}),
      }),
    );
    return client;
  }

  /**
   * Stops watching `client` and its duplicates and closes them: QUIT within half a second, else the sockets are
   * dropped (a dead link never answers QUIT). Idempotent.
   */
  async release(client: RedisClient): Promise<void> {
    const duplicates =
      client instanceof WatchedRedis || client instanceof WatchedCluster ? client.duplicates : [];
    const family = [client, ...duplicates];
    await Promise.all(
      family.map(async (member) => {
        const check = this.checks.get(member);
        if (!check) return;
        this.checks.delete(member);
        check.stop();
        await quitWithin(member, QUIT_TIMEOUT_MS);
      }),
    );
  }

  /** Closes every connection made here. */
  async close(): Promise<void> {
    await Promise.all([...this.checks.keys()].map((client) => this.release(client)));
  }
}

async function quitWithin(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') return client.disconnect();
  let timer: NodeJS.Timeout | undefined;
  const quitting = client.quit().then(
    () => undefined,
    () => undefined,
  );
  const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([quitting, timedOut]);
  clearTimeout(timer);
  // QUIT moved the status on (TypeScript still sees the 'ready' checked above).
  if ((client.status as string) !== 'end') client.disconnect();
}
