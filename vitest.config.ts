import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/**
 * The behavioural specs, run once per store: against Redis with the rest of the suite,
 * then against the memory store (FLUME_TEST_STORE=memory, see test/support/redis.ts
 * `testConnection` and test/support/store.ts), so that the two cannot drift apart.
 */
const BEHAVIOUR = ['test/e2e/behaviour/**/*.spec.ts'];

// SWC compiles the specs so that emitDecoratorMetadata works: Nest's DI reads the
// constructor parameter types it emits.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    // Specs share one Redis; each uses its own namespace, but timing-sensitive
    // specs are steadier when files run one after another on a 2-core machine.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'redis',
          include: ['test/**/*.spec.ts', 'sample/**/*.spec.ts'],
          // Compiles lib/ and the fault fixture app for the fault scenarios' child processes;
          // with FLUME_TEST_CLUSTER=1, starts a local Redis Cluster for the run (else a no-op).
          globalSetup: ['test/faults/global-setup.ts', 'test/support/cluster-global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'memory',
          include: BEHAVIOUR,
          env: { FLUME_TEST_STORE: 'memory' },
          // After the Redis run, not beside it: one file at a time on the whole machine.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
