import { Acker } from './acker.js';
import { Batcher } from './batcher.js';
import type { RedisClient } from './connection.js';
import { FlumeError } from './errors/index.js';
import type { Instrumentation } from './instrumentation.js';
import { JobRunner, type ReadyJob } from './job-runner.js';
import { queueKeys, rateLimitKey, type QueueKeys } from './keys.js';
import type { FlumeLogger } from './logger.js';
import { LeaseKeeper, Recoverer, Scheduler } from './maintenance.js';
import type { ResolvedOptions, ResolvedPipeline } from './options.js';
import type { PausedPipelines } from './paused-pipelines.js';
import { RateLimiter } from './rate-limiter.js';
import { JobTaker, type TakeOutcome } from './job-taker.js';
import type { Scripts } from './scripts.js';
import { delay, resolvesWithin, Signal, untilReady } from './wait.js';
import type { BatchOptions, WorkerDefinition, WorkerRegistry } from './worker-registry.js';

/** The payload's last field once a job was recovered (see recover-3.lua). */
const RECOVERED_TAIL = ',"recoveries":';

/** True when the job of `lease` was handed back after its worker stopped mid-job. */
export function wasRecovered(lease: string): boolean {
  // The field is the payload's last: look at the end only, not through the whole
  // payload, and only at `,"recoveries":<digits>}` closing it (a context object that
  // happens to hold such a key ends in "}}").
  const at = lease.indexOf(RECOVERED_TAIL, lease.length - RECOVERED_TAIL.length - 16);
  if (at === -1) return false;
  return /^\d+}$/.test(lease.slice(at + RECOVERED_TAIL.length));
}

/** Longest a blocked wait for new jobs lasts before it is issued again (seconds). */
const IDLE_BLOCK_SECONDS = 5;

export interface PipelineRunnerDeps {
  /** The connection of the pipeline's own commands (the process's worker connection). */
  command: RedisClient;
  /** A connection of the pipeline's own for BLMOVE (on a Cluster, a client of its own). */
  createBlocking: () => RedisClient;
  scripts: Scripts;
  registry: WorkerRegistry;
  options: ResolvedOptions;
  paused: PausedPipelines;
  instrumentation: Instrumentation;
  logger: FlumeLogger;
}

/**
 * The dequeue loop of one pipeline: takes as many jobs as it has free slots (never
 * more, and never more than the rate limit allows), runs them, and when the queue
 * is empty blocks on Redis until a job arrives instead of polling.
 */
export class PipelineRunner {
  readonly name: string;
  readonly queue: string;
  readonly maxDemand: number;
  readonly keys: QueueKeys;

  private readonly running = new Set<string>();
  /** Rings on everything the loop may wait for: a free slot, a resume, stop. */
  private readonly wake = new Signal();
  private readonly stopping = new AbortController();
  private readonly acker: Acker;
  private readonly jobs: JobRunner;
  private readonly batcher: Batcher;
  private readonly scheduler: Scheduler;
  private readonly recoverer: Recoverer;
  private readonly leaseKeeper: LeaseKeeper;
  private readonly taker: JobTaker;
  private readonly instrumentation?: Instrumentation;
  private blocking?: RedisClient;
  private pausedHere = false;
  /** A recovered job running alone (see isolateSuspect). */
  private suspect?: string;
  private taking?: Promise<unknown>;
  private loop?: Promise<void>;
  private stopped?: Promise<void>;

