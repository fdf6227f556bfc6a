// `sagastream dev`: the whole development stack in one process — embedded MongoDB plus a spawned
// redis-server (or the servers named by MONGODB_URL / REDIS_URL). Later milestones add the saga roles here.
import { join } from 'node:path';
import { loadConfig } from '../../config/config.js';
import { createLogger, redactUrl } from '../../logging/logger.js';
import type { CliCommand } from '../cli-command.js';
import { parseCliOptions, parsePort } from '../parse-cli-options.js';
import { waitForShutdownSignal } from '../wait-for-shutdown-signal.js';

const usage = `Usage: sagastream dev [--mongo-port P] [--redis-port P] [--dbpath DIR]

Starts the development stack: the embedded MongoDB-compatible server and a redis-server child process,
then prints one line with both URLs. Ctrl-C or SIGTERM stops both (exit 0).
When MONGODB_URL or REDIS_URL is set, that server is used instead of starting one.

Options:
  --mongo-port P   port for the embedded MongoDB (default 0: a free port)
  --redis-port P   port for redis-server (default 0: a free port)
  --dbpath DIR     keep data across restarts: MongoDB in DIR/mongo, Redis (AOF) in DIR/redis
  -h, --help       show this help

Needs redis-server on PATH unless REDIS_URL is set (Debian/Ubuntu: apt-get install -y redis-server).
Environment: LOG_LEVEL, MONGODB_URL, REDIS_URL (logs go to stderr).`;

interface RunningPart {
  readonly url: string;
  readonly origin: string;
  stop(): Promise<void>;
}

export const devCommand: CliCommand = {
  name: 'dev',
  summary: 'run the development stack (embedded MongoDB + redis-server)',
  usage,
  async run(args, { stdout, env }) {
    const { help, values } = parseCliOptions(args, {
      'mongo-port': { type: 'string' },
      'redis-port': { type: 'string' },
      dbpath: { type: 'string' },
    });
    if (help) {
      stdout.write(`${usage}\n`);
      return 0;
    }
    const mongoPort = parsePort(values['mongo-port'], '--mongo-port', 0);
    const redisPort = parsePort(values['redis-port'], '--redis-port', 0);
    const dbpath = values.dbpath;
    const config = loadConfig(env);
    const logger = createLogger({ level: config.logLevel, name: 'dev', destination: 2 });

    const parts: RunningPart[] = [];
    const stopAll = async (): Promise<void> => {
      // Reverse start order; one failing stop must not leave the others running.
      for (const part of parts.splice(0).reverse()) {
        await part.stop().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
      }
    };
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
    } catch (error) {
      await stopAll();
      throw error;
    }

    const [mongo, redis] = parts;
    stdout.write(
      `sagastream dev stack ready: MongoDB ${redactUrl(mongo?.url ?? '')} (${mongo?.origin ?? ''}), ` +
        `Redis ${redactUrl(redis?.url ?? '')} (${redis?.origin ?? ''})\n`,
    );

    const signal = await waitForShutdownSignal();
    logger.info({ signal }, 'stopping the dev stack');
    await stopAll();
    return 0;
  },
};
