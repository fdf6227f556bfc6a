// `sagastream demo`: inserts demo orders (order-fulfillment) and checkouts (order-payment, answered by a simulated
// payment provider) into MONGODB_URL and shows progress.
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

const usage = `Usage: sagastream demo [--orders-per-second N] [--checkouts-per-second N] [--count N]

Inserts a steady stream of demo orders into the "orders" collection of MONGODB_DB for the order-fulfillment
saga: a mix that succeeds, retries, times out, compensates, dead-letters and is rejected. Alongside, demo
checkouts go into "checkouts" for the order-payment saga, and a simulated payment provider answers their
payment intents in "provider_payments" (captured or declined after 0.5 to 5 s, or never). Shows sagas per
status and the rates, a line per saga (in place on a terminal, every 5 s otherwise), until Ctrl-C or SIGTERM
(exit 0). The watcher and workers must run somewhere (sagastream start, or docker compose up).

Options:
  --orders-per-second N      insert rate, 0.1 to 1000 (default 2)
  --checkouts-per-second N   checkout rate, 0 to 1000 (default: half the order rate; 0: no checkouts)
  --count N                  stop after N orders and N checkouts and exit 0 (payments due after that
                             are never answered: those checkouts time out)
  -h, --help                 show this help

Environment: MONGODB_URL (required), MONGODB_DB, LOG_LEVEL (logs go to stderr).`;

/** A rate like `2` or `0.5`; `0` too when `allowZero` (a stream switched off). */
export function parseRate(
  value: string | undefined,
  option: string,
  fallback: number,
  { allowZero = false } = {},
): number {
  if (value === undefined) return fallback;
  const rate = Number(value);
  const valid = /^\d+(\.\d+)?$/.test(value) && rate <= 1000 && (rate >= 0.1 || (allowZero && rate === 0));
  if (!valid) throw new UsageError(`${option} must be a number from ${allowZero ? 0 : 0.1} to 1000`);
  return rate;
}

/** `--checkouts-per-second`: half the order rate unless given. */
export function parseCheckoutRate(value: string | undefined, ordersPerSecond: number): number {
  return parseRate(value, '--checkouts-per-second', ordersPerSecond / 2, { allowZero: true });
}

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'insert demo orders and checkouts for the example sagas and show progress',
  usage,
  async run(args, { stdout, env }) {
    const { help, values } = parseCliOptions(args, {
      'orders-per-second': { type: 'string' },
      'checkouts-per-second': { type: 'string' },
      count: { type: 'string' },
    });
    if (help) {
      stdout.write(`${usage}\n`);
      return 0;
    }
    const ordersPerSecond = parseRate(values['orders-per-second'], '--orders-per-second', 2);
    const checkoutsPerSecond = parseCheckoutRate(values['checkouts-per-second'], ordersPerSecond);
    const count = parsePositiveInteger(values.count, '--count');
    const config = loadConfig(env, { require: ['mongodb'] });
    const logger = createLogger({ level: config.logLevel, name: 'demo', destination: 2 });
    await checkMongo(config.mongodb.url);
    const client = new MongoClient(config.mongodb.url);
    await client.connect();
    try {
      const demo = await runDemo({
        db: client.db(config.mongodb.db),
        ordersPerSecond,
        checkoutsPerSecond,
        ...(count === undefined ? {} : { count }),
        output: stdout,
        logger,
      });
      // Listening before the line: a supervisor may send SIGTERM as soon as it reads it.
      const shutdownSignal = waitForShutdownSignal();
      const checkouts =
        demo.checkoutsTarget === undefined
          ? ''
          : ` and ${checkoutsPerSecond} checkouts/s into ${demo.checkoutsTarget}`;
      const counted =
        count === undefined ? '' : ` (${count} ${demo.checkoutsTarget === undefined ? 'in all' : 'of each'})`;
      stdout.write(
        `sagastream demo: inserting ${ordersPerSecond} orders/s into ${demo.target}${checkouts}${counted}; ` +
          'Ctrl-C stops\n',
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
