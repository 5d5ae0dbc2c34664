import type { Acker } from './acker.js';
import type { Instrumentation } from './instrumentation.js';
import { invokeHandler, invokeOne } from './invocation.js';
import { JobSignal } from './job-signal.js';
import { unixSeconds, type Job } from './job.js';
import type { QueueKeys } from './keys.js';
import type { Lease } from './lease.js';
import type { FlumeLogger } from './logger.js';
import type { ResolvedOptions } from './options.js';
import { decodeJob, encodeJob } from './payload.js';
import { decideAfterFailure, type BackoffOption } from './retry-policy.js';
import type { FlumeStore, Settlement } from './store.js';
import type { Handler, WorkerDefinition, WorkerRegistry } from './worker-registry.js';

/** Lines of a failure's stack kept in the job. */
const BACKTRACE_LINES = 20;
/** A job id as the engine writes them (UUIDs), safe to quote and to search for. */
const JID = /^[0-9A-Za-z-]{1,64}$/;

export interface JobRunnerDeps {
  pipeline: string;
  queue: string;
  keys: QueueKeys;
  store: FlumeStore;
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
  lease: Lease;
  job: Job;
  worker: WorkerDefinition;
  handler: Handler;
  /** Set while the job runs; aborted on timeout or hand-back. */
  signal: JobSignal;
}

export type Preparation = { ok: true; ready: ReadyJob } | { ok: false; settled: Promise<void> };

/** Told when a job started with `start` is settled (or handed back); `err` is unexpected. */
export type OnSettled = (leaseId: string, err?: unknown) => void;

/** Who a failed attempt belongs to: a worker of this process, or a name no worker here has. */
interface Attempt {
  lease: Lease;
  job: Job;
  workerName: string;
  maxRetries: number;
  /** The worker's own backoff, if any. */
  backoff?: BackoffOption;
  /** Set for jobs that ran: events carry their timing. */
  ready?: ReadyJob;
}

/**
 * Runs leased jobs through their workers and settles them: acknowledged on
 * success, filed for retry or dead on failure. A payload that cannot run (not a
 * job, no such method) is set aside in the dead set with the reason; a job naming
 * a worker this process does not have is retried with backoff (another instance,
 * or the next deploy, may have it). Nothing from Redis is ever evaluated, and
 * nothing a job contains can throw out of here.
 */
export class JobRunner {
  private readonly running = new Map<string, JobSignal>();
  /** Leases handed back while their job ran (shutdown): not failures, not settled here. */
  private readonly handedBack = new Set<string>();

  constructor(private readonly deps: JobRunnerDeps) {}

  /** Decodes a lease and finds its worker; a job that cannot run is settled instead. */
  prepare(lease: Lease): Preparation {
    try {
      return this.resolve(lease);
    } catch (err) {
      // Whatever the payload held: set it aside verbatim, with what went wrong.
      const reason = `the job could not be read (${(err as Error).message})`;
      return { ok: false, settled: this.setAside(lease, reason) };
    }
  }

  private resolve(lease: Lease): Preparation {
    const { queue, registry, options } = this.deps;
    const decoded = decodeJob(lease.payload);
    if (!decoded.ok) return { ok: false, settled: this.setAside(lease, decoded.reason) };
    const job = decoded.job;
    const resolved = registry.resolve(queue, job.class, job.function);
    if (resolved.ok) {
      const signal = new JobSignal();
      return {
        ok: true,
        ready: { lease, job, worker: resolved.worker, handler: resolved.handler, signal },
      };
    }
    if (resolved.retryable) {
      // A rolling deploy: the new code's jobs reach an instance that runs the old code.
      const attempt = { lease, job, workerName: job.class, maxRetries: options.maxRetries };
      return { ok: false, settled: this.fail(attempt, new Error(resolved.reason), Date.now()) };
    }
    return { ok: false, settled: this.bury(lease, job, resolved.reason) };
  }

  /** Aborts the signal of running jobs: they are being handed back, not failing. */
  handBack(leaseIds: Iterable<string>, reason: Error): void {
    for (const id of leaseIds) {
      const signal = this.running.get(id);
      if (!signal) continue;
      this.handedBack.add(id);
      signal.abort(reason);
    }
  }

