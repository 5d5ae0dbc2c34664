import { Acker } from './acker.js';
import { Batcher } from './batcher.js';
import { FlumeError } from './errors/index.js';
import type { Instrumentation } from './instrumentation.js';
import { JobRunner, type ReadyJob } from './job-runner.js';
import { queueKeys, rateLimitKey, type QueueKeys } from './keys.js';
import type { Lease, TakeReply } from './lease.js';
import type { FlumeLogger } from './logger.js';
import { LeaseKeeper, Recoverer, recoverySweepMs, Scheduler } from './maintenance.js';
import type { ResolvedOptions, ResolvedPipeline } from './options.js';
import type { PausedPipelines } from './paused-pipelines.js';
import { RateLimiter, startMargin } from './rate-limiter.js';
import { JobTaker, type TakeOutcome } from './job-taker.js';
import type { FlumeStore } from './store.js';
import { delay, nextTurn, resolvesWithin, Signal } from './wait.js';
import type { BatchOptions, WorkerDefinition, WorkerRegistry } from './worker-registry.js';

/**
 * Recoveries after which a job runs alone. A busy worker that crashes hands back all
 * its jobs at once, each recovered once: they run as usual. One recovered again was
 * beside the crash twice, and may be what caused it: it runs alone from then on.
 */
const SUSPECT_AFTER_RECOVERIES = 2;

/** Longest a blocked wait for new jobs lasts before it is issued again (seconds). */
const IDLE_BLOCK_SECONDS = 5;

/**
 * Longest wait of a pipeline whose jobs a limit across instances holds (globalConcurrency,
 * a group's concurrency, a paused group): a job of its own that ends wakes it at once, a
 * job that ends in another process is noticed at the next take, this long at most.
 */
export const BLOCKED_RETAKE_MS = 100;

/**
 * After a take that emptied the queue having found two jobs or more, the next take
 * waits this long after it (ms): under load, jobs arriving one by one then go out about
 * eight per take (at 2,000 jobs/s) instead of a take and a wake-up each. After a take
 * that found one job or none, the pipeline waits for the next job and takes it at once.
 */
export const TAKE_LINGER_MS = 4;

export interface PipelineRunnerDeps {
  /** The store of the pipelines' own commands (StoreBackend.worker). */
  store: FlumeStore;
  /** A store for this pipeline's waits for new jobs (StoreBackend.blocking). */
  createBlocking: () => FlumeStore;
  registry: WorkerRegistry;
  options: ResolvedOptions;
  paused: PausedPipelines;
  instrumentation: Instrumentation;
  logger: FlumeLogger;
  /** Notified each time a job (or batch) of this pipeline settles and frees its slot. */
  settled?: Signal;
}

/**
 * The dequeue loop of one pipeline: takes as many jobs as it has free slots (plus its
 * `prefetch`, never more, and never more than the rate limit allows), runs them, and
 * when the queue is empty waits until a job arrives (a blocking wait on Redis) instead
 * of polling.
 */
export class PipelineRunner {
  readonly name: string;
  readonly queue: string;
  readonly maxDemand: number;
  /** Jobs leased ahead of free slots, at most. */
  readonly prefetch: number;
  readonly keys: QueueKeys;

  /** Lease id -> when it was taken here (ms), of every job this pipeline holds. */
  private readonly running = new Map<string, number>();
  /** Held leases (in `running` too) whose jobs wait for a slot, in take order. */
  private readonly prefetched: Lease[] = [];
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
  private blocking?: FlumeStore;
  private pausedHere = false;
  /** A recovered job running alone (see isolateSuspect). */
  private suspect?: string;
  private taking?: Promise<unknown>;
  /** Prefetched jobs on their way back to the queue (a pause). */
  private returning?: Promise<void>;
  private loop?: Promise<void>;
  /** Set when the loop died of an unexpected error: the pipeline takes no more jobs. */
  private failure?: Error;
  private stopped?: Promise<void>;

