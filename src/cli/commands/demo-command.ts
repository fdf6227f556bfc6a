// `sagastream demo`: inserts demo orders for the order-fulfillment saga into MONGODB_URL and shows progress.
// The roles run elsewhere (`sagastream start`, Compose); `sagastream dev --demo` does both in one process.
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../config/config.js';
import { createLogger } from '../../logging/logger.js';
import { checkMongo } from '../../runtime/check-connections.js';
import type { CliCommand } from '../cli-command.js';
import { runDemo } from '../demo/run-demo.js';
import { parseCliOptions, parsePositiveInteger } from '../parse-cli-options.js';
import { UsageError } from '../usage-error.js';
import { waitForShutdownSignal } from '../wait-for-shutdown-signal.js';

const usage = `Usage: sagastream demo [--orders-per-second N] [--count N]

Inserts a steady stream of demo orders into the "orders" collection of MONGODB_DB for the order-fulfillment
saga: a mix that succeeds, retries, times out, compensates, dead-letters and is rejected. Shows sagas per
status and the rates (in place on a terminal, a line every 5 s otherwise) until Ctrl-C or SIGTERM (exit 0).
The watcher and workers must run somewhere (sagastream start, or docker compose up).

Options:
  --orders-per-second N   insert rate, 0.1 to 1000 (default 2)
  --count N               stop after N orders and exit 0
  -h, --help              show this help

Environment: MONGODB_URL (required), MONGODB_DB, LOG_LEVEL (logs go to stderr).`;

/** A rate like `2` or `0.5`. */
export function parseRate(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const rate = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || rate < 0.1 || rate > 1000) {
    throw new UsageError(`${option} must be a number from 0.1 to 1000`);
  }
  return rate;
}

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'insert demo orders for the order-fulfillment saga and show progress',
  usage,
  async run(args, { stdout, env }) {
    const { help, values } = parseCliOptions(args, {
      'orders-per-second': { type: 'string' },
      count: { type: 'string' },
    });
    if (help) {
      stdout.write(`${usage}\n`);
      return 0;
    }
    const ordersPerSecond = parseRate(values['orders-per-second'], '--orders-per-second', 2);
    const count = parsePositiveInteger(values.count, '--count');
    const config = loadConfig(env, { require: ['mongodb'] });
    const logger = createLogger({ level: config.logLevel, name: 'demo', destination: 2 });
    await checkMongo(config.mongodb.url);
    const client = new MongoClient(config.mongodb.url);
    await client.connect();
    try {
      const demo = runDemo({
        db: client.db(config.mongodb.db),
        ordersPerSecond,
        ...(count === undefined ? {} : { count }),
        output: stdout,
        logger,
      });
      // Listening before the line: a supervisor may send SIGTERM as soon as it reads it.
      const shutdownSignal = waitForShutdownSignal();
      stdout.write(
        `sagastream demo: inserting ${ordersPerSecond} orders/s into ${demo.target}` +
          `${count === undefined ? '' : ` (${count} in all)`}; Ctrl-C stops\n`,
      );
      const signal = await Promise.race([shutdownSignal, demo.finished.then(() => undefined)]);
      if (signal !== undefined) logger.info({ signal }, 'stopping the demo');
      await demo.stop();
    } finally {
      await client.close();
    }
    return 0;
  },
};
