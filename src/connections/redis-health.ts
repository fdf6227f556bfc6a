// Notices that one ioredis connection is dead and makes ioredis open a new one. A half-open socket (the peer or
// a middlebox vanished without FIN or RST) looks writable forever, so ioredis alone would wait on it forever:
// - a PING on a timer, with its own timeout, while the connection is ready (not on a blocking connection,
//   where it would wait behind BZPOPMIN; BullMQ's watchdog bounds that one);
// - a bound on the handshake: a socket that connected but never got the server's replies is dead too.
// Either way the socket is destroyed and ioredis' retry strategy reconnects. State changes go to a
// ConnectionHandle, which logs them once.
import type { Cluster, Redis } from 'ioredis';
import type { ConnectionHandle } from './connection-states.js';
import { nodeHealthScheduler, type HealthScheduler } from './health-scheduler.js';

export interface RedisHealthOptions {
  /** PING every this many ms while ready; 0 turns the PING off (blocking connections). */
  readonly pingIntervalMs: number;
  /** A PING with no reply within this marks the connection dead. */
  readonly pingTimeoutMs: number;
  /** A connection that reached the server but is not ready within this is dead. */
  readonly handshakeTimeoutMs: number;
  readonly scheduler?: HealthScheduler;
}

type Cancel = () => void;

/** A Cluster client has one socket per node and no `stream` of its own: it is checked as a whole. */
function streamOf(client: Redis | Cluster): Redis['stream'] | undefined {
  return 'stream' in client ? client.stream : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class RedisHealthCheck {
  private readonly scheduler: HealthScheduler;
  private readonly listeners: [string, (...args: unknown[]) => void][];
  private cancelPing: Cancel | null = null;
  private cancelHandshake: Cancel | null = null;
  private lastError: string | null = null;
  private stopped = false;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly handle: ConnectionHandle,
    private readonly options: RedisHealthOptions,
  ) {
    this.scheduler = options.scheduler ?? nodeHealthScheduler;
    this.listeners = [
      ['connect', () => this.onConnect()],
      ['ready', () => this.onReady()],
      ['close', () => this.onClosed('connection closed')],
      ['end', () => this.onClosed('connection ended')],
      ['error', (error) => (this.lastError = messageOf(error))],
    ];
    for (const [event, listener] of this.listeners) client.on(event, listener);
    if (client.status === 'ready') this.onReady();
    else if (client.status === 'connect') this.onConnect();
  }

  /** Stops watching (the owner closes the connection); the connection's state is no longer reported. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    for (const [event, listener] of this.listeners) this.client.off(event, listener);
    this.handle.close();
  }

  private onConnect(): void {
    if (this.stopped) return;
    this.lastError = null;
    this.cancelHandshake?.();
    const stream = streamOf(this.client);
    this.cancelHandshake = this.scheduler.setTimeout(() => {
      this.cancelHandshake = null;
      if (this.client.status !== 'ready' && streamOf(this.client) === stream) {
        this.kill(`handshake not finished within ${this.options.handshakeTimeoutMs} ms`);
      }
    }, this.options.handshakeTimeoutMs);
  }

  private onReady(): void {
    if (this.stopped) return;
    this.cancelHandshake?.();
    this.cancelHandshake = null;
    this.handle.up();
    this.schedulePing();
  }

  private onClosed(fallback: string): void {
    if (this.stopped) return;
    this.clearTimers();
    this.handle.down(this.lastError ?? fallback);
  }

  private schedulePing(): void {
    if (this.options.pingIntervalMs <= 0 || this.cancelPing) return;
    this.cancelPing = this.scheduler.setTimeout(() => this.ping(), this.options.pingIntervalMs);
  }

  private ping(): void {
    this.cancelPing = null;
    if (this.stopped || this.client.status !== 'ready') return;
    const stream = streamOf(this.client);
    let settled = false;
    const cancelTimeout = this.scheduler.setTimeout(() => {
      if (settled) return;
      settled = true;
      if (streamOf(this.client) === stream) {
        this.kill(`PING not answered within ${this.options.pingTimeoutMs} ms`);
      }
    }, this.options.pingTimeoutMs);
    // Any answer, even an error reply, proves the socket carries bytes; a closed connection reports itself.
    const answered = (): void => {
      if (settled) return;
      settled = true;
      cancelTimeout();
      if (this.client.status === 'ready' && streamOf(this.client) === stream) this.schedulePing();
    };
    this.client.ping().then(answered, answered);
  }

  /** Marks the connection dead and destroys its socket; ioredis then reconnects with its retry strategy. */
  private kill(reason: string): void {
    this.clearTimers();
    this.lastError = reason;
    this.handle.down(reason);
    // A Cluster client drops every node connection and reconnects through its clusterRetryStrategy.
    if ('stream' in this.client) this.client.stream.destroy();
    else this.client.disconnect(true);
  }

  private clearTimers(): void {
    this.cancelPing?.();
    this.cancelPing = null;
    this.cancelHandshake?.();
    this.cancelHandshake = null;
  }
}
