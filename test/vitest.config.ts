// Two projects: `unit` (no servers, fast) and `integration` (real MongoDB and Redis from global-setup.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  test: {
    root,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'src/**/*.test.ts', 'sagas/**/*.test.ts'],
          testTimeout: 10_000,
          // Unit tests run first, with all workers; integration tests follow with their own worker limit.
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // Tests wait for outcomes with expect.poll (vi.waitFor in hooks); a slow machine gets 20 s by default.
          expect: { poll: { timeout: 20_000, interval: 50 } },
          // Tests share one MongoDB and one Redis (isolated by unique names) and start processes of their
          // own; two files at a time keeps a 2-core machine responsive without serialising everything.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