  constructor(
    private readonly pipeline: ResolvedPipeline,
    private readonly deps: PipelineRunnerDeps,
  ) {
    const { options, scripts, logger } = deps;
    this.name = pipeline.name;
    this.queue = pipeline.queue;
    this.maxDemand = pipeline.maxDemand;
    this.keys = queueKeys(options.namespace, pipeline.queue);
    this.instrumentation = pipeline.instrument ? deps.instrumentation : undefined;
    const limit = pipeline.rateLimit;
    this.taker = new JobTaker({
      pipeline: this.name,
      queue: this.queue,
      keys: this.keys,
      scripts,
      leaseMs: options.visibilityTimeout,
      limiter:
        limit &&
        new RateLimiter(
          scripts,
          rateLimitKey(options.namespace, limit.key),
          limit.count,
          limit.scaleMs,
        ),
      instrumentation: this.instrumentation,
    });
    this.acker = new Acker(deps.command, this.keys.processing, logger);
    this.scheduler = new Scheduler(scripts, this.keys, options.schedulerPollInterval, logger);
    this.recoverer = new Recoverer(
      scripts,
      this.keys,
      Math.min(Math.max(options.visibilityTimeout / 4, 250), 5_000),
      options.maxRecoveries,
      { maxJobs: options.deadMaxJobs, maxAgeMs: options.deadMaxAge },
      logger,
      (payload, reason) => this.jobs.reportBuried(payload, reason),
    );
    this.leaseKeeper = new LeaseKeeper(
      scripts,
      this.keys,
      options.visibilityTimeout,
      () => [...this.running],
      logger,
    );
    this.jobs = new JobRunner({
      pipeline: this.name,
      queue: this.queue,
      keys: this.keys,
      scripts,
      registry: deps.registry,
      acker: this.acker,
      options,
      logger,
      instrumentation: this.instrumentation,
      onRetryScheduled: (delayMs) => this.scheduler.runWithin(delayMs),
    });
    this.batcher = new Batcher((batch) =>
      this.track(
        batch.map((ready) => ready.lease),
        this.jobs.runBatch(batch),
      ),
    );
    deps.paused.onChange(() => this.wake.notify());
  }

  /** Jobs of this pipeline running (or waiting for their batch) in this process now. */
  get pendingJobsCount(): number {
    return this.running.size;
  }

  /** True while this pipeline takes no new jobs, here or for every instance. */
  get isPaused(): boolean {
    return this.pausedHere || this.deps.paused.has(this.name);
  }

  start(): void {
    if (this.loop || this.stopping.signal.aborted) return;
    this.blocking = this.deps.createBlocking();
    this.loop = this.fetchLoop();
  }

  /** Stops taking jobs in this process; running jobs finish. */
  pause(): void {
    this.pausedHere = true;
    this.wake.notify();
  }

  /** Takes jobs again in this process (unless paused for every instance). */
  resume(): void {
    this.pausedHere = false;
    this.wake.notify();
  }

  /** Resolves once no take is in flight: a paused pipeline has then stopped taking jobs. */
  async untilNotTaking(): Promise<void> {
    while (this.taking) await this.taking.catch(() => undefined);
  }

  /**
   * Stops taking jobs, hands back jobs taken but not started, waits up to
   * `timeoutMs` for running jobs, then hands any still running back to the queue
   * unchanged (no retry used up). Idempotent.
   */
  stop(timeoutMs: number): Promise<void> {
    this.stopped ??= this.drain(timeoutMs);
    return this.stopped;
  }

  private async drain(timeoutMs: number): Promise<void> {
    this.stopping.abort();
    this.wake.notify();
    this.blocking?.disconnect();
    this.scheduler.stop();
    this.recoverer.stop();
    await this.loop;
    // A take cut off just before the stop: its jobs go back now, not at lease expiry.
    await this.taker.close().catch(() => undefined);

    const notStarted = this.batcher.takeAll().map((ready) => ready.lease);
    if (notStarted.length > 0) {
      await this.handBack(notStarted);
      for (const lease of notStarted) this.running.delete(lease);
    }
    const finished = await resolvesWithin(this.allFinished(), timeoutMs);
    if (!finished) {
      const unfinished = [...this.running];
      this.jobs.abort(
        unfinished,
        new FlumeError('The app is shutting down: the job was handed back.'),
      );
      const handedBack = await this.handBack(unfinished);
      this.deps.logger.warn(
        `Pipeline "${this.name}": ${handedBack} job(s) still running after ${timeoutMs} ms were handed back to queue "${this.queue}".`,
      );
    }
    await this.acker.drain();
    this.leaseKeeper.stop();
  }

  private async allFinished(): Promise<void> {
    while (this.running.size > 0) await this.wake.wait();
  }

