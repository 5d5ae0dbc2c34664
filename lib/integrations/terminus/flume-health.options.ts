/** Options of `FlumeHealthIndicator.isHealthy`. */
export interface FlumeHealthCheckOptions {
  /** Longest wait for Redis to answer a PING, ms. Default 1000. */
  timeout?: number;
  /** Down when a checked queue has more jobs waiting than this. Default: no limit. */
  maxWaiting?: number;
  /** Down when a checked queue has more dead jobs than this. Default: no limit. */
  maxDead?: number;
  /**
   * Queues `maxWaiting` and `maxDead` apply to. Default: those of the pipelines
   * declared in `FlumeModule`.
   */
  queues?: string[];
}

export const HEALTH_DEFAULTS = { timeout: 1_000 } as const;
