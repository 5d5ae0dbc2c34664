/** Where the sample looks for Redis: REDIS_URL, as for the tests. Without one, it runs in memory. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Its own key prefix: on Redis, the sample deletes everything under it at start. */
export const NAMESPACE = 'flume-sample';

/** The queues the sample's pipelines consume. */
export const QUEUES = ['default', 'reports'] as const;

/** The demo gives up (and exits with code 1) if the workload is not settled by then. */
export const DEMO_TIMEOUT_MS = 60_000;

/** Injection token of the SampleStore the sample runs on (see sample-store.ts). */
export const SAMPLE_STORE = Symbol('SAMPLE_STORE');

/** Port of the sample's HTTP server, which serves the dashboard at /flume (loopback only). */
export const PORT = Number(process.env.SAMPLE_PORT ?? 3000);
