import type { Registry } from 'prom-client';

/** Options of `FlumeMetricsModule.forRoot`. */
export interface FlumeMetricsOptions {
  /** The registry the metrics are registered in. Default: prom-client's global `register`. */
  registry?: Registry;
  /**
   * Queues whose job counts are reported (`flume_queue_jobs`), besides those of the
   * pipelines declared in `FlumeModule`. Default: none more.
   */
  queues?: string[];
  /**
   * How long counts read from Redis are reused, ms: scrapes within this time cost
   * Redis nothing. Default 1000.
   */
  cacheMs?: number;
  /** Buckets of `flume_job_run_duration_seconds`, in seconds. */
  runTimeBuckets?: number[];
  /** Buckets of `flume_job_wait_duration_seconds`, in seconds. */
  waitTimeBuckets?: number[];
}

export const METRICS_DEFAULTS = {
  cacheMs: 1_000,
  runTimeBuckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  waitTimeBuckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
} as const;

/** Injection token of the options of FlumeMetricsModule (internal). */
export const FLUME_METRICS_OPTIONS = Symbol('FLUME_METRICS_OPTIONS');
