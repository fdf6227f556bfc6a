// `sagastream mongo`: runs the embedded MongoDB-compatible server as a standalone process.
import { loadConfig } from '../../config/config.js';
import { createLogger } from '../../logging/logger.js';
import type { CliCommand } from '../cli-command.js';
import { parseCliOptions, parsePort, parsePositiveInteger } from '../parse-cli-options.js';
import { waitForShutdownSignal } from '../wait-for-shutdown-signal.js';

const usage = `Usage: sagastream mongo [--port P] [--host H] [--dbpath DIR] [--history N]

Runs the embedded MongoDB-compatible server (a single-node replica set "rs0" with change streams) for
development and tests. Prints one line with the mongodb:// URI when it accepts connections; SIGTERM or
Ctrl-C flushes and stops it (exit 0).

Options:
  --port P       TCP port (default 27017; 0 picks a free port)
  --host H       address to bind (default 127.0.0.1)
  --dbpath DIR   keep data and change history in DIR across restarts (default: in memory only)
  --history N    change events kept for resuming change streams
  -h, --help     show this help

Environment: LOG_LEVEL (logs go to stderr).`;

export const mongoCommand: CliCommand = {
  name: 'mongo',
  summary: 'run the embedded MongoDB-compatible server',
  usage,
  async run(args, { stdout, env }) {
    const { help, values } = parseCliOptions(args, {
      port: { type: 'string' },
      host: { type: 'string' },
      dbpath: { type: 'string' },
      history: { type: 'string' },
    });
    if (help) {
      stdout.write(`${usage}\n`);
      return 0;
    }
    const port = parsePort(values.port, '--port', 27017);
    const historySize = parsePositiveInteger(values.history, '--history');
    const config = loadConfig(env);
    const logger = createLogger({ level: config.logLevel, name: 'embedded-mongo', destination: 2 });

    // Loaded on demand so `--help` and other commands stay fast.
    const { startEmbeddedMongoServer } = await import('../../embedded/index.js');
    const server = await startEmbeddedMongoServer({
      port,
      host: values.host ?? '127.0.0.1',
      ...(values.dbpath === undefined ? {} : { dbpath: values.dbpath }),
      ...(historySize === undefined ? {} : { historySize }),
      logger,
    });
    // Listening before the ready line: a supervisor may send SIGTERM as soon as it reads it.
    const shutdownSignal = waitForShutdownSignal();
    stdout.write(`embedded MongoDB ready at ${server.uri}\n`);
    const signal = await shutdownSignal;
    logger.info({ signal }, 'stopping embedded MongoDB');
    await server.stop();
    return 0;
  },
};
