// pino loggers for every sagastream process: JSON by default, pretty on a developer's terminal, and never a
// credential in the output (connection URLs are redacted by key and inside log messages).
import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';
import { createRequire } from 'node:module';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface CreateLoggerOptions {
  readonly level: LogLevel;
  /** Shown as `name` on every line, e.g. the process role (`watcher`, `worker`). */
  readonly name?: string;
  /** Human-readable output; by default when the destination is a TTY and NODE_ENV is not production. */
  readonly pretty?: boolean;
  /** A file descriptor (default 1, stdout) or a stream; CLI commands log to stderr to keep stdout parseable. */
  readonly destination?: number | DestinationStream;
}

const URL_KEYS = ['url', 'uri', 'mongodbUrl', 'redisUrl', 'connectionString'];
const SECRET_KEYS = ['token', 'password', 'authorization', 'adminToken', 'secret'];

const REDACTED_PATHS = [
  ...URL_KEYS,
  ...URL_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  'headers.authorization',
  '*.headers.authorization',
];

/**
 * Replaces the user-info part of a URL (`user:password@`) with `***`, for any scheme and for MongoDB's
 * multi-host form. Strings without credentials come back unchanged.
 */
export function redactUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (!scheme) return url;
  const rest = url.slice(scheme[0].length);
  // A password may contain unescaped '@' or '/', so take the last '@' before the query: over-redacting a
  // path that contains '@' is harmless, leaking a password is not.
  const queryStart = rest.search(/[?#]/);
  const authority = queryStart === -1 ? rest : rest.slice(0, queryStart);
  const at = authority.lastIndexOf('@');
  if (at === -1) return url;
  return `${scheme[0]}***${rest.slice(at)}`;
}

/** Redacts the credentials of every URL inside free text, e.g. a log message or an error message. */
export function redactUrlsInText(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"<>`]+/gi, (url) => redactUrl(url));
}

function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (URL_KEYS.includes(key)) return typeof value === 'string' ? redactUrl(value) : value;
  return '[Redacted]';
}

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

/** pino-pretty is an optional peer dependency: JSON logs need nothing, pretty ones need it installed. */
function loadPretty(): PrettyFactory | undefined {
  try {
    const loaded = createRequire(import.meta.url)('pino-pretty') as
      PrettyFactory | { default: PrettyFactory };
    return typeof loaded === 'function' ? loaded : loaded.default;
  } catch {
    return undefined;
  }
}

function wantsPretty(destination: number | DestinationStream): boolean {
  return typeof destination === 'number' && isatty(destination) && process.env.NODE_ENV !== 'production';
}

function prettyStream(destination: number | DestinationStream): DestinationStream | undefined {
  // pino-pretty as an in-process stream (not a worker-thread transport): nothing to resolve at run time.
  const pretty = loadPretty();
  const colorize = typeof destination === 'number' && isatty(destination);
  return pretty?.({ destination, sync: true, colorize, ignore: 'pid,hostname' });
}

function plainStream(destination: number | DestinationStream): DestinationStream {
  return typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const destination = options.destination ?? 1;
  const usePretty = options.pretty ?? wantsPretty(destination);
  // Without pino-pretty installed, a terminal gets JSON lines too.
  const stream = (usePretty ? prettyStream(destination) : undefined) ?? plainStream(destination);

  return pino(
    {
      level: options.level,
      ...(options.name === undefined ? {} : { name: options.name }),
      redact: { paths: REDACTED_PATHS, censor },
      hooks: {
        // Messages are free text (`connecting to ${url}`), so key-based redaction alone would miss them.
        logMethod(args, method) {
          const redacted = args.map((arg) => (typeof arg === 'string' ? redactUrlsInText(arg) : arg));
          method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    stream,
  );
}
