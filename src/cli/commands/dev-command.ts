// `sagastream dev`: the whole development stack in one process — embedded MongoDB, a spawned redis-server
// (or the servers named by MONGODB_URL / REDIS_URL) and every sagastream role; `--demo` adds demo orders.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Db } from 'mongodb';
import { loadConfig } from '../../config/config.js';
import { describeRetentions } from '../../definition/index.js';
import { createLogger, redactUrl, type LogLevel } from '../../logging/logger.js';
import type { CliCommand } from '../cli-command.js';
import { runDemo } from '../demo/run-demo.js';
import { parseCliOptions, parsePort } from '../parse-cli-options.js';
import { isAddressInUse, PortInUseError } from '../port-in-use-error.js';
import { loadSagasModule } from '../../runtime/sagas-module.js';
import { startRoles } from '../../runtime/start-roles.js';
import { startOtelSdk } from '../../tracing/otel-sdk.js';
import { UsageError } from '../usage-error.js';
import { waitForShutdownSignal } from '../wait-for-shutdown-signal.js';
import { parseCheckoutRate, parseRate } from './demo-command.js';

const usage = `Usage: sagastream dev [--demo] [--orders-per-second N] [--checkouts-per-second N] [--mongo-port P]
                      [--redis-port P | --redis-cluster] [--admin-port P] [--dbpath DIR] [--check-definitions]

Starts the development stack in one process: the embedded MongoDB-compatible server, a redis-server child
process, the trigger watcher, a worker and the admin API; then prints one ready line with the MongoDB URI,
the admin URL and the admin token. Ctrl-C or SIGTERM stops everything (exit 0); a second Ctrl-C stops
redis-server and exits at once (130).
When MONGODB_URL or REDIS_URL is set, that server is used instead of starting one. Without ADMIN_TOKEN, a
token is generated for this run (the admin API needs it for every request but /healthz and /readyz).

Options:
  --demo                     insert demo orders for the order-fulfillment saga (a mix that succeeds, retries,
                             times out, compensates, dead-letters and is rejected) and demo checkouts for the
                             order-payment saga (a simulated payment provider captures, declines or never
                             answers their payments), and show live progress, a line per saga
  --orders-per-second N      demo order rate (default 2)
  --checkouts-per-second N   demo checkout rate (default: half the order rate; 0: no checkouts)
  --mongo-port P             port for the embedded MongoDB (default 0: a free port)
  --redis-port P             port for redis-server (default 0: a free port)
  --redis-cluster            start a local Redis Cluster instead of one redis-server: 3 masters and 3 replicas
                             on free loopback ports (it keeps nothing on disk, even with --dbpath)
  --admin-port P             port for the admin API (default ADMIN_PORT, 8080; 0: a free port)
  --dbpath DIR               keep data across restarts: MongoDB in DIR/mongo, Redis (AOF) in DIR/redis
  --sagas-module PATH        module exporting your SagaRegistry (default: SAGAS; with neither, --demo
                             runs the example sagas, order-fulfillment and order-payment)
  --check-definitions        refuse to start when a saga version's steps changed without a version bump, as
                             the other commands do (default off here: edits are recorded as the version's shape)
  -h, --help                 show this help

Needs redis-server on PATH unless REDIS_URL is set (Debian/Ubuntu: apt-get install -y redis-server).
Environment: LOG_LEVEL (default info; fatal with --demo, so the progress lines stay readable), MONGODB_URL,
REDIS_URL, MONGODB_DB, SAGAS, ADMIN_HOST, ADMIN_PORT, ADMIN_TOKEN, SAGA_RETENTION (how long finished sagas
are kept; default 30d, 'off' keeps them; logs go to stderr).`;

interface RunningPart {
  readonly url: string;
  readonly origin: string;
  stop(): Promise<void>;
  /** Ends a child process that would outlive this one; must not wait (it runs on 'exit'). */
  kill?(): void;
}

