// Services given to steps: built by `setup` once connected, and ready before the first job of the process runs.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SagaRegistry, defineSaga } from '../../../src/index.js';
import { mongoAndCleanups } from '../helpers.js';
import { engineTest } from './engine-test-kit.js';

interface Ledger {
  record(entry: string): Promise<void>;
}

const { mongo, onCleanup } = mongoAndCleanups();

const booking = defineSaga({
  name: 'booking',
  trigger: { collection: 'bookings' },
  input: z.object({ guest: z.string() }),
  services: {} as { ledger: Ledger },
})
  .step({
    name: 'reserve',
    run: async (ctx) => {
      await ctx.services.ledger.record(`reserve ${ctx.input.guest}`);
      return { reserved: true };
    },
    compensate: async (ctx) => ctx.services.ledger.record(`release ${ctx.input.guest}`),
  })
  .step({
    name: 'confirm',
    run: async (ctx) => {
      if (ctx.input.guest === 'unlucky') throw new Error('no rooms left');
      await ctx.services.ledger.record(`confirm ${ctx.input.guest}`);
      return {};
    },
    retry: { attempts: 1 },
  })
  .build();

describe('services', () => {
  it('builds them with setup before any queued job runs, and gives them to runs and compensations', async () => {
    const test = engineTest(mongo(), 'services');
    onCleanup(() => test.stop());
    const registry = new SagaRegistry([booking]);
    const client = await test.client(registry);
    // Queued before any worker exists: the worker's first job must still find the services.
    const lucky = await client.start('booking', { guest: 'ada' });
    const unlucky = await client.start('booking', { guest: 'unlucky' });

    const entries: string[] = [];
    await test.start({
      registry,
      roles: ['worker'],
      setup: async ({ db }) => {
        // A setup that takes a while (connecting a client): a worker started first would run jobs meanwhile.
        await db.command({ ping: 1 });
        await new Promise((resolve) => setTimeout(resolve, 300));
        entries.push('setup');
        return { ledger: { record: (entry: string) => Promise.resolve(void entries.push(entry)) } };
      },
    });

    expect((await lucky.result({ timeout: '30s' })).status).toBe('completed');
    expect((await unlucky.result({ timeout: '30s' })).status).toBe('compensated');
    expect(entries[0]).toBe('setup');
    expect(entries.filter((entry) => entry.endsWith('ada'))).toEqual(['reserve ada', 'confirm ada']);
    expect(entries.filter((entry) => entry.endsWith('unlucky'))).toEqual([
      'reserve unlucky',
      'release unlucky',
    ]);
  });

  it('starts nothing when setup throws, and rejects with its error', async () => {
    const test = engineTest(mongo(), 'services-fail');
    onCleanup(() => test.stop());
    const started = test.start({
      registry: new SagaRegistry([booking]),
      roles: ['worker'],
      setup: () => {
        throw new Error('ledger unreachable');
      },
    });
    await expect(started).rejects.toThrow('ledger unreachable');
  });
});
