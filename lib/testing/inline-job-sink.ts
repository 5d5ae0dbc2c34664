import type { JobSink, NewJob, ResolvedOptions } from '../engine/index.js';
import { asError, type JobPerformer } from './job-performer.js';
import {
  checkDueAt,
  checkQueue,
  decodeStored,
  encodeBulk,
  encodeOne,
  type EncodedJob,
} from './test-job-codec.js';

/**
 * The job sink of the inline mode: each job is encoded as for Redis, decoded back, and
 * run through its worker before the enqueue resolves. Nothing touches Redis.
 *
 * - The enqueue rejects with what the handler threw: a test sees the failure where the
 *   job was enqueued (on Redis the caller would not, and the job would be retried).
 * - One attempt, no retry; `enqueueIn` / `enqueueAt` run the job at once, without
 *   waiting; a batch worker gets batches of one job.
 * - A job no worker of this app can run rejects with a FlumeWorkerError.
 */
export class InlineJobSink implements JobSink {
  constructor(
    private readonly performer: JobPerformer,
    private readonly options: Pick<ResolvedOptions, 'maxPayloadBytes'>,
  ) {}

  async enqueue(job: NewJob): Promise<string> {
    const encoded = encodeOne(job, this.options.maxPayloadBytes);
    await this.perform(encoded);
    return encoded.jid;
  }

  async enqueueAt(job: NewJob, dueAt: number): Promise<string> {
    checkDueAt(dueAt);
    const encoded = encodeOne(job, this.options.maxPayloadBytes);
    await this.perform(encoded);
    return encoded.jid;
  }

  /**
   * Runs every job, in order, even after one fails (they were all enqueued), then
   * rejects with the failure, or an AggregateError when several failed.
   */
  async bulkEnqueue(queue: string, jobs: NewJob[]): Promise<string[]> {
    const encoded = encodeBulk(queue, jobs, this.options.maxPayloadBytes);
    const errors: Error[] = [];
    for (const job of encoded) {
      try {
        await this.perform(job);
      } catch (err) {
        errors.push(asError(err));
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new AggregateError(errors, `${errors.length} of ${encoded.length} jobs failed`);
    }
    return encoded.map((job) => job.jid);
  }

  /** Nothing ever waits in inline mode. */
  async jobCounts(queues: readonly string[]): Promise<Record<string, number>> {
    queues.forEach((queue) => checkQueue(queue));
    return Object.fromEntries(queues.map((queue) => [queue, 0]));
  }

  private perform({ payload }: EncodedJob): Promise<void> {
    return this.performer.performOne(decodeStored(payload));
  }
}
