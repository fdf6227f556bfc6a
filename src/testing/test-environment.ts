// A whole sagastream in one test process: servers (given or started), a watcher and a worker on a database and
// queue prefix of its own, and a SagaClient, all ended by one stop().
import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { pino } from 'pino';
import type { SagaLogger } from '../logging/saga-logger.js';
import { SagaClient } from '../client/index.js';
import { SagaRegistry, scaleDefinition } from '../definition/index.js';
import { SagaRuntime } from '../runtime/saga-runtime.js';
import { testEnvironmentOptionsSchema, type TestEnvironmentOptions } from './test-environment-options.js';
import { serverUrlsFrom, startTestServers, type TestServers } from './test-servers.js';
import { waitUntilWatching } from './wait-until-watching.js';

const WATCHERS_READY_TIMEOUT_MS = 30_000;
/**
 * A change-stream read waits this long for events (1 s in production): the watcher reports itself streaming and
 * stops that much sooner, and tests create and stop an environment per file.
 */
const WATCHER_MAX_AWAIT_MS = 100;
/** Steps still running at stop() get this long before the worker closes; tests should not wait for more. */
const SHUTDOWN_GRACE_MS = 2_000;

/** `${prefix}-${16 hex digits}`: a database name (at most 38 characters) and a BullMQ prefix, new each time. */
function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}

export class TestEnvironment {
  #stopping: Promise<void> | undefined;

  /** @internal Built by {@link createTestEnvironment}. */
  constructor(
    /** Starts sagas and awaits their `result()`, on this environment's database and queues. */
    readonly client: SagaClient,
    /** @internal The environment's watcher and worker; tests act through `client`. */
    readonly runtime: SagaRuntime,
    /** The sagas as this environment runs them, every duration multiplied by `timeScale`. */
    readonly registry: SagaRegistry,
    private readonly servers: TestServers,
    /** The database of this environment alone (sagas, trigger collections unless a saga names another). */
    readonly database: string,
    /** The BullMQ key prefix of this environment alone. */
    readonly queuePrefix: string,
  ) {}

  /** The environment's database: insert trigger documents here, read what the steps wrote. */
  get db(): Db {
    return this.runtime.db;
  }

  get mongodbUrl(): string {
    return this.servers.mongodbUrl;
  }

  get redisUrl(): string {
    return this.servers.redisUrl;
  }

  /**
   * Ends the client, the watcher and the worker, then the servers this environment started (not the ones it was
   * given). Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const results = await Promise.allSettled([this.client.close(), this.runtime.stop()]);
      // The servers go last, also when closing a connection failed: no redis-server is left behind.
      results.push(...(await Promise.allSettled([this.servers.stop()])));
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
    })();
    return this.#stopping;
  }
}

/**
 * Starts everything a test needs to run sagas for real and returns once every trigger watcher follows its
 * change stream (a document inserted next starts its saga).
 *
 * MongoDB: `mongodbUrl`, else `MONGODB_URL`, else an embedded MongoDB-compatible server in this process.
 * Redis: `redisUrl`, else `REDIS_URL`, else a `redis-server` child on a free port (Debian's `redis-server`
 * package). Each environment has its own database and queue prefix, so test files run in parallel.
 * @throws ZodError for invalid options; SagastreamError `WATCHER_NOT_READY` when a watcher does not start.
 */
export async function createTestEnvironment(options: TestEnvironmentOptions): Promise<TestEnvironment> {
  const parsed = testEnvironmentOptionsSchema.parse(options);
  const logger: SagaLogger = parsed.logger ?? pino({ level: 'silent' });
  const registry = new SagaRegistry(
    parsed.sagas.map((definition) =>
      parsed.timeScale === 1 ? definition : scaleDefinition(definition, parsed.timeScale),
    ),
  );
  const database = uniqueName('sagastream-test');
  const queuePrefix = uniqueName('sagastream-test');
  const servers = await startTestServers(serverUrlsFrom(parsed), logger);
  let runtime: SagaRuntime | undefined;
  let client: SagaClient | undefined;
  try {
    runtime = await SagaRuntime.start({
      mongodbUrl: servers.mongodbUrl,
      redisUrl: servers.redisUrl,
      database,
      queuePrefix,
      registry,
      logger,
      roles: ['watcher', 'worker'],
      watcher: { maxAwaitTime: WATCHER_MAX_AWAIT_MS },
      worker: { concurrency: parsed.concurrency, shutdownGrace: SHUTDOWN_GRACE_MS },
      ...(parsed.services === undefined ? {} : { services: parsed.services }),
      ...(parsed.setup === undefined ? {} : { setup: parsed.setup }),
    });
    if (runtime.trigger) await waitUntilWatching(runtime.trigger, WATCHERS_READY_TIMEOUT_MS);
    client = await SagaClient.connect({
      mongodbUrl: servers.mongodbUrl,
      redisUrl: servers.redisUrl,
      database,
      queuePrefix,
      sagas: registry,
    });
    return new TestEnvironment(client, runtime, registry, servers, database, queuePrefix);
  } catch (error) {
    await Promise.allSettled([client?.close(), runtime?.stop()]);
    await servers.stop().catch(() => undefined);
    throw error;
  }
}
