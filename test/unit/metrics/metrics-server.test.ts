// The metrics listener: GET /metrics, /healthz and /readyz only, loopback unless told otherwise, and closed for
// good by close().
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.js';
import { startMetricsServer, type MetricsServer } from '../../../src/metrics/index.js';

const logger = createLogger({ level: 'silent', pretty: false });
const source = {
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
  render: () => Promise.resolve('sagastream_probe 1\n'),
};

describe('startMetricsServer', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('binds to loopback by default and serves GET /metrics', async () => {
    server = await startMetricsServer({ port: 0 }, source, logger);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(source.contentType);
    expect(await response.text()).toBe('sagastream_probe 1\n');
  });

  it('answers 404 for any other path and 405 for another method on /metrics', async () => {
    server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, source, logger);
    const origin = new URL(server.url).origin;
    for (const path of ['/', '/api/sagas', '/metrics/extra', '/metricsx']) {
      expect((await fetch(`${origin}${path}`)).status, path).toBe(404);
    }
    const post = await fetch(server.url, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('serves /healthz, and /readyz from its readiness check: 200 when ready, 503 naming what fails', async () => {
    let report = { ready: true, failing: [] as string[] };
    server = await startMetricsServer({ port: 0 }, source, logger, () => Promise.resolve(report));
    const origin = new URL(server.url).origin;
    const health = await fetch(`${origin}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, failing: [] });

    report = { ready: false, failing: ['redis: Redis did not answer within 2000 ms'] };
    const notReady = await fetch(`${origin}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual(report);
    expect((await fetch(`${origin}/readyz`, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('answers 500 without details when rendering fails', async () => {
    const failing = { ...source, render: () => Promise.reject(new Error('registry exploded at /secret')) };
    server = await startMetricsServer({ port: 0 }, failing, logger);
    const response = await fetch(server.url);
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('secret');
  });

  it('stops listening on close, even with a scraper keeping its connection alive', async () => {
    const closing = await startMetricsServer({ port: 0 }, source, logger);
    // fetch keeps the connection alive for the next scrape, as Prometheus does.
    expect((await fetch(closing.url)).status).toBe(200);
    await closing.close();
    await expect(fetch(closing.url)).rejects.toThrow();
  });

  it('refuses options it cannot use', async () => {
    await expect(startMetricsServer({ port: 70_000 }, source, logger)).rejects.toThrow();
    await expect(startMetricsServer({ host: '', port: 0 }, source, logger)).rejects.toThrow();
  });
});