export const devCommand: CliCommand = {
  name: 'dev',
  summary: 'run the development stack: embedded MongoDB, redis-server and all roles',
  usage,
  async run(args, { stdout, env }) {
    const { help, values } = parseCliOptions(args, {
      demo: { type: 'boolean' },
      'orders-per-second': { type: 'string' },
      'checkouts-per-second': { type: 'string' },
      'mongo-port': { type: 'string' },
      'redis-port': { type: 'string' },
      'redis-cluster': { type: 'boolean' },
      'admin-port': { type: 'string' },
      dbpath: { type: 'string' },
      'sagas-module': { type: 'string' },
      'check-definitions': { type: 'boolean' },
    });
    if (help) {
      stdout.write(`${usage}\n`);
      return 0;
    }
    const demo = (values.demo as unknown) === true;
    const mongoPort = parsePort(values['mongo-port'], '--mongo-port', 0);
    const redisPort = parsePort(values['redis-port'], '--redis-port', 0);
    const ordersPerSecond = parseRate(values['orders-per-second'], '--orders-per-second', 2);
    const checkoutRate = parseCheckoutRate(values['checkouts-per-second'], ordersPerSecond);
    const dbpath = values.dbpath;
    const redisCluster = (values['redis-cluster'] as unknown) === true;
    if (redisCluster && values['redis-port'] !== undefined) {
      throw new UsageError('--redis-cluster picks a free port for each node: leave out --redis-port');
    }
    const config = loadConfig(env);
    if (redisCluster && config.redis.url !== undefined) {
      throw new UsageError(
        '--redis-cluster starts a local Redis Cluster, but REDIS_URL names a Redis to use',
      );
    }
    const adminPort = parsePort(values['admin-port'], '--admin-port', config.admin.port);
    // The demo fails steps on purpose; their warnings would bury the progress line.
    const level: LogLevel = demo && !env.LOG_LEVEL?.trim() ? 'fatal' : config.logLevel;
    const logger = createLogger({ level, name: 'dev', destination: 2 });
    const sagas = await loadSagasModule(values['sagas-module'], env, { demoByDefault: demo });
    if (demo && !sagas.registry.has('order-fulfillment')) {
      throw new UsageError(
        `--demo inserts orders for the order-fulfillment saga, which ${sagas.source} does not define`,
      );
    }
    // A sagas module of your own may leave order-payment out: its checkouts would then start nothing.
    const checkoutsPerSecond = sagas.registry.has('order-payment') ? checkoutRate : 0;

    // Listening from here on: a Ctrl-C while the servers start stops them once they are up, instead of killing
    // this process and leaving redis-server (its own process group) behind.
    const shutdownSignal = waitForShutdownSignal();
    const parts: RunningPart[] = [];
    const stopAll = async (): Promise<void> => {
      // Reverse start order; one failing stop must not leave the others running. A part leaves the list only
      // once stopped, so a second Ctrl-C meanwhile still finds redis-server to kill.
      for (let part = parts.at(-1); part !== undefined; part = parts.at(-1)) {
        await part.stop().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
        parts.pop();
      }
    };
    // However this process ends before stopAll has run (a second Ctrl-C exits 130, a crash), its children end too.
    const killChildren = (): void => parts.forEach((part) => part.kill?.());
    process.once('exit', killChildren);
    // The admin API refuses changes (retry, cancel, discard) without a token; the walkthrough needs them.
    const adminToken = config.admin.token ?? randomBytes(24).toString('base64url');
    let adminUrl: string | undefined;
    let db: Db;
    try {
      if (config.mongodb.url === undefined) {
        const { startEmbeddedMongoServer } = await import('../../embedded/index.js');
        const server = await startEmbeddedMongoServer({
          port: mongoPort,
          ...(dbpath === undefined ? {} : { dbpath: join(dbpath, 'mongo') }),
          logger: logger.child({ component: 'embedded-mongo' }),
        }).catch((error: unknown) => {
          if (!isAddressInUse(error)) throw error;
          throw new PortInUseError(
            `The embedded MongoDB cannot listen on 127.0.0.1:${mongoPort}: the port is already in use`,
            '--mongo-port',
            { cause: error },
          );
        });
        parts.push({ url: server.uri, origin: 'embedded', stop: () => server.stop() });
      } else {
        parts.push({ url: config.mongodb.url, origin: 'MONGODB_URL', stop: () => Promise.resolve() });
      }
      if (config.redis.url === undefined && redisCluster) {
        const { startRedisCluster } = await import('../../embedded/redis-cluster-launcher.js');
        const cluster = await startRedisCluster({ logger: logger.child({ component: 'redis-cluster' }) });
        parts.push({
          url: cluster.url,
          origin: 'Redis Cluster, 3 masters and 3 replicas',
          stop: () => cluster.stop(),
          kill: () => cluster.kill(),
        });
      } else if (config.redis.url === undefined) {
        const { startRedisServer, RedisPortInUseError } = await import('../../embedded/redis-launcher.js');
        const server = await startRedisServer({
          port: redisPort,
          ...(dbpath === undefined ? {} : { dir: join(dbpath, 'redis') }),
          logger: logger.child({ component: 'redis-server' }),
        }).catch((error: unknown) => {
          if (!(error instanceof RedisPortInUseError)) throw error;
          throw new PortInUseError(error.message, '--redis-port', { cause: error });
        });
        parts.push({
          url: server.url,
          origin: 'redis-server',
          stop: () => server.stop(),
          kill: () => server.kill(),
        });
      } else {
        parts.push({ url: config.redis.url, origin: 'REDIS_URL', stop: () => Promise.resolve() });
      }
      const [mongo, redis] = parts as [RunningPart, RunningPart];
      const sdk = await startOtelSdk(env);
      if (sdk) parts.push({ url: '', origin: 'opentelemetry', stop: () => sdk.shutdown() });
      const roles = await startRoles({
        mongodbUrl: mongo.url,
        database: config.mongodb.db,
        redisUrl: redis.url,
        queuePrefix: config.queuePrefix,
        sagas,
        roles: {
          watcher: true,
          worker: {},
          admin: { host: config.admin.host, port: adminPort, token: adminToken },
        },
        logger,
        checkDefinitions: (values['check-definitions'] as unknown) === true,
        retention: config.retention,
        traceparentField: config.traceparentField,
      });
      parts.push({ url: roles.adminUrl ?? '', origin: 'roles', stop: () => roles.stop() });
      adminUrl = roles.adminUrl;
      db = roles.runtime.db;
    } catch (error) {
      await stopAll();
      process.off('exit', killChildren);
      throw error;
    }

    const [mongo, redis] = parts as [RunningPart, RunningPart];
    stdout.write(
      `sagastream dev stack ready: MongoDB ${redactUrl(mongo.url)} (${mongo.origin}), ` +
        `Redis ${redactUrl(redis.url)} (${redis.origin}), ` +
        `retention ${describeRetentions(config.retention, sagas.registry.all())}, ` +
        `admin ${adminUrl ?? '(not started)'}, ` +
        // Last, so scripts can take it from the end of the line.
        `admin token ${config.admin.token === undefined ? adminToken : 'from ADMIN_TOKEN'}\n`,
    );
    if (demo) {
      // Its payment provider opens a change stream first, which can fail: the stack stops then, as above.
      const running = await runDemo({
        db,
        ordersPerSecond,
        checkoutsPerSecond,
        output: stdout,
        logger,
      }).catch(async (error: unknown) => {
        await stopAll();
        process.off('exit', killChildren);
        throw error;
      });
      parts.push({ url: running.target, origin: 'demo', stop: () => running.stop() });
    }

    const signal = await shutdownSignal;
    logger.info({ signal }, 'stopping the dev stack (a second Ctrl-C exits at once)');
    await stopAll();
    process.off('exit', killChildren);
    return 0;
  },
};
