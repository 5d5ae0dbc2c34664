import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC compiles the specs so that emitDecoratorMetadata works: Nest's DI reads the
// constructor parameter types it emits.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/**/*.spec.ts', 'sample/**/*.spec.ts'],
    // Specs share one Redis; each uses its own namespace, but timing-sensitive
    // specs are steadier when files run one after another on a 2-core machine.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Compiles lib/ and the fault fixture app for the fault scenarios' child processes;
    // with FLUME_TEST_CLUSTER=1, starts a local Redis Cluster for the run (else a no-op).
    globalSetup: ['test/faults/global-setup.ts', 'test/support/cluster-global-setup.ts'],
  },
});
