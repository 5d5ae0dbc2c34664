import type { Acker } from './acker.js';
import { backoffDelay } from './backoff.js';
import type { Instrumentation } from './instrumentation.js';
import { invokeHandler } from './invocation.js';
import { JobSignal } from './job-signal.js';
import { unixSeconds, type Job } from './job.js';
import type { QueueKeys } from './keys.js';
import type { FlumeLogger } from './logger.js';
import type { ResolvedOptions } from './options.js';
import { decodeJob, encodeJob, encodeUnreadable } from './payload.js';
import type { Scripts, Settlement } from './scripts.js';
import type { Handler, WorkerDefinition, WorkerRegistry } from './worker-registry.js';

/** Lines of a failure's stack kept in the job. */
const BACKTRACE_LINES = 20;

export interface JobRunnerDeps {
  pipeline: string;
  queue: string;
  keys: QueueKeys;
  scripts: Scripts;
  registry: WorkerRegistry;
  acker: Acker;
  options: ResolvedOptions;
  logger: FlumeLogger;
  /** Set when the pipeline publishes events. */
  instrumentation?: Instrumentation;
  /** Told the delay of each retry filed, so the scheduler can wake in time for it. */
  onRetryScheduled(delayMs: number): void;
}

/** A leased job, decoded and matched to its worker, ready to run. */
export interface ReadyJob {
  lease: string;
  job: Job;
  worker: WorkerDefinition;
  handler: Handler;
  /** Set while the job runs; aborted on timeout or hand-back. */
  signal: JobSignal;
}

export type Preparation = { ok: true; ready: ReadyJob } | { ok: false; settled: Promise<void> };

/**
 * Runs leased jobs through their workers and settles them: acknowledged on
 * success, filed for retry or dead on failure. A payload that cannot run (not
 * JSON, no such worker or method) goes to the dead set with the reason; nothing
 * from Redis is ever evaluated.
 */
export class JobRunner {
  private readonly running = new Map<string, JobSignal>();

  constructor(private readonly deps: JobRunnerDeps) {}

  /** Decodes a lease and finds its worker; an unrunnable job is buried instead. */
  prepare(lease: string): Preparation {
    const { queue, registry } = this.deps;
    const payload = lease.slice(lease.indexOf('|') + 1);
    const decoded = decodeJob(payload);
    if (!decoded.ok) {
      const settled = this.bury(
        lease,
        encodeUnreadable(queue, payload, decoded.reason),
        decoded.reason,
      );
      return { ok: false, settled };
    }
    const job = decoded.job;
    const resolved = registry.resolve(queue, job.class, job.function);
    if (!resolved.ok) {
      const buried = { ...job, error_message: resolved.reason, failed_at: unixSeconds() };
      return { ok: false, settled: this.bury(lease, encodeJob(buried), resolved.reason, job) };
    }
    const signal = new JobSignal();
    return {
      ok: true,
      ready: { lease, job, worker: resolved.worker, handler: resolved.handler, signal },
    };
  }

  /** Aborts the signal of running jobs (they are being handed back). */
  abort(leases: Iterable<string>, reason: Error): void {
    for (const lease of leases) this.running.get(lease)?.abort(reason);
  }

  /** Runs one job and settles it. Never rejects. */
  run(ready: ReadyJob): Promise<void> {
    return this.runGroup([ready], false);
  }

  /**
   * Runs jobs of one batch worker in one handler call. A FlumeBatchError names the
   * items that failed; any other error fails every item. Never rejects.
   */
  runBatch(batch: ReadyJob[]): Promise<void> {
    return this.runGroup(batch, true);
  }

  private async runGroup(group: ReadyJob[], batch: boolean): Promise<void> {
    const started = Date.now();
    const { worker, handler } = group[0];
    for (const ready of group) {
      this.emitStart(ready, started);
      this.running.set(ready.lease, ready.signal);
    }
    const failures = await invokeHandler(
      worker,
      handler,
      group.map((ready) => ready.job),
      group.map((ready) => ready.signal),
      batch,
    );
    for (const ready of group) this.running.delete(ready.lease);
    if (failures.size === 0) {
      for (const ready of group) this.succeed(ready, started);
      return;
    }
    await Promise.all(
      group.map((ready, index) =>
        failures.has(index)
          ? this.fail(ready, failures.get(index), started)
          : this.succeed(ready, started),
      ),
    );
  }

