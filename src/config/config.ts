// The one place that reads sagastream settings from the environment; everything else receives a Config.
import { z } from 'zod';
import {
  DEFAULT_RETENTION_MS,
  describeInvalidRetention,
  retentionSchema,
  type Retention,
} from '../definition/index.js';
import { LOG_LEVELS, type LogLevel } from '../logging/logger.js';
import { ConfigError } from './config-error.js';
import { REDIS_URL_FORMS, redisUrlProblem } from '../connections/redis-url.js';
import { MONGODB_DB_SHAPE, MONGODB_URL_SHAPE, QUEUE_PREFIX_SHAPE, isRedisUrl } from './connection-options.js';

export type ConfigRequirement = 'mongodb' | 'redis';

export interface Config {
  readonly nodeEnv: 'development' | 'test' | 'production';
  readonly logLevel: LogLevel;
  readonly mongodb: { readonly url: string | undefined; readonly db: string };
  readonly redis: { readonly url: string | undefined };
  /** BullMQ key prefix, so several deployments can share one Redis. */
  readonly queuePrefix: string;
  readonly admin: { readonly host: string; readonly port: number; readonly token: string | undefined };
  /** How long finished sagas are kept (ms, or 'off') unless their definition says otherwise: SAGA_RETENTION. */
  readonly retention: Retention;
  /** The trigger document field holding the W3C traceparent its saga's trace links to: SAGASTREAM_TRACEPARENT_FIELD. */
  readonly traceparentField: string;
}

/** A Config whose connection URLs are guaranteed for the requirements the caller named. */
export type ConfigFor<R extends ConfigRequirement> = Config &
  ('mongodb' extends R ? { readonly mongodb: { readonly url: string } } : unknown) &
  ('redis' extends R ? { readonly redis: { readonly url: string } } : unknown);

export interface LoadConfigOptions<R extends ConfigRequirement> {
  /** Connection URLs that must be present; others stay optional (e.g. `dev` starts its own servers). */
  readonly require?: readonly R[];
}

type Environment = Readonly<Record<string, string | undefined>>;

/** What each variable should look like; used verbatim in error messages. */
const EXPECTED_FORMS = {
  MONGODB_URL: 'a MongoDB connection string like mongodb://localhost:27017/?replicaSet=rs0',
  MONGODB_DB: 'a MongoDB database name (1-63 characters, none of / \\ . " $ * < > : | ? or spaces)',
  REDIS_URL: REDIS_URL_FORMS,
  LOG_LEVEL: `one of ${LOG_LEVELS.join(', ')}`,
  NODE_ENV: 'one of development, test, production',
  SAGASTREAM_QUEUE_PREFIX: 'letters, digits, "-" or "_" (1-64 characters), like sagastream',
  ADMIN_HOST: 'a host name or IP address to listen on, like 127.0.0.1',
  ADMIN_PORT: 'a TCP port number from 0 to 65535, like 8080',
  ADMIN_TOKEN: 'a secret of at least 16 characters (or leave it unset)',
  SAGA_RETENTION: "a duration of at least 1s like '30d', '12h', '5m' or '30s', or 'off' (default 30d)",
  SAGASTREAM_TRACEPARENT_FIELD:
    'a top-level field name: a letter or "_", then letters, digits, "_" or "-" (1-64 characters), like traceparent',
} as const;

type VariableName = keyof typeof EXPECTED_FORMS;

// An empty variable counts as unset: Compose and CI templates often export `NAME=`.
const optionalText = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
  z.string().trim().optional(),
);

