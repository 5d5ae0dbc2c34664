import type { NewJob } from './payload.js';

/**
 * Where new jobs go. The Redis enqueuer is the real one; the test mode swaps in
 * sinks that keep jobs in memory or run them at once.
 */
export interface JobSink {
  /** Stores a job to run now; resolves to its id. */
  enqueue(job: NewJob): Promise<string>;
  /** Stores a job to run at `dueAt` (ms since the epoch); resolves to its id. */
  enqueueAt(job: NewJob, dueAt: number): Promise<string>;
  /** Stores many jobs of one queue, all or none; resolves to their ids in order. */
  bulkEnqueue(queue: string, jobs: NewJob[]): Promise<string[]>;
  /** Waiting jobs of each queue. */
  jobCounts(queues: readonly string[]): Promise<Record<string, number>>;
}
