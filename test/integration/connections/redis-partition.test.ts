// A worker whose Redis link goes half-open (a proxy that drops every byte, with no FIN or RST, as a middlebox
// that lost the connection's state does) notices it, turns not-ready, completes steps again once the link heals,
// and stops within its bound while partitioned.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { checkReadiness } from '../../../src/admin/index.js';
import { SagaRegistry } from '../../../src/definition/index.js';
import { PrometheusSagaMetrics } from '../../../src/metrics/index.js';
import type { SagaRuntime } from '../../../src/runtime/saga-runtime.js';
import { TcpProxy } from '../../chaos/tcp-proxy.js';
import { engineTest, order, type EngineTest } from '../engine/engine-test-kit.js';
import { mongoAndCleanups, redisUrl } from '../helpers.js';

/** Small bounds so that the test takes seconds; production defaults are a few seconds each. */
const REDIS_HEALTH = { pingInterval: 300, pingTimeout: 700, handshakeTimeout: 700, commandTimeout: 1_000 };
const SHUTDOWN_GRACE_MS = 1_000;

const { mongo, onCleanup } = mongoAndCleanups();

interface LogLine {
  msg: string;
  target?: string;
  role?: string;
}

interface ProxiedWorker {
  test: EngineTest;
  proxy: TcpProxy;
  runtime: SagaRuntime;
  registry: SagaRegistry;
  metrics: PrometheusSagaMetrics;
  lines: LogLine[];
}

/** A worker-only runtime whose Redis connections all go through a proxy; sagas are started past it. */
async function proxiedWorker(name: string): Promise<ProxiedWorker> {
  const direct = new URL(redisUrl());
  const proxy = await TcpProxy.start({ targetHost: direct.hostname, targetPort: Number(direct.port) });
  onCleanup(() => proxy.close());
  const test = engineTest(mongo(), name);
  onCleanup(() => test.stop());
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const metrics = new PrometheusSagaMetrics({ processMetrics: false });
  const runtime = await test.start({
    roles: ['worker'],
    redisUrl: `redis://127.0.0.1:${proxy.port}`,
    redisHealth: REDIS_HEALTH,
    worker: { concurrency: 5, shutdownGrace: SHUTDOWN_GRACE_MS, lockDuration: 2_000, stalledInterval: 1_000 },
    logger: pino({ level: 'info' }, sink),
    metrics,
  });
  return { test, proxy, runtime, registry: new SagaRegistry([test.saga]), metrics, lines };
}

describe('a worker whose Redis link goes half-open', () => {
  it('turns not-ready, logs the loss once, and completes steps again after the heal', async () => {
    const { test, proxy, runtime, registry, metrics, lines } = await proxiedWorker('half-open');
    const client = await test.client(registry);
    const failing = async () => (await checkReadiness(runtime, registry)).failing;

    const before = await client.start(test.saga.name, order());
    expect((await before.result({ timeout: '30s' })).status).toBe('completed');
    await expect.poll(failing).toEqual([]);

    proxy.setMode('drop');
    const acceptedAtDrop = proxy.acceptedConnections;
    await expect
      .poll(failing, { timeout: 10_000 })
      .toContainEqual(expect.stringMatching(/^redis worker: connection lost \(/));
    // Queued past the proxy: only a worker that found its way back to Redis runs it.
    const during = await client.start(test.saga.name, order());
    // Long enough for BullMQ to give up on its blocked BZPOPMIN and for reconnects to land in the black hole
    // (accepted, never answered): those are the connections that must not stay stuck after the heal.
    await expect
      .poll(failing, { timeout: 15_000 })
      .toContainEqual(expect.stringMatching(/^redis worker-blocking: connection lost \(/));
    await expect.poll(() => proxy.acceptedConnections - acceptedAtDrop).toBeGreaterThanOrEqual(6);
    proxy.setMode('pass');

    expect((await during.result({ timeout: '30s' })).status).toBe('completed');
    await expect.poll(failing).toEqual([]);
    const text = await metrics.render();
    expect(text).toContain('sagastream_connection_up{target="redis",role="worker"} 1');
    expect(text).toMatch(/sagastream_connection_reconnects_total\{target="redis",role="worker"\} [1-9]/);
    const changes = lines
      .filter((line) => line.msg === 'redis connection lost' || line.msg === 'redis connection restored')
      .map((line) => `${line.msg} ${line.role}`);
    // One line per role and change, however many connections and reconnect attempts there were.
    for (const role of ['producer', 'worker', 'worker-blocking']) {
      expect(changes.filter((change) => change === `redis connection lost ${role}`)).toHaveLength(1);
      expect(changes.filter((change) => change === `redis connection restored ${role}`)).toHaveLength(1);
    }
  });

  it('stops within its shutdown grace plus the bounded closes while the link drops everything', async () => {
    const { test, proxy, runtime, registry } = await proxiedWorker('half-open-stop');
    const client = await test.client(registry);
    const before = await client.start(test.saga.name, order());
    expect((await before.result({ timeout: '30s' })).status).toBe('completed');

    proxy.setMode('drop');
    await expect
      .poll(async () => (await checkReadiness(runtime, registry)).ready, { timeout: 10_000 })
      .toBe(false);
    const startedAt = performance.now();
    await runtime.stop();
    // The grace, then about half a second per closing step; a stop that waited on the dead link never returns.
    expect(performance.now() - startedAt).toBeLessThan(SHUTDOWN_GRACE_MS + 4_000);
  });
});
