// Fastify wants a pino logger; the admin server is given any SagaLogger. A pino logger goes through as is, any
// other is wrapped with the two members fastify adds to the log calls (a level and a silent method).
import type { FastifyBaseLogger } from 'fastify';
import type { SagaLogger } from '../logging/saga-logger.js';

const isFastifyLogger = (logger: SagaLogger): logger is SagaLogger & FastifyBaseLogger =>
  typeof (logger as Partial<FastifyBaseLogger>).level === 'string' &&
  typeof (logger as Partial<FastifyBaseLogger>).silent === 'function';

export function fastifyLogger(logger: SagaLogger): FastifyBaseLogger {
  if (isFastifyLogger(logger)) return logger;
  return {
    level: 'info',
    silent: () => undefined,
    fatal: logger.fatal.bind(logger),
    error: logger.error.bind(logger),
    warn: logger.warn.bind(logger),
    info: logger.info.bind(logger),
    debug: logger.debug.bind(logger),
    trace: logger.trace.bind(logger),
    child: (bindings: Record<string, unknown>) => fastifyLogger(logger.child(bindings)),
  };
}
