// Shared by the trigger integration tests: a database and queue prefix per test, a TriggerService on them,
// and a helper that waits for sagas with expect.poll (tests wait for outcomes, never for a fixed time).
import type { ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import type { Cluster, Redis } from 'ioredis';
import type { Collection, Db, MongoClient } from 'mongodb';
import type { Logger } from 'pino';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { SagaDefinition } from '../../../src/definition/index.js';
import { createLogger, type LogLevel } from '../../../src/logging/logger.js';
import { SagaQueues } from '../../../src/queue/saga-queues.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { TriggerService } from '../../../src/trigger/trigger-service.js';
import type { TriggerWatcherOptionsInput } from '../../../src/trigger/trigger-watcher-options.js';
import { connectMongo, connectRedis, mongoAndCleanups, uniqueName } from '../helpers.js';

export interface TriggerTestContext {
  client: MongoClient;
  db: Db;
  redis: Redis | Cluster;
  queues: SagaQueues;
  queuePrefix: string;
  logger: Logger;
  /** Every log line as parsed JSON, for tests that check what was logged. */
  logLines: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Fast settings so tests finish quickly; the defaults are production values. */
export const FAST_WATCHER: Partial<TriggerWatcherOptionsInput> = {
  leaseTtl: 2_000,
  standbyPollInterval: 200,
  maxAwaitTime: 200,
  retryDelay: 100,
  maxRetryDelay: 1_000,
};

export async function createTriggerContext(client: MongoClient, name: string): Promise<TriggerTestContext> {
  const db = client.db(uniqueName(name));
  const queuePrefix = uniqueName(`${name}-q`);
  const redis = await connectRedis();
  const queues = new SagaQueues({ connection: redis, prefix: queuePrefix });
  const logLines: Record<string, unknown>[] = [];
  const capture = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const level = (process.env.SAGASTREAM_TEST_LOG_LEVEL ?? 'info') as LogLevel;
  const logger = createLogger({ level, name, destination: capture, pretty: false });
  return {
    client,
    db,
    redis,
    queues,
    queuePrefix,
    logger,
    logLines,
    async close() {
      await queues.close();
      // Already closed (a queue gave up on it at shutdown) is closed enough.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export function triggerService(
  context: TriggerTestContext,
  sagas: SagaDefinition[],
  watcher: Partial<TriggerWatcherOptionsInput> = {},
): TriggerService {
  return new TriggerService({
    db: context.db,
    queues: context.queues,
    sagas,
    logger: context.logger,
    watcher: { ...FAST_WATCHER, ...watcher },
  });
}

export function sagasOf(db: Db, saga: string): Promise<SagaDocument[]> {
  return db.collection<SagaDocument>('sagas').find({ saga }).toArray();
}

/** The sagas of `saga` once there are at least `count` of them. */
export async function waitForSagaCount(
  db: Db,
  saga: string,
  count: number,
  timeoutMs?: number,
): Promise<SagaDocument[]> {
  let sagas: SagaDocument[] = [];
  await expect
    .poll(async () => (sagas = await sagasOf(db, saga)).length, {
      ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
      message: `${count} sagas of ${saga}`,
    })
    .toBeGreaterThanOrEqual(count);
  return sagas;
}

let orderNumber = 0;

/** An order document; `overrides` make it non-matching or invalid. */
/** A document of the `orders` collection the test saga watches. */
export interface OrderDocument {
  _id: string;
  [field: string]: unknown;
}

export function ordersOf(db: Db): Collection<OrderDocument> {
  return db.collection<OrderDocument>('orders');
}

export function order(overrides: Record<string, unknown> = {}): OrderDocument {
  orderNumber += 1;
  return {
    _id: `order-${orderNumber}-${Math.random().toString(36).slice(2, 8)}`,
    status: 'pending',
    total_amount: 10,
    customer: 'c1',
    ...overrides,
  };
}

/** Saga keys (document ids) grouped, to show that no document got two sagas. */
export function keysWithMoreThanOneSaga(sagas: SagaDocument[]): string[] {
  const counts = new Map<string, number>();
  for (const saga of sagas) counts.set(saga.key, (counts.get(saga.key) ?? 0) + 1);
  return [...counts].filter(([, count]) => count > 1).map(([key]) => key);
}

/**
 * Registers the hooks a trigger test file needs (one MongoDB client, cleanups after each test) and returns
 * `context` (a database and queues of its own), `started` (a service started and active) and `onCleanup`.
 */
export function triggerTestHooks(): {
  context: (name: string) => Promise<TriggerTestContext>;
  started: (service: TriggerService) => Promise<TriggerService>;
  /** Runs after the current test, before the ones registered earlier. */
  onCleanup: (cleanup: () => Promise<void>) => void;
} {
  const { mongo, onCleanup } = mongoAndCleanups();
  return {
    async context(name) {
      const created = await createTriggerContext(mongo(), name);
      onCleanup(() => created.close());
      return created;
    },
    async started(service) {
      onCleanup(() => service.stop());
      await service.start();
      await expect
        .poll(() => service.status().watchers[0]?.state, { message: 'an active watcher' })
        .toBe('active');
      return service;
    },
    onCleanup,
  };
}

/**
 * Registers a file's hooks for tests that run watcher processes: one MongoDB client (`mongo()`, connected before the
 * first test) and `children`, where a test puts each process it spawns; those still running are SIGKILLed after it.
 */
export function mongoAndChildProcesses(): { mongo: () => MongoClient; children: ChildProcess[] } {
  let client: MongoClient | undefined;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    client = await connectMongo();
  });
  afterEach(() => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  afterAll(async () => {
    await client?.close();
  });
  return {
    mongo: () => {
      if (!client) throw new Error('mongo() is available from the first test on');
      return client;
    },
    children,
  };
}