  /**
   * Runs one job (not a batch worker's) and settles it, then calls `onSettled`. Never
   * throws. The hot path: no promise of its own for a handler that returns a value,
   * one `then` for one that returns a promise.
   */
  start(ready: ReadyJob, onSettled: OnSettled): void {
    if (this.deps.options.wrapRun) {
      // An integration runs each call inside its own context (a tracing span): the
      // general path, which hands the call to the wrapper.
      const id = ready.lease.id;
      this.runGroup([ready], false).then(
        () => onSettled(id),
        (unexpected: unknown) => onSettled(id, unexpected),
      );
      return;
    }
    const started = Date.now();
    this.emitStart(ready, started);
    this.running.set(ready.lease.id, ready.signal);
    if (ready.job.unique?.until === 'started') this.releaseUnique(ready.job);
    let result: unknown;
    try {
      result = invokeOne(ready.worker, ready.handler, ready.job, ready.signal);
    } catch (err) {
      this.finish(ready, started, onSettled, true, err);
      return;
    }
    if (!isThenable(result)) {
      this.finish(ready, started, onSettled, false);
      return;
    }
    Promise.resolve(result).then(
      () => this.finish(ready, started, onSettled, false),
      (err: unknown) => this.finish(ready, started, onSettled, true, err),
    );
  }

