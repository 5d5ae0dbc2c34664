/** Every default of the module's options, in one place. Durations in ms. */
export const DEFAULTS = {
  namespace: 'flume',
  maxDemand: 500,
  maxRetries: 5,
  backoffInitial: 500,
  backoffMax: 10_000,
  visibilityTimeout: 30_000,
  shutdownTimeout: 25_000,
  schedulerPollInterval: 1_000,
  commandTimeout: 5_000,
  deadMaxJobs: 10_000,
  deadMaxAge: 180 * 24 * 3600 * 1000,
  maxPayloadBytes: 1024 * 1024,
  maxRecoveries: 3,
} as const;
