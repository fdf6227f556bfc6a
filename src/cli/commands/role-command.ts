// The shape shared by the long-running role commands (`start`, `worker`, `watcher`, `admin`): read the
// configuration, load the sagas, start the roles, print one ready line, run until SIGINT/SIGTERM, exit 0.
import type { ParseArgsConfig } from 'node:util';
import { loadConfig, type ConfigFor } from '../../config/config.js';
import { createLogger } from '../../logging/logger.js';
import type { CliCommand } from '../cli-command.js';
import { parseCliOptions } from '../parse-cli-options.js';
import { loadSagasModule, type SagasModule } from '../sagas-module.js';
import { describeRoles, startRoles, type RoleSelection } from '../start-roles.js';
import { waitForShutdownSignal } from '../wait-for-shutdown-signal.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Options every role command takes. */
export const SAGAS_MODULE_OPTION = { 'sagas-module': { type: 'string' } } as const;

/** The `--sagas-module` help line's text, for commands whose option column is wider. */
export const SAGAS_MODULE_DESCRIPTION =
  "module exporting your SagaRegistry (default: SAGAS, else the project's sagas/)";

export const SAGAS_MODULE_HELP = `  --sagas-module PATH  ${SAGAS_MODULE_DESCRIPTION}`;

export const ROLE_ENVIRONMENT_HELP =
  'Environment: MONGODB_URL and REDIS_URL (required), MONGODB_DB, SAGASTREAM_QUEUE_PREFIX, SAGAS, LOG_LEVEL\n' +
  '(logs go to stderr; stdout carries only the ready line).';

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
      const running = await startRoles({
        mongodbUrl: config.mongodb.url,
        database: config.mongodb.db,
        redisUrl: config.redis.url,
        queuePrefix: config.queuePrefix,
        sagas,
        roles,
        logger,
      });
      const admin = running.adminUrl === undefined ? '' : `; admin API ${running.adminUrl}`;
      stdout.write(
        `sagastream ${spec.name} ready: ${describeRoles(roles)} for ${sagas.registry.names.join(', ')}` +
          ` (database ${config.mongodb.db}, queue prefix ${config.queuePrefix})${admin}\n`,
      );
      const signal = await waitForShutdownSignal();
      logger.info({ signal }, `stopping sagastream ${spec.name}`);
      await running.stop();
      return 0;
    },
  };
}