  private async fetchLoop(): Promise<void> {
    const signal = this.stopping.signal;
    // Know the pauses stored in Redis before taking anything, and wait for the
    // pipeline's own connection (the worker connection) too.
    await this.deps.paused.loaded;
    await untilReady(this.deps.command, signal);
    // Started once Redis answered: a first run on a connection still connecting would
    // fail, warn, and put the next run (due jobs, expired leases) a whole period later.
    if (!signal.aborted) {
      this.scheduler.start();
      this.recoverer.start();
      this.leaseKeeper.start();
    }
    let failures = 0;
    while (!signal.aborted) {
      const free = this.maxDemand - this.running.size;
      if (this.isPaused || free <= 0 || this.suspect !== undefined) {
        await this.wake.wait();
        continue;
      }
      let outcome: TakeOutcome;
      try {
        this.taking = this.taker.take(free);
        outcome = (await this.taking) as TakeOutcome;
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        failures = await this.backOff(err, failures, this.deps.command);
        continue;
      } finally {
        this.taking = undefined;
      }
      if (outcome.kind === 'limited') {
        await this.taker.waitForPermits(outcome.waitMs, signal);
      } else if (signal.aborted) {
        await this.handBack(outcome.leases);
      } else if (outcome.leases.length === 0) {
        await this.waitForJobs(signal);
      } else {
        this.dispatch(outcome.leases);
      }
    }
  }

  private dispatch(taken: string[]): void {
    const leases = this.isolateSuspect(taken);
    for (const lease of leases) {
      this.running.add(lease);
      const prepared = this.jobs.prepare(lease);
      if (!prepared.ok) {
        this.track([lease], prepared.settled);
        continue;
      }
      const batch = this.batchOf(prepared.ready.worker);
      if (batch) this.batcher.add(prepared.ready, batch);
      else this.track([lease], this.jobs.run(prepared.ready));
    }
    this.batcher.settle();
  }

  /**
   * A job that lost its worker before (it carries "recoveries") may be what killed
   * it. It runs alone: the other jobs of the take go back to the queue, and nothing
   * more is taken here until it settles, so a job that crashes its process is
   * recovered (and in the end buried) on its own, without the jobs beside it.
   */
  private isolateSuspect(leases: string[]): string[] {
    const suspect = leases.find(wasRecovered);
    if (suspect === undefined) return leases;
    this.suspect = suspect;
    const others = leases.filter((lease) => lease !== suspect);
    if (others.length > 0) {
      for (const lease of others) this.running.add(lease);
      this.track(
        others,
        this.handBack(others).then(() => undefined),
      );
    }
    return [suspect];
  }

  private batchOf(worker: WorkerDefinition): BatchOptions | undefined {
    if (worker.batch) return worker.batch;
    return this.pipeline.batchSize ? { size: this.pipeline.batchSize, timeout: 0 } : undefined;
  }

  /** Frees the slots of `leases` once `work` is done. */
  private track(leases: string[], work: Promise<void>): void {
    work
      .catch((err: Error) =>
        this.deps.logger.error(
          `Pipeline "${this.name}": unexpected error settling a job: ${err.message}`,
          err.stack,
        ),
      )
      .finally(() => {
        for (const lease of leases) this.running.delete(lease);
        if (this.suspect !== undefined && leases.includes(this.suspect)) this.suspect = undefined;
        this.wake.notify();
      });
  }

  /** Blocks until the queue has a job, without taking it: BLMOVE onto the same end of the same list. */
  private async waitForJobs(signal: AbortSignal): Promise<void> {
    const blocking = this.blocking!;
    try {
      await blocking.blmove(
        this.keys.waiting,
        this.keys.waiting,
        'LEFT',
        'LEFT',
        IDLE_BLOCK_SECONDS,
      );
    } catch (err) {
      if (!signal.aborted) await this.backOff(err, 0, blocking);
    }
  }

  /** Hands leased jobs back to the queue unchanged; resolves to how many went back. */
  private async handBack(leases: string[]): Promise<number> {
    try {
      return await this.deps.scripts.requeue(this.keys, leases);
    } catch (err) {
      this.deps.logger.error(
        `Pipeline "${this.name}": could not hand back ${leases.length} job(s) (${(err as Error).message}); ` +
          'they return to the queue when their lease expires.',
      );
      return 0;
    }
  }

  /** After a failed Redis call: wait for the connection to be ready, then a growing pause. */
  private async backOff(err: unknown, failures: number, redis: RedisClient): Promise<number> {
    if (failures === 0 && redis.status === 'ready') {
      this.deps.logger.warn(`Pipeline "${this.name}": ${(err as Error).message}`);
    }
    await untilReady(redis, this.stopping.signal);
    await delay(Math.min(50 * 2 ** failures, 2_000), this.stopping.signal);
    return failures + 1;
  }
}
