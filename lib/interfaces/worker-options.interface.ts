import type { BackoffOption } from '../engine/index.js';

/** Options of `@Worker(queue, options)`. */
export interface WorkerOptions {
  /** Name jobs carry to find this worker. Default: the class name. Must be unique. */
  name?: string;
  /** Method that runs a job when the job names none. Default `'perform'`. */
  method?: string;
  /** Overrides the module's `maxRetries` for this worker's jobs. */
  maxRetries?: number;
  /**
   * Delay before each retry of this worker's jobs: `{ initial, max }` (ms) bounds the
   * exponential curve (the module's `backoffInitial` / `backoffMax` fill what is left
   * out), or a function `(attempt, error) => ms` (attempt 1 is the first retry; a function
   * that throws or returns no valid delay falls back to the curve). A handler that throws
   * `FlumeUnrecoverableError` is not retried at all.
   */
  backoff?: BackoffOption;
  /**
   * Longest run of one job (or one batch), ms. Past it the job fails with a
   * FlumeTimeoutError (and is retried like any failure) and its `signal` aborts.
   */
  timeout?: number;
}

/** Options of `@Batch`. */
export interface BatchWorkerOptions {
  /** Most jobs per handler call. */
  size: number;
  /** Longest wait (ms) for a partial batch to fill. Default 0: hand over what a take brought. */
  timeout?: number;
}

/** What @Worker stores on the class. */
export interface WorkerMetadata {
  queue: string;
  name: string;
  method: string;
  maxRetries?: number;
  backoff?: BackoffOption;
  timeout?: number;
}