  constructor(
    private readonly pipeline: ResolvedPipeline,
    private readonly deps: PipelineRunnerDeps,
  ) {
    const { options, store, logger } = deps;
    const dead = { maxJobs: options.deadMaxJobs, maxAgeMs: options.deadMaxAge };
    this.name = pipeline.name;
    this.queue = pipeline.queue;
    this.maxDemand = pipeline.maxDemand;
    this.prefetch = pipeline.prefetch;
    this.keys = queueKeys(options.namespace, pipeline.queue);
    this.instrumentation = pipeline.instrument ? deps.instrumentation : undefined;
    const limit = pipeline.rateLimit;
    this.acker = new Acker(store, this.keys, logger);
    this.taker = new JobTaker({
      pipeline: this.name,
      queue: this.queue,
      keys: this.keys,
      store,
      leaseMs: options.visibilityTimeout,
      maxPayloadBytes: options.maxPayloadBytes,
      dead,
      limiter:
        limit &&
        new RateLimiter(
          store,
          rateLimitKey(options.namespace, limit.key),
          limit.count,
          limit.scaleMs,
        ),
      acker: this.acker,
      instrumentation: this.instrumentation,
      // A group's window gets the rate limiter's margin too: it is stamped at the take.
      groups: pipeline.groups && {
        ...pipeline.groups,
        rateWindowMs:
          pipeline.groups.rateWindowMs &&
          pipeline.groups.rateWindowMs + startMargin(pipeline.groups.rateWindowMs),
      },
      globalConcurrency: pipeline.globalConcurrency,
    });
    this.scheduler = new Scheduler(store, this.keys, options.schedulerPollInterval, logger);
    this.recoverer = new Recoverer(
      store,
      this.keys,
      this.queue,
      recoverySweepMs(options.visibilityTimeout),
      options.maxRecoveries,
      dead,
      logger,
      (document, reason) => this.jobs.reportBuried(document, reason),
    );
    this.leaseKeeper = new LeaseKeeper(
      store,
      this.keys,
      options.visibilityTimeout,
      () => [...this.running.keys()],
      logger,
    );
    this.jobs = new JobRunner({
      pipeline: this.name,
      queue: this.queue,
      keys: this.keys,
      store,
      registry: deps.registry,
      acker: this.acker,
      options,
      logger,
      instrumentation: this.instrumentation,
      onRetryScheduled: (delayMs) => this.scheduler.runWithin(delayMs),
    });
    this.batcher = new Batcher((batch) =>
      this.track(
        batch.map((ready) => ready.lease.id),
        this.jobs.runBatch(batch),
      ),
    );
    deps.paused.onChange(() => this.wake.notify());
  }

  /**
   * Jobs of this pipeline held in this process now: running, waiting for their batch,
   * or prefetched.
   */
  get pendingJobsCount(): number {
    return this.running.size;
  }

  /** The leases this pipeline holds here, with when each was taken (ms since the epoch). */
  get heldLeases(): ReadonlyMap<string, number> {
    return this.running;
  }

  /** True while this pipeline takes no new jobs, here or for every instance. */
  get isPaused(): boolean {
    return this.pausedHere || this.deps.paused.has(this.name);
  }

  /**
   * `'running'` once started (paused or not), `'stopped'` before start and from stop
   * on, `'failed'` when its loop died of an unexpected error (logged) and it takes no
   * more jobs. For health checks.
   */
  get state(): { status: 'running' | 'stopped' | 'failed'; error?: Error } {
    if (this.failure) return { status: 'failed', error: this.failure };
    if (!this.loop || this.stopping.signal.aborted) return { status: 'stopped' };
    return { status: 'running' };
  }

