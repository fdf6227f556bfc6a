// A partitioned trigger in /readyz, the admin stats and `sagastream status`: one line per partition, each with
// its own lease holder; a process without the watcher role reads each partition's lease from MongoDB.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startAdminServer, type AdminServer, type WatcherReport } from '../../../src/admin/index.js';
import { statusCommand } from '../../../src/cli/commands/status-command.js';
import { SagaRegistry, defineSaga } from '../../../src/definition/index.js';
import { createLogger } from '../../../src/logging/logger.js';
import { SagaRuntime } from '../../../src/runtime/saga-runtime.js';
import { mongoUrl, redisUrl, uniqueName } from '../helpers.js';

const hotSaga = defineSaga({
  name: 'hot',
  trigger: { collection: 'events', partitions: 2 },
  input: z.object({}).passthrough(),
})
  .step({ name: 'noop', run: () => Promise.resolve({}) })
  .build();

describe('a partitioned trigger in the status views', () => {
  let runtime: SagaRuntime;
  let watching: AdminServer;
  let notWatching: AdminServer;

  beforeAll(async () => {
    const logger = createLogger({ level: 'silent', pretty: false });
    const registry = new SagaRegistry([hotSaga]);
    runtime = await SagaRuntime.start({
      mongodbUrl: mongoUrl(),
      database: uniqueName('partitioned-status'),
      redisUrl: redisUrl(),
      queuePrefix: uniqueName('partitioned-status-q'),
      registry,
      logger,
      roles: ['watcher'],
      watcher: { leaseTtl: 2_000, standbyPollInterval: 100, maxAwaitTime: 100 },
    });
    watching = await startAdminServer({ host: '127.0.0.1', port: 0, backend: runtime, registry, logger });
    // The same databases, seen from a process that does not run the watcher role.
    const backend = {
      client: runtime.client,
      db: runtime.db,
      store: runtime.store,
      queues: runtime.queues,
      connections: runtime.connections,
      trigger: null,
    } as unknown as SagaRuntime;
    notWatching = await startAdminServer({ host: '127.0.0.1', port: 0, backend, registry, logger });
  });

  afterAll(async () => {
    await notWatching?.close();
    await watching?.close();
    await runtime?.stop();
  });

  async function readyWatchers(admin: AdminServer): Promise<WatcherReport[]> {
    const response = await fetch(`${admin.url}/readyz`);
    return ((await response.json()) as { watchers: WatcherReport[] }).watchers;
  }

  it('lists each partition with its state and lease holder', async () => {
    const holder = runtime.trigger!.holderId;
    await expect
      .poll(async () => (await readyWatchers(watching)).map(({ lagSeconds: _lag, ...rest }) => rest))
      .toEqual([
        { saga: 'hot', partition: '0/2', state: 'active', leaseHolder: holder },
        { saga: 'hot', partition: '1/2', state: 'active', leaseHolder: holder },
      ]);
    expect(await readyWatchers(notWatching)).toEqual([
      { saga: 'hot', partition: '0/2', state: 'not-here', leaseHolder: holder, lagSeconds: null },
      { saga: 'hot', partition: '1/2', state: 'not-here', leaseHolder: holder, lagSeconds: null },
    ]);
  });

  it('sagastream status prints one watcher line per partition', async () => {
    let stdout = '';
    const sink = (append: (text: string) => void) =>
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          append(chunk.toString('utf8'));
          callback();
        },
      });
    const code = await statusCommand.run([], {
      stdout: sink((text) => (stdout += text)),
      stderr: sink(() => undefined),
      env: { ADMIN_URL: watching.url },
    });
    expect(code).toBe(0);
    const holder = runtime.trigger!.holderId;
    expect(stdout).toMatch(new RegExp(`^hot#0/2\\s+active\\s+${holder}`, 'm'));
    expect(stdout).toMatch(new RegExp(`^hot#1/2\\s+active\\s+${holder}`, 'm'));
  });
});
