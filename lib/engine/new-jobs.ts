import { FlumeError, FlumePayloadError } from './errors/index.js';
import { keyNameProblem, queueKeys, type QueueKeys } from './keys.js';
import { describe, encodeNewJob, type EncodedNewJob, type NewJob } from './payload.js';

// The checks every job sink makes before it stores anything, in one place, so that
// a call refused on Redis is refused the same way in test mode.

export type EncodedJob = EncodedNewJob;

/** The keys of `queue`; a FlumePayloadError for a name Redis keys cannot carry. */
export function keysOfQueue(namespace: string, queue: string): QueueKeys {
  checkQueueName(queue);
  return queueKeys(namespace, queue);
}

/** Throws a FlumePayloadError for a queue name Redis keys cannot carry. */
export function checkQueueName(queue: string): void {
  const problem = keyNameProblem(queue);
  if (problem) {
    throw new FlumePayloadError(`Invalid queue name: ${problem}, got: ${describe(queue)}`);
  }
}

/** Throws a FlumePayloadError unless `dueAt` (ms since the epoch) is a valid time. */
export function checkDueAt(dueAt: number): void {
  if (!Number.isFinite(dueAt)) {
    throw new FlumePayloadError(
      `The time to run the job at must be a valid date, got: ${describe(dueAt)}`,
    );
  }
}

/** Validates and encodes the jobs of a bulk enqueue, all or none, naming the bad one. */
export function encodeBulk(jobs: NewJob[], maxBytes: number): EncodedJob[] {
  return jobs.map((job, index) => {
    try {
      return encodeNewJob(job, Date.now(), maxBytes);
    } catch (err) {
      if (err instanceof FlumeError) {
        throw new FlumePayloadError(`Job ${index} of the bulk enqueue: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
  });
}
