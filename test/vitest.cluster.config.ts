// `npm run test:cluster`: the engine and admin integration tests again, on a local Redis Cluster (3 masters,
// 3 replicas) that global-setup.ts starts when SAGASTREAM_TEST_REDIS=cluster, and the cluster's own tests
// (test/cluster). Each queue of a test lives on the master of its hash slot, so a command that touched keys of two
// queues would fail with CROSSSLOT.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));
// Read by global-setup.ts, which runs in this process.
process.env.SAGASTREAM_TEST_REDIS = 'cluster';

export default defineConfig({
  test: {
    root,
    name: 'cluster',
    include: [
      'test/integration/engine/**/*.test.ts',
      'test/integration/admin/admin-api.test.ts',
      'test/integration/admin/admin-metrics.test.ts',
      'test/cluster/**/*.test.ts',
    ],
    globalSetup: ['test/integration/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 20_000, interval: 50 } },
    maxWorkers: 2,
  },
});