  private succeed(ready: ReadyJob, started: number): void {
    this.deps.acker.ack(ready.lease);
    const runMs = Date.now() - started;
    if (this.deps.options.debug) {
      this.deps.logger.debug?.(
        `Job ${ready.job.jid} (${ready.worker.name}) succeeded in ${runMs} ms.`,
      );
    }
    this.deps.instrumentation?.emit({
      type: 'job:success',
      runMs,
      ...this.eventBase(ready, started),
    });
  }

  private async fail(ready: ReadyJob, err: unknown, started: number): Promise<void> {
    const { options, logger, instrumentation } = this.deps;
    const { job, worker, lease } = ready;
    const maxRetries = worker.maxRetries ?? options.maxRetries;
    const error = err instanceof Error ? err : new Error(String(err));
    const failed: Job = {
      ...job,
      // It failed like any job, without taking its worker down: no longer a suspect.
      recoveries: undefined,
      failed_at: unixSeconds(),
      error_message: error.message,
      error_backtrace: error.stack?.split('\n').slice(0, BACKTRACE_LINES).join('\n'),
    };
    const base = this.eventBase(ready, started);
    instrumentation?.emit({
      type: 'job:failure',
      runMs: Date.now() - started,
      error: error.message,
      ...base,
    });
    if (job.retry_count < maxRetries) {
      const delayMs = backoffDelay(job.retry_count, {
        initial: options.backoffInitial,
        max: options.backoffMax,
      });
      failed.retry_count = job.retry_count + 1;
      logger.warn(
        `Job ${job.jid} (${worker.name}) failed: ${error.message}. Retry ${failed.retry_count} of ${maxRetries} in ${delayMs} ms.`,
      );
      if (await this.settle(lease, encodeJob(failed), { kind: 'retry', delayMs })) {
        this.deps.onRetryScheduled(delayMs);
        instrumentation?.emit({ type: 'job:retry', delayMs, error: error.message, ...base });
      }
      return;
    }
    const reason = `failed ${maxRetries + 1} time(s), out of retries: ${error.message}`;
    logger.error(`Job ${job.jid} (${worker.name}) ${reason}. Moved to the dead set.`);
    if (await this.settle(lease, encodeJob(failed), { kind: 'dead' })) {
      this.emitDead(job, reason);
    }
  }

  private async bury(lease: string, payload: string, reason: string, job?: Job): Promise<void> {
    this.deps.logger.error(
      `A job in queue "${this.deps.queue}" cannot run: ${reason}. Moved to the dead set.`,
    );
    if (await this.settle(lease, payload, { kind: 'dead' })) this.emitDead(job, reason);
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

  private emitStart(ready: ReadyJob, started: number): void {
    if (this.deps.options.debug) {
      this.deps.logger.debug?.(`Job ${ready.job.jid} (${ready.worker.name}) started.`);
    }
    this.deps.instrumentation?.emit({ type: 'job:start', ...this.eventBase(ready, started) });
  }

  /** Reports a job the recoverer buried (it kept losing its worker), as a dead job. */
  reportBuried(payload: string, reason: string): void {
    if (!this.deps.instrumentation) return;
    const decoded = decodeJob(payload);
    this.emitDead(decoded.ok ? decoded.job : undefined, reason);
  }

  private emitDead(job: Job | undefined, reason: string): void {
    this.deps.instrumentation?.emit({
      type: 'job:dead',
      pipeline: this.deps.pipeline,
      queue: this.deps.queue,
      worker: job?.class ?? '',
      jobId: job?.jid ?? '',
      retryCount: job?.retry_count ?? 0,
      reason,
    });
  }

  private eventBase(ready: ReadyJob, started: number) {
    return {
      pipeline: this.deps.pipeline,
      queue: this.deps.queue,
      worker: ready.worker.name,
      jobId: ready.job.jid,
      retryCount: ready.job.retry_count,
      waitMs: Math.max(0, started - ready.job.enqueued_at * 1000),
    };
  }
}
