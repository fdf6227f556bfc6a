// The MongoDB and Redis a test environment uses: URLs given or set in MONGODB_URL / REDIS_URL, else an embedded
// MongoDB-compatible server in this process and a `redis-server` child, both started here and stopped again.
import type { SagaLogger } from '../logging/saga-logger.js';
import { startEmbeddedMongoServer } from '../embedded/index.js';
import { startRedisServer } from '../embedded/redis-launcher.js';

export interface TestServers {
  readonly mongodbUrl: string;
  readonly redisUrl: string;
  /** Which of the two this environment started itself (and stops). */
  readonly started: { readonly mongodb: boolean; readonly redis: boolean };
  /** Stops the servers started here; the ones only connected to are left alone. */
  stop(): Promise<void>;
}

export interface ServerUrls {
  readonly mongodbUrl?: string | undefined;
  readonly redisUrl?: string | undefined;
}

/** An option wins over the environment variable; an empty variable counts as unset. */
export function serverUrlsFrom(options: ServerUrls, env: NodeJS.ProcessEnv = process.env): ServerUrls {
  return {
    mongodbUrl: options.mongodbUrl ?? (env.MONGODB_URL?.trim() || undefined),
    redisUrl: options.redisUrl ?? (env.REDIS_URL?.trim() || undefined),
  };
}

export async function startTestServers(urls: ServerUrls, logger: SagaLogger): Promise<TestServers> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    // Redis first (it was started last); an error in one stop must not leave the other running.
    const results = await Promise.allSettled(
      stops
        .splice(0)
        .reverse()
        .map((stop) => stop()),
    );
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
  };
  try {
    let mongodbUrl = urls.mongodbUrl;
    if (mongodbUrl === undefined) {
      const mongo = await startEmbeddedMongoServer({ logger: logger.child({ component: 'embedded-mongo' }) });
      stops.push(() => mongo.stop());
      mongodbUrl = mongo.uri;
    }
    let redisUrl = urls.redisUrl;
    if (redisUrl === undefined) {
      const redis = await startRedisServer({ logger: logger.child({ component: 'redis-server' }) });
      // redis-server runs in its own process group: a test process that exits without stop() must still end it.
      const killOnExit = (): void => redis.kill();
      process.once('exit', killOnExit);
      stops.push(async () => {
        process.removeListener('exit', killOnExit);
        await redis.stop();
      });
      redisUrl = redis.url;
    }
    return {
      mongodbUrl,
      redisUrl,
      started: { mongodb: urls.mongodbUrl === undefined, redis: urls.redisUrl === undefined },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
