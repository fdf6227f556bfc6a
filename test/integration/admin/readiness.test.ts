// /readyz answers 503 naming the failing part when Redis cannot be reached (MongoDB still answers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../../../src/admin/index.js';
import { SagaRegistry } from '../../../src/definition/index.js';
import type { SagaRuntime } from '../../../src/runtime/saga-runtime.js';
import { createLogger } from '../../../src/logging/logger.js';
import { ConnectionStates } from '../../../src/connections/connection-states.js';
import { RedisConnections } from '../../../src/connections/redis-connections.js';
import { SagaQueues } from '../../../src/queue/saga-queues.js';
import { SagaStore } from '../../../src/store/saga-store.js';
import { connectMongo, uniqueName } from '../helpers.js';
import { ordersSaga } from './admin-fixture.js';

describe('readiness', () => {
  let admin: AdminServer;
  let queues: SagaQueues;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const client = await connectMongo();
    const db = client.db(uniqueName('admin-ready'));
    // Nothing listens on port 1: every Redis command fails at once (producers do not queue offline).
    const logger = createLogger({ level: 'silent', pretty: false });
    const connections = new ConnectionStates({ logger });
    const redis = new RedisConnections({ url: 'redis://127.0.0.1:1', states: connections });
    queues = new SagaQueues({ connection: redis.create('producer'), prefix: uniqueName('ready-q') });
    // Only what /readyz reads: a runtime without watcher or worker roles.
    const runtime = {
      client,
      db,
      store: new SagaStore(db),
      queues,
      connections,
      trigger: null,
    } as unknown as SagaRuntime;
    const registry = new SagaRegistry([ordersSaga({ compensationBroken: false })]);
    admin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      backend: runtime,
      registry,
      logger,
    });
    close = async () => {
      await admin.close();
      await queues.close();
      await redis.close();
      await client.close();
    };
  });
  afterAll(async () => {
    await close?.();
  });

  it('answers 503 naming Redis, and lists each trigger with its lease holder', async () => {
    const response = await fetch(`${admin.url}/readyz`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as {
      status: string;
      mongodb: { ok: boolean };
      redis: { ok: boolean; error?: string };
      watchers: { saga: string; state: string; leaseHolder: string | null }[];
      failing: string[];
      error: { code: string; message: string };
    };
    expect(body.status).toBe('not-ready');
    expect(body.mongodb.ok).toBe(true);
    expect(body.redis.ok).toBe(false);
    expect(body.failing).toEqual([
      expect.stringMatching(/^redis: /) as string,
      'redis producer: not connected yet',
    ]);
    expect(body.error).toEqual({ code: 'NOT_READY', message: expect.stringContaining('redis') as string });
    expect(body.watchers).toEqual([
      { saga: 'orders', state: 'not-here', leaseHolder: null, lagSeconds: null },
    ]);
    expect((await fetch(`${admin.url}/healthz`)).status).toBe(200);
  });
});
