import type { Acker } from './acker.js';
import { backoffDelay } from './backoff.js';
import { unixSeconds, type Job } from './job.js';
import type { QueueKeys } from './keys.js';
import type { FlumeLogger } from './logger.js';
import { decodeJob, encodeJob, encodeUnreadable } from './payload.js';
import type { ResolvedOptions } from './options.js';
import type { Scripts, Settlement } from './scripts.js';
import type { WorkerRegistry } from './worker-registry.js';

/** Lines of a failure's stack kept in the job. */
const BACKTRACE_LINES = 20;

export interface JobRunnerDeps {
  queue: string;
  keys: QueueKeys;
  scripts: Scripts;
  registry: WorkerRegistry;
  acker: Acker;
  options: ResolvedOptions;
  logger: FlumeLogger;
  /** Told the delay of each retry filed, so the scheduler can wake in time for it. */
  onRetryScheduled(delayMs: number): void;
}

/**
 * Runs one leased job through its worker and settles it: acknowledged on success,
 * filed for retry or dead on failure. A payload that cannot run (not JSON, no such
 * worker or method) goes to the dead set with the reason; nothing is evaluated.
 */
export class JobRunner {
  constructor(private readonly deps: JobRunnerDeps) {}

  async run(lease: string): Promise<void> {
    const { queue, registry, acker } = this.deps;
    const payload = lease.slice(lease.indexOf('|') + 1);
    const decoded = decodeJob(payload);
    if (!decoded.ok) {
      return this.bury(lease, encodeUnreadable(queue, payload, decoded.reason), decoded.reason);
    }
    const job = decoded.job;
    const resolved = registry.resolve(queue, job.class, job.function);
    if (!resolved.ok) {
      const buried = { ...job, error_message: resolved.reason, failed_at: unixSeconds() };
      return this.bury(lease, encodeJob(buried), resolved.reason);
    }
    try {
      await resolved.handler(job.args);
    } catch (err) {
      return this.fail(lease, job, err, resolved.worker.maxRetries ?? this.deps.options.maxRetries);
    }
    acker.ack(lease);
  }

  private async fail(lease: string, job: Job, err: unknown, maxRetries: number): Promise<void> {
    const { options, logger } = this.deps;
    const error = err instanceof Error ? err : new Error(String(err));
    const failed: Job = {
      ...job,
      failed_at: unixSeconds(),
      error_message: error.message,
      error_backtrace: error.stack?.split('\n').slice(0, BACKTRACE_LINES).join('\n'),
    };
    if (job.retry_count < maxRetries) {
      const delayMs = backoffDelay(job.retry_count, {
        initial: options.backoffInitial,
        max: options.backoffMax,
      });
      failed.retry_count = job.retry_count + 1;
      logger.warn(
        `Job ${job.jid} (${job.class}) failed: ${error.message}. Retry ${failed.retry_count} of ${maxRetries} in ${delayMs} ms.`,
      );
      if (await this.settle(lease, encodeJob(failed), { kind: 'retry', delayMs })) {
        this.deps.onRetryScheduled(delayMs);
      }
      return;
    }
    logger.error(
      `Job ${job.jid} (${job.class}) failed: ${error.message}. Out of retries (${maxRetries}): moved to the dead set.`,
    );
    await this.settle(lease, encodeJob(failed), { kind: 'dead' });
  }

  private async bury(lease: string, payload: string, reason: string): Promise<void> {
    this.deps.logger.error(
      `A job in queue "${this.deps.queue}" cannot run: ${reason}. Moved to the dead set.`,
    );
    await this.settle(lease, payload, { kind: 'dead' });
  }

  /** Files the job; a Redis error leaves the lease to expire, so the job is not lost. */
  private async settle(lease: string, payload: string, settlement: Settlement): Promise<boolean> {
    const { scripts, keys, options, logger } = this.deps;
    try {
      return await scripts.settle(keys, lease, payload, settlement, {
        maxJobs: options.deadMaxJobs,
        maxAgeMs: options.deadMaxAge,
      });
    } catch (err) {
      logger.error(
        `Could not file a failed job of queue "${this.deps.queue}" (${(err as Error).message}); ` +
          'it will be handed out again when its lease expires.',
      );
      return false;
    }
  }
}
