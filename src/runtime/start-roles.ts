// Starts the roles a CLI command asked for in this process — trigger watcher (with the recovery sweeper), step
// worker, admin API, metrics listener — after checking that MongoDB and Redis answer, and stops them again in
// reverse order.
import type { Retention } from '../definition/index.js';
import type { SagaLogger } from '../logging/saga-logger.js';
import { checkReadiness, startAdminServer, type AdminServer } from '../admin/index.js';
import { SagaRuntime, type ServicesSetupContext } from './saga-runtime.js';
import { PrometheusSagaMetrics, startMetricsServer, type MetricsServer } from '../metrics/index.js';
import { settleWithin } from '../connections/deadline.js';
import { checkMongo, checkRedis } from './check-connections.js';
import { firstLine, type SagasModule } from './sagas-module.js';
import { waitForWatchers } from './wait-for-watchers.js';

export interface RoleSelection {
  readonly watcher: boolean;
  readonly worker:
    | false
    | { readonly concurrency?: number; readonly stepsPerJob?: number; readonly sagas?: readonly string[] };
  readonly admin: false | { readonly host: string; readonly port: number; readonly token?: string };
  /** GET /metrics on its own listener (`--metrics-port`); with the admin role they are on its /metrics. */
  readonly metrics?: { readonly host: string; readonly port: number };
}

export interface StartRolesOptions {
  readonly mongodbUrl: string;
  readonly database: string;
  readonly redisUrl: string;
  readonly queuePrefix: string;
  readonly sagas: SagasModule;
  readonly roles: RoleSelection;
  readonly logger: SagaLogger;
  /** Refuse a saga version whose shape changed under the same number (default true; `dev` turns it off). */
  readonly checkDefinitions?: boolean;
  /** How long finished sagas are kept unless their definition says otherwise (SAGA_RETENTION; default 30 days). */
  readonly retention?: Retention;
  /** The trigger document field whose W3C traceparent the saga's trace links to (default `traceparent`). */
  readonly traceparentField?: string;
}

export interface RunningRoles {
  readonly runtime: SagaRuntime;
  /** The admin API's URL when the admin role runs here. */
  readonly adminUrl: string | undefined;
  /** The metrics listener's scrape URL when one was asked for. */
  readonly metricsUrl: string | undefined;
  /** Graceful: admin stops taking requests, the watcher checkpoints, workers finish their steps. */
  stop(): Promise<void>;
}

/** `watcher, worker, admin` for ready lines. */
export function describeRoles(roles: RoleSelection): string {
  const names = [roles.watcher && 'watcher', roles.worker && 'worker', roles.admin && 'admin'];
  return names.filter((name): name is string => typeof name === 'string').join(', ');
}

/** The module's `setup`, failing in one line that names the module (the CLI prints it and exits 1). */
function setupOf(sagas: SagasModule): (context: ServicesSetupContext) => Promise<unknown> {
  return async (context) => {
    try {
      return await sagas.setup?.(context);
    } catch (error) {
      throw new Error(`The setup() of the sagas module ${sagas.source} failed: ${firstLine(error)}`, {
        cause: error,
      });
    }
  };
}

const LISTENERS_CLOSE_MS = 1_000;

export async function startRoles(options: StartRolesOptions): Promise<RunningRoles> {
  const { roles, logger, sagas } = options;
  await checkMongo(options.mongodbUrl);
  await checkRedis(options.redisUrl);

  const worker = roles.worker;
  // Counted where it happens: by this process's watcher, worker and operations (a cancel), served below.
  const metrics = roles.metrics || roles.admin ? new PrometheusSagaMetrics() : undefined;
  const runtime = await SagaRuntime.start({
    mongodbUrl: options.mongodbUrl,
    database: options.database,
    redisUrl: options.redisUrl,
    queuePrefix: options.queuePrefix,
    registry: sagas.registry,
    logger,
    ...(options.checkDefinitions === undefined ? {} : { checkDefinitions: options.checkDefinitions }),
    ...(options.retention === undefined ? {} : { retention: options.retention }),
    ...(options.traceparentField === undefined
      ? {}
      : { tracing: { traceparentField: options.traceparentField } }),
    ...(metrics ? { metrics } : {}),
    ...(sagas.setup ? { setup: setupOf(sagas) } : {}),
    roles: [
      ...(roles.watcher ? (['watcher'] as const) : []),
      ...(worker === false ? [] : (['worker'] as const)),
    ],
    ...(worker === false
      ? {}
      : {
          worker: {
            ...(worker.concurrency === undefined ? {} : { concurrency: worker.concurrency }),
            ...(worker.stepsPerJob === undefined ? {} : { stepsPerJob: worker.stepsPerJob }),
            ...(worker.sagas === undefined ? {} : { sagas: [...worker.sagas] }),
          },
        }),
  });
  let admin: AdminServer | undefined;
  let metricsServer: MetricsServer | undefined;
  // Bounded like the runtime's stop: an open event stream or a slow request must not hold a SIGTERM.
  const stopListeners = async (): Promise<void> => {
    const closing = Promise.all([
      admin?.close().catch((error: unknown) => logger.error({ err: error }, 'admin stop failed')),
      metricsServer?.close(),
    ]);
    if ((await settleWithin(closing, LISTENERS_CLOSE_MS)) === 'timed-out') {
      logger.warn('the admin or metrics listener did not close in time; stopping anyway');
    }
  };
  try {
    if (runtime.trigger !== null) await waitForWatchers(runtime.trigger, logger);
    admin =
      roles.admin === false
        ? undefined
        : await startAdminServer({
            host: roles.admin.host,
            port: roles.admin.port,
            ...(roles.admin.token === undefined ? {} : { token: roles.admin.token }),
            backend: runtime,
            registry: sagas.registry,
            logger,
            ...(metrics ? { metrics } : {}),
          }).catch((error: unknown) => {
            const { host, port } = roles.admin as { host: string; port: number };
            const reason = error instanceof Error ? error.message : String(error);
            throw new Error(
              `The admin API cannot listen on ${host}:${port} (${reason}); pick another port with ADMIN_PORT ` +
                '(or --admin-port for dev).',
              { cause: error },
            );
          });
    if (roles.metrics && metrics) {
      const { host, port } = roles.metrics;
      const readiness = () => checkReadiness(runtime, sagas.registry);
      metricsServer = await startMetricsServer(roles.metrics, metrics, logger, readiness).catch(
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          throw new Error(
            `The metrics listener cannot listen on ${host}:${port} (${reason}); pick another --metrics-port.`,
            { cause: error },
          );
        },
      );
    }
    return {
      runtime,
      adminUrl: admin?.url,
      metricsUrl: metricsServer?.url,
      async stop() {
        await stopListeners();
        await runtime.stop();
      },
    };
  } catch (error) {
    await stopListeners();
    await runtime.stop().catch(() => undefined);
    throw error;
  }
}
