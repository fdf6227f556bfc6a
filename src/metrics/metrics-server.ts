// A minimal HTTP listener for a worker's or watcher's Prometheus metrics and health: GET /metrics, /healthz and
// /readyz, on loopback unless told otherwise. node:http rather than fastify: three routes need no framework.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SagaLogger } from '../logging/saga-logger.js';
import { z } from 'zod';

export const metricsServerOptionsSchema = z.strictObject({
  /** Metrics name the sagas and steps of this deployment: only expose them beyond loopback on purpose. */
  host: z.string().trim().min(1).default('127.0.0.1'),
  /** 0 picks a free port (see the returned `url`). */
  port: z.number().int().min(0).max(65535),
});

export type MetricsServerOptions = z.input<typeof metricsServerOptionsSchema>;

/** What the server renders on each scrape (PrometheusSagaMetrics is one). */
export interface MetricsSource {
  render(): Promise<string>;
  readonly contentType: string;
}

/** What GET /readyz reports: 200 when `ready`, else 503 with the failing parts. */
export type ReadinessCheck = () => Promise<{ readonly ready: boolean; readonly failing: readonly string[] }>;

export interface MetricsServer {
  /** `http://host:port/metrics`, with the port actually bound. */
  readonly url: string;
  /** Stops listening and closes open connections (scrapers keep theirs alive). Idempotent. */
  close(): Promise<void>;
}

function reply(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  response.end(text);
}

function replyJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
}

const ROUTES = ['/metrics', '/healthz', '/readyz'];

export async function startMetricsServer(
  options: MetricsServerOptions,
  source: MetricsSource,
  logger: SagaLogger,
  readiness?: ReadinessCheck,
): Promise<MetricsServer> {
  const { host, port } = metricsServerOptionsSchema.parse(options);
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (!ROUTES.includes(path)) {
      return reply(response, 404, 'not found: this listener serves GET /metrics, /healthz and /readyz\n');
    }
    if (request.method !== 'GET') return reply(response, 405, `only GET ${path}\n`, { allow: 'GET' });
    // A process manager or Compose healthcheck: alive, and (readyz) its MongoDB, Redis and watchers are fine.
    if (path === '/healthz') return replyJson(response, 200, { status: 'ok' });
    if (path === '/readyz') {
      if (!readiness) return replyJson(response, 200, { ready: true, failing: [] });
      readiness().then(
        (report) => replyJson(response, report.ready ? 200 : 503, report),
        (error: unknown) => {
          logger.error({ err: error }, 'readiness check failed');
          replyJson(response, 503, { ready: false, failing: ['the readiness check failed'] });
        },
      );
      return;
    }
    source.render().then(
      (text) => {
        response.writeHead(200, { 'content-type': source.contentType, 'cache-control': 'no-store' });
        response.end(text);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'could not render metrics');
        reply(response, 500, 'could not render metrics\n');
      },
    );
  };
  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error({ err: error }, 'metrics server error'));
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`;
  logger.info({ url }, 'metrics listening');
  let closing: Promise<void> | null = null;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
