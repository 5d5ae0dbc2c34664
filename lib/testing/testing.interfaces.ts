import type { FlumeTestMode, Job } from '../engine/index.js';
import type { FlumeModuleOptions } from '../interfaces/flume-module-options.interface.js';

/** Options of `FlumeTestingModule.forRoot`: the mode, and any option of `FlumeModule.forRoot`. */
export interface FlumeTestingModuleOptions extends Omit<FlumeModuleOptions, 'testing'> {
  /**
   * `'memory'`: the pipelines run the jobs, on a store in memory (see `FlumeTesting.untilIdle`).
   * `'fake'`: jobs wait in memory for `FlumeTesting.drain()`. `'inline'`: each job runs at enqueue.
   */
  mode: FlumeTestMode;
}

/**
 * A job kept by the fake mode: the document Redis would store (see `Job`), decoded
 * from its JSON, plus when it is due if it was enqueued with `enqueueIn` / `enqueueAt`.
 */
export interface FlumeTestJob extends Job {
  /** When the job is due, Unix time in seconds (millisecond precision), like `enqueued_at`. */
  scheduled_at?: number;
}

/** Options of `FlumeTesting.drain`. */
export interface FlumeDrainOptions {
  /**
   * Also run the jobs scheduled for later (`enqueueIn` / `enqueueAt`) without waiting for
   * their time, once no job is ready, earliest due first. Default `true`: a drained queue
   * is empty. With `false`, only jobs that are due now run; the others stay.
   */
  withScheduled?: boolean;
  /**
   * Most jobs one drain runs before it rejects: a job that always enqueues another one
   * would otherwise make the drain endless. Default 10_000.
   */
  limit?: number;
}

/** A job that failed during a drain, and why. */
export interface FlumeDrainFailure {
  job: FlumeTestJob;
  /** What the handler threw, or a FlumeWorkerError when no worker of this app can run the job. */
  error: Error;
}

/** What a drain did, in the order the jobs ran. */
export interface FlumeDrainResult {
  /** Jobs whose handler completed. */
  performed: FlumeTestJob[];
  /** Jobs that failed; each ran once and is gone: a drain never retries. */
  failed: FlumeDrainFailure[];
}
