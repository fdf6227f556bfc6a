// SagaRuntime.start's options: validated before anything connects, durations in the units users write.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SagaRegistry, defineSaga } from '../../../src/definition/index.js';
import { SagaRuntime } from '../../../src/runtime/saga-runtime.js';
import { sagaRuntimeOptionsSchema } from '../../../src/runtime/saga-runtime-options.js';

const registry = new SagaRegistry([
  defineSaga({ name: 'only', input: z.object({}) })
    .step({ name: 'a', run: () => Promise.resolve() })
    .build(),
]);
// Nothing listens here: a test that got past validation would hang on connecting, not pass.
const base = {
  mongodbUrl: 'mongodb://127.0.0.1:1/?replicaSet=rs0&serverSelectionTimeoutMS=100',
  redisUrl: 'redis://127.0.0.1:1',
  registry,
  logger: pino({ level: 'silent' }),
};

describe('SagaRuntime options', () => {
  it('fills defaults and turns durations into milliseconds', () => {
    const options = sagaRuntimeOptionsSchema.parse({
      ...base,
      roles: ['worker'],
      worker: { shutdownGrace: '45s', lockDuration: '1m' },
      sweeper: { interval: '5s' },
    });
    expect([...options.roles]).toEqual(['worker']);
    expect(options.database).toBe('sagastream');
    expect(options.queuePrefix).toBe('sagastream');
    expect(options.worker).toEqual({
      concurrency: 10,
      shutdownGrace: 45_000,
      lockDuration: 60_000,
      stepsPerJob: 32,
    });
    expect(options.sweeper).toEqual({
      interval: 5_000,
      leaseTtl: 15_000,
      batchSize: 1_000,
      stuckAfter: 3,
      idleBeforeRestore: 15_000,
    });
  });

  it('refuses options it cannot use before connecting, naming every problem', async () => {
    const started = SagaRuntime.start({
      ...base,
      // @ts-expect-error: roles is required
      roles: undefined,
      worker: { shutdownGrace: 'soon' as '1s', concurrency: 0 },
    });
    await expect(started).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(started).rejects.toThrow(/roles: .*worker\.concurrency: .*worker\.shutdownGrace: /);
    await expect(SagaRuntime.start({ ...base, roles: ['trigger' as 'watcher'] })).rejects.toThrow(
      /roles\.0: /,
    );
  });
});
