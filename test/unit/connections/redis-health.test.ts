// RedisHealthCheck against sockets that stop answering: a fake clock drives its PING and handshake timers, a
// real ioredis client talks to an in-process server that keeps its sockets open and never writes back.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionStates, type ConnectionMetrics } from '../../../src/connections/connection-states.js';
import { RedisHealthCheck } from '../../../src/connections/redis-health.js';
import type { SagaLogger } from '../../../src/logging/saga-logger.js';
import { blackHoleServer, FakeRedisServer, FakeScheduler } from './fake-redis-server.js';

const HEALTH = { pingIntervalMs: 1_000, pingTimeoutMs: 500, handshakeTimeoutMs: 2_000 };

/** A logger that keeps the warn and info lines: `warn redis connection lost`. */
function recordingLogger(lines: string[]): SagaLogger {
  const record =
    (level: string) =>
    (fields: object | string, message?: string): void =>
      void lines.push(`${level} ${typeof fields === 'string' ? fields : (message ?? '')}`);
  const logger: SagaLogger = {
    fatal: record('fatal'),
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: () => undefined,
    trace: () => undefined,
    child: () => logger,
  };
  return logger;
}

function recordingMetrics(events: string[]): ConnectionMetrics {
  return {
    connectionUp: (target, role, up) => void events.push(`${target}/${role} up=${up ? 1 : 0}`),
    connectionReconnected: (target, role) => void events.push(`${target}/${role} reconnected`),
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function watched(port: number, options: { reconnect: boolean }) {
  const lines: string[] = [];
  const events: string[] = [];
  const scheduler = new FakeScheduler();
  const states = new ConnectionStates({ logger: recordingLogger(lines), metrics: recordingMetrics(events) });
  const client = new Redis({
    host: '127.0.0.1',
    port,
    // Reconnects run on ioredis' own (real) timer: a few milliseconds here.
    retryStrategy: options.reconnect ? () => 10 : () => null,
    maxRetriesPerRequest: null,
  });
  client.on('error', () => undefined);
  const check = new RedisHealthCheck(client, states.register('redis', 'worker'), { ...HEALTH, scheduler });
  cleanups.push(() => {
    check.stop();
    client.disconnect();
  });
  return { client, scheduler, states, lines, events };
}

describe('RedisHealthCheck', () => {
  it('destroys a connection whose handshake the server never answers', async () => {
    const server = await blackHoleServer();
    cleanups.push(() => server.close());
    const { client, scheduler, states, lines } = watched(server.port, { reconnect: false });

    // TCP connected; ioredis now waits for replies to its handshake that never come.
    await expect.poll(() => client.status).toBe('connect');
    await expect.poll(() => server.sockets.size).toBe(1);
    scheduler.advance(HEALTH.handshakeTimeoutMs - 1);
    expect(client.status).toBe('connect');
    expect(server.sockets.size).toBe(1);

    scheduler.advance(1);
    await expect.poll(() => server.sockets.size, { message: 'the server sees the socket close' }).toBe(0);
    await expect.poll(() => client.status).toBe('end');
    // Never up, so no loss is logged; readiness still names it.
    expect(lines).toEqual([]);
    expect(states.problems()).toEqual([{ target: 'redis', role: 'worker', reason: 'not connected yet' }]);
  });

  it('destroys a ready connection whose PING gets no answer, logs the loss once and the recovery once', async () => {
    const server = await FakeRedisServer.start();
    cleanups.push(() => server.close());
    const { client, scheduler, states, lines, events } = watched(server.port, { reconnect: true });
    await expect.poll(() => client.status).toBe('ready');
    expect(states.problems()).toEqual([]);

    // A healthy link: every interval one PING, answered (its timeout cancelled), and the next one scheduled.
    scheduler.advance(HEALTH.pingIntervalMs);
    await expect.poll(() => server.received.filter((name) => name === 'PING')).toHaveLength(1);
    await expect.poll(() => scheduler.pending, { message: 'only the next PING is scheduled' }).toBe(1);
    scheduler.advance(HEALTH.pingIntervalMs - 1);
    expect(states.problems()).toEqual([]);

    server.fallSilent();
    scheduler.advance(1);
    await expect.poll(() => server.received.filter((name) => name === 'PING')).toHaveLength(2);
    scheduler.advance(HEALTH.pingTimeoutMs - 1);
    expect(states.problems()).toEqual([]);
    scheduler.advance(1);
    expect(states.problems()).toEqual([
      {
        target: 'redis',
        role: 'worker',
        reason: `connection lost (PING not answered within ${HEALTH.pingTimeoutMs} ms)`,
      },
    ]);
    // Reconnect attempts keep failing while the server is silent (their handshakes time out): still one line.
    const handshaking = () => client.status === 'connect' && scheduler.pending === 1;
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await expect.poll(() => server.accepted).toBe(1 + attempt);
      await expect.poll(handshaking, { message: 'a handshake waits on its bound' }).toBe(true);
      scheduler.advance(HEALTH.handshakeTimeoutMs);
    }
    await expect.poll(() => server.accepted).toBe(5);
    expect(lines).toEqual(['warn redis connection lost']);

    // The silent server swallowed this connection's handshake too: the bound ends it and the next one succeeds.
    await expect.poll(handshaking, { message: 'a handshake waits on its bound' }).toBe(true);
    server.answerAgain();
    scheduler.advance(HEALTH.handshakeTimeoutMs);
    await expect.poll(() => client.status).toBe('ready');
    expect(states.problems()).toEqual([]);
    expect(lines).toEqual(['warn redis connection lost', 'info redis connection restored']);
    expect(events).toEqual([
      'redis/worker up=0',
      'redis/worker up=1',
      'redis/worker up=0',
      'redis/worker reconnected',
      'redis/worker up=1',
    ]);
  });
});
