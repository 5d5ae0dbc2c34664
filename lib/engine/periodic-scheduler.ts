import { FlumeConfigError } from './errors/index.js';
import type { Instrumentation } from './instrumentation.js';
import { queueKeys } from './keys.js';
import type { FlumeLogger } from './logger.js';
import { encodeNewJob } from './payload.js';
import { latestTick, nextTick, type PeriodicJob } from './periodic.js';
import type { FlumeStore } from './store.js';

/** Longest single timer: long waits are re-armed, so a changed clock is noticed. */
const MAX_TIMER_MS = 60 * 60_000;
/** Pause before claiming a tick again after Redis failed. */
const RETRY_MS = 1_000;

/** What the inspector shows of a periodic job. */
export interface PeriodicStatus {
  name: string;
  queue: string;
  worker: string;
  method?: string;
  cron: string;
  tz: string;
  args: unknown[];
  /** Next tick by this process's clock; null when the pattern has no more. */
  nextRunAt: Date | null;
  /** Last tick claimed by any instance; null when none yet. */
  lastRunAt: Date | null;
  /** Paused for every instance: its ticks enqueue nothing. */
  paused: boolean;
}

/**
 * Enqueues periodic jobs on their ticks. Every instance that runs the queue's pipeline
 * arms a timer for each tick, and each tick is claimed in Redis (claim-tick-4.lua) by
 * its time: one instance enqueues it, whatever the number of instances or the skew of
 * their clocks, with no leader to elect.
 */
export class PeriodicScheduler {
  private readonly jobs = new Map<string, PeriodicJob>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly store: FlumeStore,
    private readonly namespace: string,
    private readonly maxPayloadBytes: number,
    private readonly logger: FlumeLogger,
    private readonly debug: boolean,
    private readonly instrumentation?: Instrumentation,
  ) {}

  /** Adds periodic jobs; throws on a name used twice. */
  define(jobs: readonly PeriodicJob[]): void {
    for (const job of jobs) {
      if (this.jobs.has(job.name)) {
        throw new FlumeConfigError(
          `Two periodic jobs are named "${job.name}": give one another name with { name: '...' }.`,
        );
      }
      this.jobs.set(job.name, job);
    }
  }

  /** Periodic job `name`; a FlumeConfigError naming the ones there are. */
  get(name: string): PeriodicJob {
    const job = this.jobs.get(name);
    if (job) return job;
    const known = [...this.jobs.keys()].map((n) => `"${n}"`).join(', ') || 'none';
    throw new FlumeConfigError(`No periodic job is named "${name}" (there are: ${known}).`);
  }

  /** Arms the ticks of the periodic jobs of `queues` (the queues this process runs). */
  start(queues: ReadonlySet<string>): void {
    const now = Date.now();
    for (const job of this.jobs.values()) {
      if (!queues.has(job.queue)) continue;
      if (job.missed === 'run-once') {
        const missed = latestTick(job, now);
        if (missed !== undefined) void this.fire(job, missed, true);
      }
      this.arm(job, now);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Every periodic job with its next and last tick. */
  async list(): Promise<PeriodicStatus[]> {
    const byQueue = new Map<string, PeriodicJob[]>();
    for (const job of this.jobs.values()) {
      byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
    }
    const listed: PeriodicStatus[] = [];
    for (const [queue, jobs] of byQueue) {
      const states = await this.store.periodicState(
        queueKeys(this.namespace, queue),
        jobs.map((job) => job.name),
      );
      jobs.forEach((job, i) => {
        const next = nextTick(job, Date.now());
        listed.push({
          name: job.name,
          queue: job.queue,
          worker: job.worker,
          method: job.method,
          cron: job.cron,
          tz: job.tz,
          args: job.args,
          nextRunAt: next === undefined ? null : new Date(next),
          lastRunAt: states[i].lastTick === undefined ? null : new Date(states[i].lastTick!),
          paused: states[i].paused,
        });
      });
    }
    return listed.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Pauses or resumes periodic job `job` for every instance. */
  async setPaused(job: PeriodicJob, paused: boolean): Promise<void> {
    await this.store.setPeriodicPaused(queueKeys(this.namespace, job.queue), job.name, paused);
  }

  private arm(job: PeriodicJob, after: number): void {
    if (this.stopped) return;
    const tick = nextTick(job, after);
    if (tick === undefined) return;
    const wait = tick - Date.now();
    const timer =
      wait > MAX_TIMER_MS
        ? setTimeout(() => this.arm(job, after), MAX_TIMER_MS)
        : setTimeout(() => void this.fire(job, tick, false), Math.max(0, wait));
    timer.unref();
    this.timers.set(job.name, timer);
  }

  /** Claims `tick` and enqueues its job (unless claimed elsewhere), then arms the next one. */
  private async fire(job: PeriodicJob, tick: number, catchUp: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      const encoded = encodeNewJob(
        {
          queue: job.queue,
          worker: job.worker,
          function: job.method,
          args: job.args,
          context: job.context,
          unique: job.unique,
        },
        Date.now(),
        this.maxPayloadBytes,
      );
      const { enqueued, waitMs } = await this.store.claimTick(
        queueKeys(this.namespace, job.queue),
        {
          name: job.name,
          tick,
          catchUp,
          jid: encoded.jid,
          payload: encoded.payload,
          unique: encoded.unique,
        },
      );
      if (waitMs > 0) {
        // This clock runs ahead of Redis': the tick is not due yet. Never early.
        this.retryLater(job, tick, catchUp, waitMs);
        return;
      }
      if (enqueued) this.reportEnqueued(job, encoded.payload, tick, catchUp);
    } catch (err) {
      this.logger.warn(
        `Periodic job "${job.name}": could not claim the tick of ${new Date(tick).toISOString()} (${(err as Error).message}); trying again.`,
      );
      // The latest tick by then: a long outage yields one late run, not one per tick.
      this.retryLater(job, tick, catchUp, RETRY_MS, true);
      return;
    }
    if (!catchUp) this.arm(job, tick);
  }

  private retryLater(
    job: PeriodicJob,
    tick: number,
    catchUp: boolean,
    waitMs: number,
    latest = false,
  ): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      const due = latest ? Math.max(tick, latestTick(job, Date.now()) ?? tick) : tick;
      void this.fire(job, due, catchUp);
    }, waitMs);
    timer.unref();
    if (!catchUp) this.timers.set(job.name, timer);
  }

  private reportEnqueued(job: PeriodicJob, payload: string, tick: number, catchUp: boolean): void {
    if (this.debug)
      this.logger.debug?.(
        `Periodic job "${job.name}" enqueued for its tick of ${new Date(tick).toISOString()}${catchUp ? ' (missed while every instance was down)' : ''}.`,
      );
    this.instrumentation?.emit({
      type: 'enqueue',
      queue: job.queue,
      count: 1,
      payloadBytes: Buffer.byteLength(payload),
    });
  }
}
