// Every ioredis connection of a process is made here, with its role's options, an 'error' listener (so nothing
// prints raw dumps) and a RedisHealthCheck. A BullMQ worker gets its own `worker` connection; the blocking
// connection BullMQ duplicates from it is made here too (through `duplicate`), as a watched `worker-blocking` one.
import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionStates } from './connection-states.js';
import type { HealthScheduler } from './health-scheduler.js';
import { RedisHealthCheck } from './redis-health.js';
import {
  DEFAULT_REDIS_TIMEOUTS,
  redisOptionsFromUrl,
  type RedisRole,
  type RedisTimeouts,
} from './redis-options.js';

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
  readonly duplicates = new Set<WatchedRedis>();

  constructor(
    options: RedisOptions,
    private readonly makeDuplicate: (override: Partial<RedisOptions>) => WatchedRedis,
  ) {
    super(options);
  }

  override duplicate(override: Partial<RedisOptions> = {}): Redis {
    const copy = this.makeDuplicate(override);
    this.duplicates.add(copy);
    return copy;
  }
}

export class RedisConnections {
  private readonly checks = new Map<Redis, RedisHealthCheck>();
  private readonly health: RedisHealthSettings;
  private readonly timeouts: RedisTimeouts;

  constructor(private readonly options: RedisConnectionsOptions) {
    this.health = options.health ?? DEFAULT_REDIS_HEALTH;
    this.timeouts = options.timeouts ?? DEFAULT_REDIS_TIMEOUTS;
  }

  /** A new watched connection: one `producer` per SagaQueues, one `worker` per BullMQ worker. */
  create(role: Exclude<RedisRole, 'worker-blocking'>): Redis {
    return this.make(role, {});
  }

  private make(role: RedisRole, override: Partial<RedisOptions>): WatchedRedis {
    const options = { ...redisOptionsFromUrl(this.options.url, role, this.timeouts), ...override };
    // BullMQ names its blocking connection through `duplicate({ connectionName })`: keep the blocking options.
    const client = new WatchedRedis(options, (copyOverride) => this.make('worker-blocking', copyOverride));
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
  async release(client: Redis): Promise<void> {
    const family = [client, ...(client instanceof WatchedRedis ? client.duplicates : [])];
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

async function quitWithin(client: Redis, timeoutMs: number): Promise<void> {
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