  private finish(
    ready: ReadyJob,
    started: number,
    onSettled: OnSettled,
    failed: boolean,
    err?: unknown,
  ): void {
    const id = ready.lease.id;
    this.running.delete(id);
    if (this.handedBack.delete(id)) {
      this.reportHandedBack(ready, started);
      return onSettled(id);
    }
    if (!failed) {
      this.succeed(ready, started);
      return onSettled(id);
    }
    const attempt = {
      lease: ready.lease,
      job: ready.job,
      workerName: ready.worker.name,
      maxRetries: ready.worker.maxRetries ?? this.deps.options.maxRetries,
      backoff: ready.worker.backoff,
      ready,
    };
    this.fail(attempt, err, started).then(
      () => onSettled(id),
      (unexpected: unknown) => onSettled(id, unexpected),
    );
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
      this.running.set(ready.lease.id, ready.signal);
      if (ready.job.unique?.until === 'started') this.releaseUnique(ready.job);
    }
    const failures = await invokeHandler(
      worker,
      handler,
      group.map((ready) => ready.job),
      group.map((ready) => ready.signal),
      batch,
      this.deps.options.wrapRun,
    );
    for (const ready of group) this.running.delete(ready.lease.id);
    if (failures.size === 0 && this.handedBack.size === 0) {
      for (const ready of group) this.succeed(ready, started);
      return;
    }
    await Promise.all(
      group.map((ready, index) => {
        if (this.handedBack.delete(ready.lease.id)) return this.reportHandedBack(ready, started);
        if (!failures.has(index)) return this.succeed(ready, started);
        const attempt = {
          lease: ready.lease,
          job: ready.job,
          workerName: ready.worker.name,
          maxRetries: ready.worker.maxRetries ?? this.deps.options.maxRetries,
          backoff: ready.worker.backoff,
          ready,
        };
        return this.fail(attempt, failures.get(index), started);
      }),
    );
  }

  private succeed(ready: ReadyJob, started: number): void {
    this.deps.acker.ack(ready.lease.id);
    if (ready.job.unique?.until === 'finished') this.releaseUnique(ready.job);
    const { options, logger, instrumentation } = this.deps;
    if (options.debug) {
      logger.debug?.(
        `Job ${ready.job.jid} (${ready.worker.name}) succeeded in ${Date.now() - started} ms.`,
      );
    }
    instrumentation?.emit({
      type: 'job:success',
      runMs: Date.now() - started,
      ...this.eventBase(ready, started),
    });
  }

  /** A job still running at shutdown went back to the queue unchanged: say so, settle nothing. */
  private reportHandedBack(ready: ReadyJob, started: number): void {
    this.deps.logger.log(
      `Job ${ready.job.jid} (${ready.worker.name}) was handed back to queue "${this.deps.queue}" unfinished (the app is shutting down); it runs again, with no retry used up.`,
    );
    this.deps.instrumentation?.emit({
      type: 'job:handed-back',
      runMs: Date.now() - started,
      ...this.eventBase(ready, started),
    });
  }

  /** Files a failed attempt as the retry policy decides: for a retry, or in the dead set. */
  private async fail(attempt: Attempt, err: unknown, started: number): Promise<void> {
    const { options, logger, instrumentation } = this.deps;
    const { job, workerName, maxRetries, ready } = attempt;
    const error = err instanceof Error ? err : new Error(String(err));
    const failed: Job = {
      ...job,
      failed_at: unixSeconds(),
      error_message: error.message,
      error_backtrace: error.stack?.split('\n').slice(0, BACKTRACE_LINES).join('\n'),
    };
    const base = ready ? this.eventBase(ready, started) : undefined;
    if (base) {
      instrumentation?.emit({
        type: 'job:failure',
        runMs: Date.now() - started,
        error: error.message,
        ...base,
      });
    }
    const decision = decideAfterFailure({
      retryCount: job.retry_count,
      maxRetries,
      error,
      backoff: attempt.backoff,
      defaults: { initial: options.backoffInitial, max: options.backoffMax },
    });
    if (decision.kind === 'retry') {
      const { delayMs } = decision;
      failed.retry_count = decision.retryCount;
      logger.warn(
        `Job ${job.jid} (${workerName}) failed: ${error.message}. Retry ${failed.retry_count} of ${maxRetries} in ${delayMs} ms.`,
      );
      const filed = await this.settleDocument(attempt.lease, job, failed, (document) => ({
        kind: 'retry',
        delayMs,
        document,
      }));
      if (filed) {
        this.deps.onRetryScheduled(delayMs);
        if (base) {
          instrumentation?.emit({ type: 'job:retry', delayMs, error: error.message, ...base });
        }
      }
      return;
    }
    logger.error(`Job ${job.jid} (${workerName}) ${decision.reason}. Moved to the dead set.`);
    const filed = await this.settleDocument(attempt.lease, job, failed, (document) => ({
      kind: 'dead',
      document,
    }));
    if (filed) {
      this.releaseUnique(job);
      this.emitDead(job, decision.reason);
    }
  }

  /**
   * Lets an equal unique job be enqueued again. Not awaited: should it not reach Redis,
   * the lock expires with its ttl, and until then an equal enqueue returns this job's id.
   */
  private releaseUnique(job: Job): void {
    const lock = job.unique;
    if (!lock || typeof lock.key !== 'string') return;
    const { store, keys, logger, queue } = this.deps;
    store.releaseUnique(keys, lock.key, job.jid).catch((err: Error) => {
      logger.warn(
        `Could not release the unique lock of job ${job.jid} (queue "${queue}"): ${err.message}; it expires with its ttl.`,
      );
    });
  }

  /** Files a well-formed job that cannot run here (no such method) in the dead set. */
  private async bury(lease: Lease, job: Job, reason: string): Promise<void> {
    this.deps.logger.error(
      `A job in queue "${this.deps.queue}" cannot run: ${reason}. Moved to the dead set.`,
    );
    const buried = { ...job, error_message: reason, failed_at: unixSeconds() };
    const filed = await this.settleDocument(lease, job, buried, (document) => ({
      kind: 'dead',
      document,
    }));
    if (filed) {
      this.releaseUnique(job);
      this.emitDead(job, reason);
    }
  }

  /** Sets a payload that is not a runnable job aside in the dead set, verbatim, with `reason`. */
  private async setAside(lease: Lease, reason: string, job?: Job): Promise<void> {
    this.deps.logger.error(
      `A job in queue "${this.deps.queue}" cannot run: ${reason}. Set aside in the dead set.`,
    );
    const jid = typeof job?.jid === 'string' && JID.test(job.jid) ? job.jid : undefined;
    if (await this.settle(lease, { kind: 'aside', reason, jid })) this.emitDead(job, reason);
  }

  /**
   * Files `document` (the job with its new state) as `toSettlement` says. A job whose
   * document cannot be written (JSON.stringify overflows on deep nesting) is set aside
   * verbatim instead: nothing a job holds stops it from being settled.
   */
  private async settleDocument(
    lease: Lease,
    job: Job,
    document: Job,
    toSettlement: (document: string) => Settlement,
  ): Promise<boolean> {
    let encoded: string;
    try {
      encoded = encodeJob(document);
    } catch (err) {
      const reason = `${document.error_message} (and the job could not be written back: ${(err as Error).message})`;
      await this.setAside(lease, reason, job);
      return false;
    }
    return this.settle(lease, toSettlement(encoded));
  }

  /** Files the job; a Redis error leaves the lease to expire, so the job is not lost. */
  private async settle(lease: Lease, settlement: Settlement): Promise<boolean> {
    const { store, keys, queue, options, logger } = this.deps;
    try {
      return await store.settle(keys, queue, lease.id, settlement, {
        maxJobs: options.deadMaxJobs,
        maxAgeMs: options.deadMaxAge,
      });
    } catch (err) {
      logger.error(
        `Could not file a failed job of queue "${queue}" (${(err as Error).message}); ` +
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

  /** Reports a payload the take set aside (too large), as a dead job. */
  reportSetAside(reason: string): void {
    this.emitDead(undefined, reason);
  }

  /** Reports a job the recoverer buried (it kept losing its worker), as a dead job. */
  reportBuried(document: string, reason: string): void {
    if (!this.deps.instrumentation) return;
    const decoded = decodeJob(document);
    this.emitDead(decoded.ok ? decoded.job : undefined, reason);
  }

  private emitDead(job: Job | undefined, reason: string): void {
    this.deps.instrumentation?.emit({
      type: 'job:dead',
      pipeline: this.deps.pipeline,
      queue: this.deps.queue,
      worker: typeof job?.class === 'string' ? job.class : '',
      jobId: typeof job?.jid === 'string' ? job.jid : '',
      retryCount: typeof job?.retry_count === 'number' ? job.retry_count : 0,
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

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
