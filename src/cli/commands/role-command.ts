// The shape shared by the long-running role commands (`start`, `worker`, `watcher`, `admin`): read the
// configuration, load the sagas, start the roles, print one ready line, run until SIGINT/SIGTERM, exit 0.
import type { ParseArgsConfig } from 'node:util';
import { loadConfig, type ConfigFor } from '../../config/config.js';
import { createLogger } from '../../logging/logger.js';
import type { CliCommand } from '../cli-command.js';
import { parseCliOptions, parsePort } from '../parse-cli-options.js';
import { loadSagasModule, type SagasModule } from '../../runtime/sagas-module.js';
import { describeRoles, startRoles, type RoleSelection } from '../../runtime/start-roles.js';
import { startOtelSdk } from '../../tracing/otel-sdk.js';
import { UsageError } from '../usage-error.js';
import { waitForShutdownSignal } from '../wait-for-shutdown-signal.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Options every role command takes. */
export const SAGAS_MODULE_OPTION = { 'sagas-module': { type: 'string' } } as const;

/** The `--sagas-module` help line's text, for commands whose option column is wider. */
export const SAGAS_MODULE_DESCRIPTION = 'module exporting your SagaRegistry (required; default: SAGAS)';

export const SAGAS_MODULE_HELP = `  --sagas-module PATH  ${SAGAS_MODULE_DESCRIPTION}`;

/** The metrics listener of the worker and watcher roles (the admin serves its own /metrics). */
export const METRICS_OPTIONS = {
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
} as const;

export const METRICS_HELP = `  --metrics-port P     serve GET /metrics (Prometheus), /healthz and /readyz on this port (default: off;
                       0: a free port)
  --metrics-host H     address for --metrics-port (default 127.0.0.1, loopback only)`;

/** The listener `--metrics-port` / `--metrics-host` ask for, or undefined; throws UsageError for bad values. */
export function metricsListener(values: {
  'metrics-port'?: string;
  'metrics-host'?: string;
}): { host: string; port: number } | undefined {
  const host = values['metrics-host'];
  if (host !== undefined && (host.trim() === '' || /\s/.test(host))) {
    throw new UsageError('--metrics-host must be a host name or IP address to listen on, like 127.0.0.1');
  }
  if (values['metrics-port'] === undefined) {
    if (host !== undefined) throw new UsageError('--metrics-host needs --metrics-port');
    return undefined;
  }
  return { host: host ?? '127.0.0.1', port: parsePort(values['metrics-port'], '--metrics-port', 0) };
}

export const ROLE_ENVIRONMENT_HELP =
  'Environment: MONGODB_URL and REDIS_URL (required), MONGODB_DB, SAGASTREAM_QUEUE_PREFIX, SAGAS, LOG_LEVEL\n' +
  '(logs go to stderr; stdout carries only the ready line); OTEL_EXPORTER_OTLP_ENDPOINT exports traces (README, Tracing).';

export interface RoleCommandSpec<T extends OptionsConfig> {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: T;
  /** Checks the option values before anything else (a bad command line exits 2 before config errors). */
  validate?(values: { [K in keyof T]?: string }): void;
  /** Which roles to run, from the parsed options; throws UsageError for bad values. */
  roles(
    values: { [K in keyof T]?: string },
    config: ConfigFor<'mongodb' | 'redis'>,
    sagas: SagasModule,
  ): RoleSelection;
}

export function roleCommand<T extends OptionsConfig>(spec: RoleCommandSpec<T>): CliCommand {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    async run(args, { stdout, env }) {
      const { help, values } = parseCliOptions(args, { ...SAGAS_MODULE_OPTION, ...spec.options });
      if (help) {
        stdout.write(`${spec.usage}\n`);
        return 0;
      }
      spec.validate?.(values);
      const config = loadConfig(env, { require: ['mongodb', 'redis'] });
      const sagas = await loadSagasModule(values['sagas-module'], env);
      const roles = spec.roles(values, config, sagas);
      const logger = createLogger({ level: config.logLevel, name: spec.name, destination: 2 });
      // Before the roles, so their spans have somewhere to go; flushed after they stopped.
      const sdk = await startOtelSdk(env);
      const running = await startRoles({
        mongodbUrl: config.mongodb.url,
        database: config.mongodb.db,
        redisUrl: config.redis.url,
        queuePrefix: config.queuePrefix,
        sagas,
        roles,
        logger,
        retention: config.retention,
        traceparentField: config.traceparentField,
      }).catch(async (error: unknown) => {
        await sdk?.shutdown().catch(() => undefined);
        throw error;
      });
      const admin = running.adminUrl === undefined ? '' : `; admin API ${running.adminUrl}`;
      const metrics = running.metricsUrl === undefined ? '' : `; metrics ${running.metricsUrl}`;
      // Listening before the ready line: a supervisor may send SIGTERM as soon as it reads it, and a signal with no
      // listener yet would kill the process instead of stopping it gracefully.
      const shutdownSignal = waitForShutdownSignal();
      stdout.write(
        `sagastream ${spec.name} ready: ${describeRoles(roles)} for ${sagas.registry.names.join(', ')}` +
          ` (database ${config.mongodb.db}, queue prefix ${config.queuePrefix})${admin}${metrics}\n`,
      );
      const signal = await shutdownSignal;
      logger.info({ signal }, `stopping sagastream ${spec.name}`);
      await running.stop();
      await sdk
        ?.shutdown()
        .catch((error: unknown) => logger.warn({ err: error }, 'exporting the last spans failed'));
      return 0;
    },
  };
}
