import type { Redis } from 'ioredis';
import { Acker } from './acker.js';
import { JobRunner } from './job-runner.js';
import { queueKeys, type QueueKeys } from './keys.js';
import type { FlumeLogger } from './logger.js';
import { LeaseKeeper, Recoverer, Scheduler } from './maintenance.js';
import type { ResolvedOptions, ResolvedPipeline } from './options.js';
import type { Scripts } from './scripts.js';
import { delay, Signal, untilReady } from './wait.js';
import type { WorkerRegistry } from './worker-registry.js';

/** Longest a blocked wait for new jobs lasts before it is issued again (seconds). */
const IDLE_BLOCK_SECONDS = 5;

export interface PipelineRunnerDeps {
  command: Redis;
  blocking: Redis;
  scripts: Scripts;
  registry: WorkerRegistry;
  options: ResolvedOptions;
  logger: FlumeLogger;
}

/**
 * The dequeue loop of one pipeline: takes as many jobs as it has free slots (never
 * more), runs them, and when the queue is empty blocks on Redis until a job arrives
 * instead of polling.
 */
export class PipelineRunner {
  readonly name: string;
  readonly queue: string;
  readonly maxDemand: number;
  readonly keys: QueueKeys;

  private readonly running = new Set<string>();
  private readonly slotFreed = new Signal();
  private readonly stopping = new AbortController();
  private readonly acker: Acker;
  private readonly jobs: JobRunner;
  private readonly scheduler: Scheduler;
  private readonly recoverer: Recoverer;
  private readonly leaseKeeper: LeaseKeeper;
  private loop?: Promise<void>;
  private stopped?: Promise<void>;

  constructor(
    pipeline: ResolvedPipeline,
    private readonly deps: PipelineRunnerDeps,
  ) {
    const { options, scripts, logger } = deps;
    this.name = pipeline.name;
    this.queue = pipeline.queue;
    this.maxDemand = pipeline.maxDemand;
    this.keys = queueKeys(options.namespace, pipeline.queue);
    this.acker = new Acker(deps.command, this.keys.processing, logger);
    this.scheduler = new Scheduler(scripts, this.keys, options.schedulerPollInterval, logger);
    this.recoverer = new Recoverer(
      scripts,
      this.keys,
      Math.min(Math.max(options.visibilityTimeout / 4, 250), 5_000),
      logger,
    );
    this.leaseKeeper = new LeaseKeeper(
      scripts,
      this.keys,
      options.visibilityTimeout,
      () => [...this.running],
      logger,
    );
    this.jobs = new JobRunner({
      queue: this.queue,
      keys: this.keys,
      scripts,
      registry: deps.registry,
      acker: this.acker,
      options,
      logger,
      onRetryScheduled: (delayMs) => this.scheduler.runWithin(delayMs),
    });
  }

  /** Jobs of this pipeline running in this process now. */
  get pendingJobsCount(): number {
    return this.running.size;
  }

  start(): void {
    if (this.loop) return;
    this.scheduler.start();
    this.recoverer.start();
    this.leaseKeeper.start();
    this.loop = this.fetchLoop();
  }

  /**
   * Stops taking jobs, waits up to `timeoutMs` for running jobs, then hands any still
   * running back to the queue unchanged. Idempotent.
   */
  stop(timeoutMs: number): Promise<void> {
    this.stopped ??= this.drain(timeoutMs);
    return this.stopped;
  }

  private async drain(timeoutMs: number): Promise<void> {
    this.stopping.abort();
    this.slotFreed.notify();
    this.deps.blocking.disconnect();
    this.scheduler.stop();
    this.recoverer.stop();
    await this.loop;

    const finished = await Promise.race([
      this.allFinished().then(() => true),
      delay(timeoutMs).then(() => false),
    ]);
    if (!finished) {
      const unfinished = [...this.running];
      try {
        const handedBack = await this.deps.scripts.requeue(this.keys, unfinished);
        this.deps.logger.warn(
          `Pipeline "${this.name}": ${handedBack} job(s) still running after ${timeoutMs} ms were handed back to queue "${this.queue}".`,
        );
      } catch (err) {
        this.deps.logger.error(
          `Pipeline "${this.name}": could not hand back ${unfinished.length} running job(s) (${(err as Error).message}); ` +
            'they return to the queue when their lease expires.',
        );
      }
    }
    await this.acker.drain();
    this.leaseKeeper.stop();
  }

  private async allFinished(): Promise<void> {
    while (this.running.size > 0) await this.slotFreed.wait();
  }

  private async fetchLoop(): Promise<void> {
    const signal = this.stopping.signal;
    let failures = 0;
    while (!signal.aborted) {
      const free = this.maxDemand - this.running.size;
      if (free <= 0) {
        await this.slotFreed.wait();
        continue;
      }
      let leases: string[];
      try {
        leases = await this.deps.scripts.take(this.keys, free, this.deps.options.visibilityTimeout);
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        failures = await this.backOff(err, failures, this.deps.command);
        continue;
      }
      if (signal.aborted) {
        await this.handBack(leases);
        break;
      }
      if (leases.length === 0) {
        await this.waitForJobs(signal);
        continue;
      }
      for (const lease of leases) this.startJob(lease);
    }
  }

  /** Blocks until the queue has a job, without taking it: BLMOVE onto the same end of the same list. */
  private async waitForJobs(signal: AbortSignal): Promise<void> {
    try {
      await this.deps.blocking.blmove(
        this.keys.waiting,
        this.keys.waiting,
        'LEFT',
        'LEFT',
        IDLE_BLOCK_SECONDS,
      );
    } catch (err) {
      if (!signal.aborted) await this.backOff(err, 0, this.deps.blocking);
    }
  }

  private startJob(lease: string): void {
    this.running.add(lease);
    this.jobs
      .run(lease)
      .catch((err: Error) =>
        this.deps.logger.error(
          `Pipeline "${this.name}": unexpected error settling a job: ${err.message}`,
          err.stack,
        ),
      )
      .finally(() => {
        this.running.delete(lease);
        this.slotFreed.notify();
      });
  }

  private async handBack(leases: string[]): Promise<void> {
    try {
      await this.deps.scripts.requeue(this.keys, leases);
    } catch {
      // Their leases expire and the recoverer hands them back.
    }
  }

  /** After a failed Redis call: wait for the connection to be ready, then a growing pause. */
  private async backOff(err: unknown, failures: number, redis: Redis): Promise<number> {
    if (failures === 0 && redis.status === 'ready') {
      this.deps.logger.warn(`Pipeline "${this.name}": ${(err as Error).message}`);
    }
    await untilReady(redis, this.stopping.signal);
    await delay(Math.min(50 * 2 ** failures, 2_000), this.stopping.signal);
    return failures + 1;
  }
}
