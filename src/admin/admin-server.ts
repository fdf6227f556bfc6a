// The admin HTTP server: JSON API, Prometheus metrics, the live dashboard and its event stream.
// Binds to the given host (127.0.0.1 by default in the config); see admin-auth.ts for who may call what.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { SagaLogger } from '../logging/saga-logger.js';
import { fastifyLogger } from './fastify-logger.js';
import type { SagaRegistry } from '../definition/index.js';
import type { AdminBackend } from './admin-backend.js';
import type { PrometheusSagaMetrics } from '../metrics/index.js';
import { authorize, redactTokenInUrl } from './admin-auth.js';
import { AdminHttpError, toErrorResponse } from './admin-http-error.js';
import { AdminMetrics } from './admin-metrics.js';
import { dashboardPage } from './dashboard/dashboard-page.js';
import { FAVICON_SVG } from './dashboard/favicon.js';
import { registerDeadLetterRoutes } from './dead-letter-routes.js';
import { EventStreamHub } from './event-stream.js';
import { checkReadiness } from './readiness.js';
import { SagaChangeFeed } from './saga-change-feed.js';
import { registerSagaRoutes } from './saga-routes.js';
import { collectStats } from './system-status.js';
import { versionReports } from './version-reports.js';

export interface AdminServerOptions {
  host: string;
  /** 0 picks a free port (see the returned `url`). */
  port: number;
  /** When set, every route except /healthz, /readyz and the page shell needs `Authorization: Bearer <token>`. */
  token?: string;
  backend: AdminBackend;
  registry: SagaRegistry;
  logger: SagaLogger;
  /**
   * The metrics this process counts as a worker or watcher (the sink given to its SagaRuntime): served on
   * /metrics next to the admin's gauges. Leave out when the process counts nothing.
   */
  metrics?: PrometheusSagaMetrics;
  /** An event stream client with more unsent output than this is disconnected (default 1 MiB). */
  eventStreamMaxBufferedBytes?: number;
}

export interface AdminServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  close(): Promise<void>;
}

/** Operations carry no body; 16 KiB leaves room for future small JSON bodies and refuses anything larger. */
export const ADMIN_BODY_LIMIT_BYTES = 16 * 1024;

/** About 3,000 saga events: a dashboard that falls this far behind reloads faster than it catches up. */
export const EVENT_STREAM_MAX_BUFFERED_BYTES = 1024 * 1024;

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { backend, registry } = options;
  const token = options.token === '' ? undefined : options.token;
  const logger = options.logger.child({ component: 'admin' });
  const loggerInstance = fastifyLogger(logger);
  const app: FastifyInstance = Fastify({
    loggerInstance,
    // Requests are logged by the onResponse hook below, with any `?token=` redacted.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ADMIN_BODY_LIMIT_BYTES,
    return503OnClosing: true,
  });

  const feed = new SagaChangeFeed(backend.store.collection, logger);
  const metrics: AdminMetrics = new AdminMetrics(
    backend,
    registry,
    () => events.clientCount,
    options.metrics,
  );
  const events = new EventStreamHub(feed, () => collectStats(backend, registry), logger, {
    maxBufferedBytes: options.eventStreamMaxBufferedBytes ?? EVENT_STREAM_MAX_BUFFERED_BYTES,
    onDrop: () => metrics.eventStreamClientDropped(),
  });
  const page = dashboardPage();

  // onRequest runs before the body is read: an unauthorised client cannot make the server buffer a body.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    authorize(request, request.routeOptions.url, token);
  });
  app.addHook('onResponse', async (request, reply) => {
    const entry = {
      method: request.method,
      url: redactTokenInUrl(request.url),
      statusCode: reply.statusCode,
      responseTimeMs: Math.round(reply.elapsedTime),
    };
    if (reply.statusCode >= 500) request.log.warn(entry, 'admin request failed');
    else if (request.method !== 'GET') request.log.info(entry, 'admin request');
    else request.log.debug(entry, 'admin request');
  });
  app.setErrorHandler(async (error, request, reply) => {
    const response = toErrorResponse(error);
    if (response.unexpected) request.log.error({ err: error }, 'admin request failed');
    if (response.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="sagastream"');
    return reply.code(response.statusCode).type('application/json; charset=utf-8').send(response.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    reply.send(new AdminHttpError('NOT_FOUND', `no admin route for ${request.method} ${path}`));
  });

  app.get('/healthz', (request, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    const report = await checkReadiness(backend, registry);
    if (report.ready) return { status: 'ready', ...report };
    return reply.code(503).send({
      status: 'not-ready',
      ...report,
      error: { code: 'NOT_READY', message: `not ready: ${report.failing.join('; ')}` },
    });
  });
  app.get('/', async (request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', page.contentSecurityPolicy)
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .send(page.html),
  );
  app.get('/favicon.ico', async (request, reply) =>
    reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON_SVG),
  );
  app.get('/api/stats', async () => collectStats(backend, registry));
  app.get('/api/versions', async () => ({ versions: await versionReports(backend, registry) }));
  app.get('/api/events', async (request, reply) => {
    reply.hijack();
    events.attach(reply.raw);
  });
  app.get('/metrics', async (request, reply) => {
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });
  registerSagaRoutes(app, backend);
  registerDeadLetterRoutes(app, backend);

  await feed.start();
  let address: string;
  try {
    await app.listen({ host: options.host, port: options.port });
    const bound = app.server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;
    address = `http://${hostForUrl(options.host)}:${port}`;
  } catch (error) {
    events.close();
    await feed.stop();
    throw error;
  }
  logger.info(
    { address, tokenRequired: token !== undefined },
    token === undefined
      ? 'admin API listening (read-only: set ADMIN_TOKEN to allow cancel, retry and dead-letter operations)'
      : 'admin API listening',
  );

  let closing: Promise<void> | null = null;
  return {
    url: address,
    close() {
      closing ??= (async () => {
        // Event streams never end by themselves; close them first so the server can close.
        events.close();
        await app.close();
        await feed.stop();
      })();
      return closing;
    },
  };
}