const environmentSchema = z.object({
  MONGODB_URL: optionalText.refine((url) => url === undefined || MONGODB_URL_SHAPE.test(url)),
  MONGODB_DB: optionalText.default('sagastream').refine((db) => MONGODB_DB_SHAPE.test(db)),
  REDIS_URL: optionalText.refine((url) => url === undefined || isRedisUrl(url)),
  LOG_LEVEL: optionalText.default('info').pipe(z.enum(LOG_LEVELS)),
  NODE_ENV: optionalText.default('development').pipe(z.enum(['development', 'test', 'production'])),
  SAGASTREAM_QUEUE_PREFIX: optionalText
    .default('sagastream')
    .refine((prefix) => QUEUE_PREFIX_SHAPE.test(prefix)),
  ADMIN_HOST: optionalText.default('127.0.0.1').refine((host) => !/\s/.test(host)),
  ADMIN_PORT: optionalText
    .default('8080')
    .refine((port) => /^\d{1,5}$/.test(port) && Number(port) <= 65535)
    .transform(Number),
  ADMIN_TOKEN: optionalText.refine((token) => token === undefined || token.length >= 16),
  SAGA_RETENTION: optionalText
    .refine((text) => text === undefined || retentionSchema.safeParse(text).success)
    .transform((text): Retention =>
      text === undefined ? DEFAULT_RETENTION_MS : retentionSchema.parse(text),
    ),
  SAGASTREAM_TRACEPARENT_FIELD: optionalText
    .default('traceparent')
    .refine((field) => /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(field)),
});

/**
 * Reads and validates the sagastream configuration from `env`.
 * @throws ConfigError naming every missing or malformed variable with the expected form.
 */
export function loadConfig<R extends ConfigRequirement = never>(
  env: Environment = process.env,
  options: LoadConfigOptions<R> = {},
): ConfigFor<R> {
  const input = Object.fromEntries(Object.keys(EXPECTED_FORMS).map((name) => [name, env[name]]));
  const parsed = environmentSchema.safeParse(input);
  const problems = new Map<VariableName, string>();

  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path[0] as VariableName;
      if (problems.has(name)) continue;
      // Only the name and the expected form: the value may be a password or token. SAGA_RETENTION holds no
      // secret, and its value shows the typo.
      const verb = name === 'ADMIN_TOKEN' ? 'is too short' : 'is invalid';
      // A REDIS_URL's problem names the part that is wrong (a port, a stray ','), never the URL itself.
      const redisProblem = name === 'REDIS_URL' ? redisUrlProblem(input[name] ?? '') : undefined;
      const detail =
        name === 'SAGA_RETENTION'
          ? describeInvalidRetention(input[name])
          : `${redisProblem === undefined ? '' : `${redisProblem}; `}expected ${EXPECTED_FORMS[name]}`;
      problems.set(name, `${name} ${verb}: ${detail}`);
    }
  }
  const required = new Set<ConfigRequirement>(options.require ?? []);
  if (required.has('mongodb') && !problems.has('MONGODB_URL') && !input.MONGODB_URL?.trim()) {
    problems.set('MONGODB_URL', `MONGODB_URL is required: ${EXPECTED_FORMS.MONGODB_URL}`);
  }
  if (required.has('redis') && !problems.has('REDIS_URL') && !input.REDIS_URL?.trim()) {
    problems.set('REDIS_URL', `REDIS_URL is required: ${EXPECTED_FORMS.REDIS_URL}`);
  }
  if (problems.size > 0 || !parsed.success) {
    const ordered = (Object.keys(EXPECTED_FORMS) as VariableName[]).flatMap(
      (name) => problems.get(name) ?? [],
    );
    throw new ConfigError(ordered);
  }

  const values = parsed.data;
  const config: Config = {
    nodeEnv: values.NODE_ENV,
    logLevel: values.LOG_LEVEL,
    mongodb: Object.freeze({ url: values.MONGODB_URL, db: values.MONGODB_DB }),
    redis: Object.freeze({ url: values.REDIS_URL }),
    queuePrefix: values.SAGASTREAM_QUEUE_PREFIX,
    admin: Object.freeze({ host: values.ADMIN_HOST, port: values.ADMIN_PORT, token: values.ADMIN_TOKEN }),
    retention: values.SAGA_RETENTION,
    traceparentField: values.SAGASTREAM_TRACEPARENT_FIELD,
  };
  // The required URLs were checked above, which is what ConfigFor<R> promises.
  return Object.freeze(config) as ConfigFor<R>;
}
