// The logger sagastream writes to and gives to steps as ctx.logger: pino's shape, so a pino logger fits as is,
// and any logger with the same calls (a bunyan logger, an adapter over your own) fits too.

/** `logger.info('message')` or `logger.info({ sagaId }, 'message')`: structured fields first, as pino does. */
export interface LogMethod {
  (message: string): void;
  (fields: object, message?: string): void;
}

export interface SagaLogger {
  readonly fatal: LogMethod;
  readonly error: LogMethod;
  readonly warn: LogMethod;
  readonly info: LogMethod;
  readonly debug: LogMethod;
  readonly trace: LogMethod;
  /** A logger whose lines all carry `bindings`. */
  child(bindings: Record<string, unknown>): SagaLogger;
  /** Lets hot paths skip building a line nobody will see; assumed enabled when absent. */
  isLevelEnabled?(level: string): boolean;
}

export const isSagaLogger = (value: unknown): value is SagaLogger =>
  typeof value === 'object' &&
  value !== null &&
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'child'].every(
    (method) => typeof (value as Record<string, unknown>)[method] === 'function',
  );

const ignore: LogMethod = () => undefined;

/** Logs nothing: for parts whose work is logged elsewhere (a client's sagas are logged by the workers). */
export const silentLogger: SagaLogger = {
  fatal: ignore,
  error: ignore,
  warn: ignore,
  info: ignore,
  debug: ignore,
  trace: ignore,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};