  start(): void {
    if (this.loop || this.stopping.signal.aborted) return;
    this.blocking = this.deps.createBlocking();
    this.loop = this.fetchLoop().catch((err: Error) => {
      // Not expected (every step handles its own errors), but a loop that died must say so
      // rather than take the process down with an unhandled rejection.
      this.failure = err;
      this.deps.logger.error(
        `Pipeline "${this.name}" stopped taking jobs: ${err.message}`,
        err.stack,
      );
    });
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

  /**
   * Resolves once no take is in flight and, when paused, the jobs prefetched are back
   * in the queue: a paused pipeline has then stopped taking jobs, and holds only the
   * jobs it runs.
   */
  async untilNotTaking(): Promise<void> {
    while (this.taking || this.returning || (this.isPaused && this.prefetched.length > 0)) {
      if (this.taking) await this.taking.catch(() => undefined);
      else await this.handBackPrefetched();
    }
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
    this.scheduler.stop();
    this.recoverer.stop();
    await this.loop;
    // A take cut off just before the stop: its jobs go back now, not at lease expiry.
    await this.taker.close().catch(() => undefined);

    const notStarted = [
      ...this.prefetched.splice(0).map((lease) => lease.id),
      ...this.batcher.takeAll().map((ready) => ready.lease.id),
    ];
    if (notStarted.length > 0) {
      await this.handBack(notStarted);
      for (const id of notStarted) this.running.delete(id);
    }
    const finished = await resolvesWithin(this.allFinished(), timeoutMs);
    if (!finished) {
      const unfinished = [...this.running.keys()];
      this.jobs.handBack(
        unfinished,
        new FlumeError('The app is shutting down: the job was handed back to its queue.'),
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
    const worker = this.deps.store;
    // Know the pauses stored for every instance before taking anything, and wait for
    // the pipeline's own store (the worker connection) too.
    await this.deps.paused.loaded;
    await worker.ready(signal);
    // Started once the store answered: a first run on a connection still connecting would
    // fail, warn, and put the next run (due jobs, expired leases) a whole period later.
    if (!signal.aborted) {
      this.scheduler.start();
      this.recoverer.start();
      this.leaseKeeper.start();
    }
    let failures = 0;
    /** The last take found fewer jobs than it asked for: the queue was empty then. */
    let drained = false;
    let lastTakeAt = 0;
    /** Jobs the last take leased. */
    let lastLeased = 0;
    /** A job came while the pipeline waited for one: the take for it goes alone, at once. */
    let wokeUp = false;
    while (!signal.aborted) {
      if (this.prefetched.length > 0) {
        // Paused: prefetched jobs go back. Resumed before they went: they start now.
        if (this.isPaused) await this.handBackPrefetched();
        else this.startPrefetched();
      }
      if (!this.canTake()) {
        await this.wake.wait();
        continue;
      }
      if (drained) {
        if (lastLeased >= 2 && this.deps.store.sharesRoundTrips) {
          // Jobs come several at a time: let more come for TAKE_LINGER_MS after the last
          // take, then take them without a wake-up round trip first.
          const linger = lastTakeAt + TAKE_LINGER_MS - Date.now();
          if (linger > 0) await delay(linger, signal);
          else drained = false;
        } else {
          // None or one came: a take now would most likely find nothing. Wait until a job
          // waits (at once if one does), and take it at once.
          wokeUp = await this.waitForJobs(signal);
          drained = !wokeUp;
        }
        continue;
      }
      // Jobs ending in this turn of the event loop free their slots first: one take
      // refills them all, rather than one take for the first and another for the rest.
      if (this.running.size > 0 && this.deps.store.sharesRoundTrips) {
        await nextTurn();
        if (!this.canTake()) continue;
      }
      const free = this.maxDemand + this.prefetch - this.running.size;
      let outcome: TakeOutcome;
      try {
        lastTakeAt = Date.now();
        this.taking = this.taker.take(free, !wokeUp);
        wokeUp = false;
        outcome = (await this.taking) as TakeOutcome;
        failures = 0;
      } catch (err) {
        // No take is in flight during the back-off: a pause waiting for the take to end
        // must not find this rejected promise still here (it would spin on it forever).
        this.taking = undefined;
        if (signal.aborted) break;
        failures = await this.backOff(err, failures, worker);
        continue;
      } finally {
        this.taking = undefined;
      }
      if (outcome.kind === 'limited') {
        await this.taker.waitForPermits(outcome.waitMs, signal);
        continue;
      }
      this.reportOversized(outcome.oversized);
      lastLeased = outcome.leases.length;
      drained = lastLeased + outcome.oversized.length < outcome.asked;
      if (signal.aborted) {
        await this.handBack(outcome.leases.map((lease) => lease.id));
      } else if (outcome.leases.length > 0) {
        this.dispatch(outcome);
      }
      if (drained && outcome.blockedMs !== undefined && !signal.aborted) {
        // Jobs wait that may not start yet: the list is not empty, so a wait for jobs
        // would return at once. Take again when a job of ours ends, or a rate window
        // opens, or after BLOCKED_RETAKE_MS (a job ended elsewhere).
        const waitMs = Math.min(outcome.blockedMs || BLOCKED_RETAKE_MS, BLOCKED_RETAKE_MS);
        await this.untilSlotOrDelay(waitMs, signal);
        drained = false;
      }
    }
  }

  /** Resolves when a job of this pipeline ends (or it pauses), or after `ms`. */
  private async untilSlotOrDelay(ms: number, signal: AbortSignal): Promise<void> {
    // The timer is cleared when the job's end comes first: it must not hold a closing process.
    const woken = new AbortController();
    try {
      await Promise.race([this.wake.wait(), delay(ms, AbortSignal.any([signal, woken.signal]))]);
    } finally {
      woken.abort();
    }
  }

  /**
   * Whether the loop may take now: not paused, a slot (or a prefetch place) free, no
   * suspect running alone.
   */
  private canTake(): boolean {
    return (
      !this.isPaused &&
      this.running.size < this.maxDemand + this.prefetch &&
      // Prefetched jobs are topped up once half are gone: fewer, larger takes.
      this.prefetched.length <= this.prefetch / 2 &&
      this.suspect === undefined
    );
  }

  private dispatch(taken: TakeReply): void {
    const now = Date.now();
    for (const lease of this.isolateSuspect(taken.leases, now)) {
      this.running.set(lease.id, now);
      this.prefetched.push(lease);
    }
    // A take is for free slots: its jobs start there even if the pipeline paused while it
    // was on its way. Only prefetched jobs wait, and a pause hands those back.
    this.startPrefetched(true);
  }

  /**
   * Starts held jobs, oldest first, in the slots free. Called after a take and whenever
   * a slot frees: a prefetched job starts then, without waiting for a take. Paused, only
   * a take's own jobs start (`afterTake`).
   */
  private startPrefetched(afterTake = false): void {
    if (this.prefetched.length === 0 || this.stopping.signal.aborted) return;
    if (this.isPaused && !afterTake) return;
    const free = this.maxDemand - (this.running.size - this.prefetched.length);
    if (free <= 0) return;
    for (const lease of this.prefetched.splice(0, free)) {
      try {
        this.startJob(lease);
      } catch (err) {
        // Nothing a job holds may stop the loop: the job's own settle path failed too.
        this.deps.logger.error(
          `Pipeline "${this.name}": could not start job of lease ${lease.id}: ${(err as Error).message}; it runs again when its lease expires.`,
        );
        this.running.delete(lease.id);
      }
    }
    this.batcher.settle();
  }

  /**
   * Paused with jobs prefetched: they go back to the queue, for whoever runs it next.
   * Resolves once every hand-back begun so far is done.
   */
  private handBackPrefetched(): Promise<void> {
    if (this.prefetched.length === 0) return this.returning ?? Promise.resolve();
    const ids = this.prefetched.splice(0).map((lease) => lease.id);
    const returned = this.handBack(ids).then(() => {
      for (const id of ids) this.running.delete(id);
      this.wake.notify();
      this.deps.settled?.notify();
    });
    const all: Promise<void> = Promise.all([this.returning, returned]).then(() => {
      if (this.returning === all) this.returning = undefined;
    });
    this.returning = all;
    return all;
  }

  private startJob(lease: Lease): void {
    const prepared = this.jobs.prepare(lease);
    if (!prepared.ok) return this.track([lease.id], prepared.settled);
    const batch = this.batchOf(prepared.ready.worker);
    if (batch) this.batcher.add(prepared.ready, batch);
    else this.jobs.start(prepared.ready, this.jobSettled);
  }

  /** Frees the slot of a job started with JobRunner.start (bound once: no closure per job). */
  private readonly jobSettled = (leaseId: string, err?: unknown): void => {
    if (err !== undefined) this.logUnexpected(err);
    this.running.delete(leaseId);
    if (this.suspect === leaseId) this.suspect = undefined;
    this.startPrefetched();
    this.wake.notify();
    this.deps.settled?.notify();
  };

  private logUnexpected(err: unknown): void {
    this.deps.logger.error(
      `Pipeline "${this.name}": unexpected error settling a job: ${(err as Error).message}`,
      (err as Error).stack,
    );
  }

  /** Payloads the take set aside as too large (they are in the dead set already). */
  private reportOversized(sizes: readonly number[]): void {
    for (const bytes of sizes) {
      this.deps.logger.error(
        `A job in queue "${this.queue}" cannot run: its payload is ${bytes} bytes, over maxPayloadBytes (${this.deps.options.maxPayloadBytes}). Set aside in the dead set without running.`,
      );
      this.jobs.reportSetAside(`the payload is ${bytes} bytes, over maxPayloadBytes`);
    }
  }

  /**
   * A job handed back more than once after its worker stopped mid-job may be what
   * killed it. It runs alone: the other jobs of the take (and any prefetched) go back
   * to the queue, and nothing more is taken here until it settles, so a job that
   * crashes its process is recovered (and in the end buried) on its own, without the
   * jobs beside it. Running jobs finish; with every slot busy it starts in the first
   * that frees.
   */
  private isolateSuspect(leases: Lease[], now: number): Lease[] {
    const suspect = leases.find((lease) => lease.recoveries >= SUSPECT_AFTER_RECOVERIES);
    if (suspect === undefined) return leases;
    this.suspect = suspect.id;
    const others = [...this.prefetched.splice(0), ...leases]
      .filter((lease) => lease !== suspect)
      .map((lease) => lease.id);
    if (others.length > 0) {
      for (const id of others) this.running.set(id, now);
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

  /** Frees the slots of leases `ids` once `work` is done. */
  private track(ids: string[], work: Promise<void>): void {
    work
      .catch((err: unknown) => this.logUnexpected(err))
      .finally(() => {
        for (const id of ids) this.running.delete(id);
        if (this.suspect !== undefined && ids.includes(this.suspect)) this.suspect = undefined;
        this.startPrefetched();
        this.wake.notify();
        this.deps.settled?.notify();
      });
  }

  /**
   * Blocks until the queue has a job, without taking it. Resolves to false when none
   * came within IDLE_BLOCK_SECONDS; true when one waits, or the wait failed (the take
   * that follows finds out).
   */
  private async waitForJobs(signal: AbortSignal): Promise<boolean> {
    const blocking = this.blocking!;
    try {
      return await blocking.waitForJobs(this.keys, IDLE_BLOCK_SECONDS, signal);
    } catch (err) {
      if (!signal.aborted) await this.backOff(err, 0, blocking);
      return true;
    }
  }

  /** Hands leased jobs back to the queue unchanged; resolves to how many went back. */
  private async handBack(ids: string[]): Promise<number> {
    try {
      return await this.deps.store.requeue(this.keys, ids);
    } catch (err) {
      this.deps.logger.error(
        `Pipeline "${this.name}": could not hand back ${ids.length} job(s) (${(err as Error).message}); ` +
          'they return to the queue when their lease expires.',
      );
      return 0;
    }
  }

  /** After a failed store call: wait for the store to answer, then a growing pause. */
  private async backOff(err: unknown, failures: number, store: FlumeStore): Promise<number> {
    if (failures === 0 && store.isReady) {
      this.deps.logger.warn(`Pipeline "${this.name}": ${(err as Error).message}`);
    }
    await store.ready(this.stopping.signal);
    await delay(Math.min(50 * 2 ** failures, 2_000), this.stopping.signal);
    return failures + 1;
  }
}
