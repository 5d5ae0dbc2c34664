import {
  checkQueueName,
  decodeJob,
  encodeBulk as encodeJobs,
  encodeNewJob,
  FlumePayloadError,
  type EncodedJob,
  type Job,
  type NewJob,
} from '../engine/index.js';

// Test mode stores jobs through the engine's own checks (lib/engine/new-jobs.ts), so a
// call refused on Redis is refused here too; test/e2e/testing-mode.spec.ts compares them.

export { checkDueAt, checkQueueName as checkQueue, type EncodedJob } from '../engine/index.js';

/** Validates and encodes one job, as the Redis enqueuer does before its RPUSH. */
export function encodeOne(job: NewJob, maxBytes: number): EncodedJob {
  checkQueueName(job.queue);
  return encodeNewJob(job, Date.now(), maxBytes);
}

/** Validates and encodes the jobs of a bulk enqueue, all or none, as the Redis enqueuer does. */
export function encodeBulk(queue: string, jobs: NewJob[], maxBytes: number): EncodedJob[] {
  checkQueueName(queue);
  return encodeJobs(jobs, maxBytes);
}

/** The job back from its JSON: what a pipeline would hand the worker. */
export function decodeStored(payload: string): Job {
  const decoded = decodeJob(payload);
  // Cannot happen for a payload encodeNewJob wrote; kept loud in case the codec drifts.
  if (!decoded.ok) {
    throw new FlumePayloadError(`Test mode stored an unreadable job: ${decoded.reason}`);
  }
  return decoded.job;
}
