// `sagastream dev`: the whole development stack in one process — embedded MongoDB, a spawned redis-server
// (or the servers named by MONGODB_URL / REDIS_URL) and every sagastream role; `--demo` adds demo orders.
import { join } from 'node:path';
import type { Db } from 'mongodb';
import { loadConfig } from '../../config/config.js';
import { createLogger, redactUrl, type LogLevel } from '../../logging/logger.js';
import type { CliCommand } from '../cli-command.js';
import { runDemo } from '../demo/run-demo.js';
import { parseCliOptions, parsePort } from '../parse-cli-options.js';
import { loadSagasModule } from '../sagas-module.js';
import { startRoles } from '../start-roles.js';
import { UsageError } from '../usage-error.js';
import { waitForShutdownSignal } from '../wait-for-shutdown-signal.js';
import { parseRate } from './demo-command.js';
import { SAGAS_MODULE_HELP } from './role-command.js';

const usage = `Usage: sagastream dev [--demo] [--mongo-port P] [--redis-port P] [--admin-port P] [--dbpath DIR]

Starts the development stack in one process: the embedded MongoDB-compatible server, a redis-server child
process, the trigger watcher, a worker and the admin API; then prints one ready line with the MongoDB URI
and the admin URL. Ctrl-C or SIGTERM stops everything (exit 0).
When MONGODB_URL or REDIS_URL is set, that server is used instead of starting one.

Options:
  --demo                  insert demo orders for the order-fulfillment saga (a mix that succeeds, retries,
                          times out, compensates, dead-letters and is rejected) and show live progress
  --orders-per-second N   demo insert rate (default 2)
  --mongo-port P          port for the embedded MongoDB (default 0: a free port)
  --redis-port P          port for redis-server (default 0: a free port)
  --admin-port P          port for the admin API (default ADMIN_PORT, 8080; 0: a free port)
  --dbpath DIR            keep data across restarts: MongoDB in DIR/mongo, Redis (AOF) in DIR/redis
${SAGAS_MODULE_HELP}
  -h, --help              show this help

Needs redis-server on PATH unless REDIS_URL is set (Debian/Ubuntu: apt-get install -y redis-server).
Environment: LOG_LEVEL (default info; fatal with --demo, so the progress line stays readable), MONGODB_URL,
REDIS_URL, MONGODB_DB, SAGAS, ADMIN_HOST, ADMIN_PORT, ADMIN_TOKEN (logs go to stderr).`;

interface RunningPart {
  readonly url: string;
  readonly origin: string;
  stop(): Promise<void>;
}

export const devCommand: CliCommand = {
  name: 'dev',
  summary: 'run the development stack: embedded MongoDB, redis-server and all roles',
  usage,
  async run(args, { stdout, env }) {
    const { help, values } = parseCliOptions(args, {
      demo: { type: 'boolean' },
      'orders-per-second': { type: 'string' },
      'mongo-port': { type: 'string' },
      'redis-port': { type: 'string' },
      'admin-port': { type: 'string' },
      dbpath: { type: 'string' },
      'sagas-module': { type: 'string' },
    });
    if (help) {
      stdout.write(`${usage}\n`);
      return 0;
    }
    const demo = (values.demo as unknown) === true;
    const mongoPort = parsePort(values['mongo-port'], '--mongo-port', 0);
    const redisPort = parsePort(values['redis-port'], '--redis-port', 0);
    const ordersPerSecond = parseRate(values['orders-per-second'], '--orders-per-second', 2);
    const dbpath = values.dbpath;
    const config = loadConfig(env);
    const adminPort = parsePort(values['admin-port'], '--admin-port', config.admin.port);
    // The demo fails steps on purpose; their warnings would bury the progress line.
    const level: LogLevel = demo && !env.LOG_LEVEL?.trim() ? 'fatal' : config.logLevel;
    const logger = createLogger({ level, name: 'dev', destination: 2 });
    const sagas = await loadSagasModule(values['sagas-module'], env);
    if (demo && !sagas.registry.has('order-fulfillment')) {
      throw new UsageError(
        `--demo inserts orders for the order-fulfillment saga, which ${sagas.source} does not define`,
      );
    }

    const parts: RunningPart[] = [];
    const stopAll = async (): Promise<void> => {
      // Reverse start order; one failing stop must not leave the others running.
      for (const part of parts.splice(0).reverse()) {
        await part.stop().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
      }
    };
    let adminUrl: string | undefined;
    let db: Db;
    try {
      if (config.mongodb.url === undefined) {
        const { startEmbeddedMongoServer } = await import('../../embedded/index.js');
        const server = await startEmbeddedMongoServer({
          port: mongoPort,
          ...(dbpath === undefined ? {} : { dbpath: join(dbpath, 'mongo') }),
          logger: logger.child({ component: 'embedded-mongo' }),
        });
        parts.push({ url: server.uri, origin: 'embedded', stop: () => server.stop() });
      } else {
        parts.push({ url: config.mongodb.url, origin: 'MONGODB_URL', stop: () => Promise.resolve() });
      }
      if (config.redis.url === undefined) {
        const { startRedisServer } = await import('../../embedded/redis-launcher.js');
        const server = await startRedisServer({
          port: redisPort,
          ...(dbpath === undefined ? {} : { dir: join(dbpath, 'redis') }),
          logger: logger.child({ component: 'redis-server' }),
        });
        parts.push({ url: server.url, origin: 'redis-server', stop: () => server.stop() });
      } else {
        parts.push({ url: config.redis.url, origin: 'REDIS_URL', stop: () => Promise.resolve() });
      }
      const [mongo, redis] = parts as [RunningPart, RunningPart];
      const roles = await startRoles({
        mongodbUrl: mongo.url,
        database: config.mongodb.db,
        redisUrl: redis.url,
        queuePrefix: config.queuePrefix,
        sagas,
        roles: {
          watcher: true,
          worker: {},
          admin: {
            host: config.admin.host,
            port: adminPort,
            ...(config.admin.token === undefined ? {} : { token: config.admin.token }),
          },
        },
        logger,
      });
      parts.push({ url: roles.adminUrl ?? '', origin: 'roles', stop: () => roles.stop() });
      adminUrl = roles.adminUrl;
      db = roles.runtime.db;
    } catch (error) {
      await stopAll();
      throw error;
    }

    const [mongo, redis] = parts as [RunningPart, RunningPart];
    stdout.write(
      `sagastream dev stack ready: MongoDB ${redactUrl(mongo.url)} (${mongo.origin}), ` +
        `Redis ${redactUrl(redis.url)} (${redis.origin}), admin ${adminUrl ?? '(not started)'}\n`,
    );
    if (demo) {
      const running = runDemo({ db, ordersPerSecond, output: stdout, logger });
      parts.push({ url: running.target, origin: 'demo', stop: () => running.stop() });
    }

    const signal = await waitForShutdownSignal();
    logger.info({ signal }, 'stopping the dev stack');
    await stopAll();
    return 0;
  },
};
