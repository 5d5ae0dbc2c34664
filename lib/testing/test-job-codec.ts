import {
  decodeJob,
  encodeNewJob,
  FlumeError,
  FlumePayloadError,
  type Job,
  type NewJob,
} from '../engine/index.js';
import { keyNameProblem } from '../engine/keys.js';
import { describe } from '../engine/payload.js';

// The checks of the Redis enqueuer (lib/engine/enqueuer.ts), in the same order and with
// the same errors, so a call refused on Redis is refused in test mode too. The spec
// test/e2e/testing-mode.spec.ts compares both paths' errors.

export interface EncodedJob {
  jid: string;
  payload: string;
}

/** Validates and encodes one job, as `Enqueuer.enqueue` does before its RPUSH. */
export function encodeOne(job: NewJob, maxBytes: number): EncodedJob {
  checkQueue(job.queue);
  return encodeNewJob(job, Date.now(), maxBytes);
}

/** Validates a due time, as `Enqueuer.enqueueAt` does before anything else. */
export function checkDueAt(dueAt: number): void {
  if (!Number.isFinite(dueAt)) {
    throw new FlumePayloadError(
      `The time to run the job at must be a valid date, got: ${describe(dueAt)}`,
    );
  }
}

/** Validates and encodes the jobs of a bulk enqueue, all or none, as `Enqueuer.bulkEnqueue`. */
export function encodeBulk(queue: string, jobs: NewJob[], maxBytes: number): EncodedJob[] {
  checkQueue(queue);
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

/** Throws the enqueuer's error for a queue name Redis keys cannot carry. */
export function checkQueue(queue: string): void {
  const problem = keyNameProblem(queue);
  if (problem) {
    throw new FlumePayloadError(`Invalid queue name: ${problem}, got: ${describe(queue)}`);
  }
}

/** The job back from its JSON: what a pipeline would hand the worker. */
export function decodeStored(payload: string): Job {
  const decoded = decodeJob(payload);
  // Cannot happen for a payload encodeNewJob wrote; kept loud in case the codec drifts.
  if (!decoded.ok)
    throw new FlumePayloadError(`Test mode stored an unreadable job: ${decoded.reason}`);
  return decoded.job;
}
