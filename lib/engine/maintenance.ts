import type { QueueKeys } from './keys.js';
import type { FlumeLogger } from './logger.js';
import type { DeadSetBounds, FlumeStore } from './store.js';

/** Jobs moved per script call: bounds how long one call blocks Redis. */
const BATCH = 1_000;

/**
 * A task that runs again after the delay it returns; `runSoon` brings the next run
 * forward. Errors are logged once per streak and the task goes on.
 */
abstract class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private dueAt = Infinity;
  private running = false;
  private stopped = false;
  private failing = false;
  /** How late (ms) the current run started against when it was due. */
  protected lateMs = 0;

  constructor(protected readonly logger: FlumeLogger) {}

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Runs within `ms` at the latest. */
  runWithin(ms: number): void {
    if (Date.now() + ms < this.dueAt && !this.running) this.schedule(ms);
  }

  protected abstract tick(): Promise<number>;
  protected abstract describe(): string;

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.dueAt = Date.now() + ms;
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    this.running = true;
    this.lateMs = Math.max(0, Date.now() - this.dueAt);
    this.dueAt = Infinity;
    let next: number;
    try {
      next = await this.tick();
      this.failing = false;
    } catch (err) {
      // A run cut off by the shutdown (its connection closing under it) is not a failure
      // worth a warning: the task was stopped, and the next process runs it again.
      if (!this.failing && !this.stopped) {
        this.logger.warn(`${this.describe()} failed: ${(err as Error).message}`);
      }
      this.failing = true;
      next = 1_000;
    }
    this.running = false;
    this.schedule(next);
  }
}

/** Moves due scheduled and retry jobs of a queue to the queue, on time. */
export class Scheduler extends PeriodicTask {
  constructor(
    private readonly store: FlumeStore,
    private readonly keys: QueueKeys,
    private readonly pollInterval: number,
    logger: FlumeLogger,
  ) {
    super(logger);
  }

  protected async tick(): Promise<number> {
    const { moved, nextDueMs } = await this.store.promote(this.keys, BATCH);
    if (moved >= BATCH) return 0;
    return nextDueMs < 0 ? this.pollInterval : Math.min(nextDueMs, this.pollInterval);
  }

  protected describe(): string {
    return `Promoting due jobs of ${this.keys.waiting}`;
  }
}

/**
 * How often the recoverer looks for expired leases: a quarter of the lease, between
 * 250 ms and 5 s. A crashed worker's jobs run again within visibilityTimeout + this.
 */
export function recoverySweepMs(visibilityTimeout: number): number {
  return Math.min(Math.max(visibilityTimeout / 4, 250), 5_000);
}

/**
 * Hands jobs whose lease expired (dead or stalled workers) back to their queue, and
 * buries the ones that keep killing their workers.
 */
export class Recoverer extends PeriodicTask {
  constructor(
    private readonly store: FlumeStore,
    private readonly keys: QueueKeys,
    private readonly queue: string,
    private readonly interval: number,
    private readonly maxRecoveries: number,
    private readonly dead: DeadSetBounds,
    logger: FlumeLogger,
    /** Told each job buried for losing its worker too often: its document in the dead set. */
    private readonly onBuried: (document: string, reason: string) => void,
  ) {
    super(logger);
  }

  protected async tick(): Promise<number> {
    const { handedBack, buried } = await this.store.recover(
      this.keys,
      this.queue,
      BATCH,
      this.maxRecoveries,
      this.dead,
    );
    if (handedBack > 0) {
      this.logger.warn(
        `Recovered ${handedBack} job(s) of ${this.keys.waiting} whose worker stopped renewing its lease.`,
      );
    }
    if (buried.length > 0) {
      this.logger.error(
        `${buried.length} job(s) of ${this.keys.waiting} lost their worker more than ${this.maxRecoveries} time(s): ` +
          'moved to the dead set instead of handing them out again.',
      );
      const reason = `lost its worker more than ${this.maxRecoveries} time(s)`;
      for (const document of buried) this.onBuried(document, reason);
    }
    return handedBack + buried.length >= BATCH ? 0 : this.interval;
  }

  protected describe(): string {
    return `Recovering expired jobs of ${this.keys.waiting}`;
  }
}

/**
 * Extends the leases of the jobs running in this process, every third of the lease,
 * and says when a renewal came late: an event loop blocked (by a CPU-bound job) past
 * the lease lets the job's lease expire, and the job runs again elsewhere.
 */
export class LeaseKeeper extends PeriodicTask {
  constructor(
    private readonly store: FlumeStore,
    private readonly keys: QueueKeys,
    private readonly leaseMs: number,
    private readonly leaseIds: () => string[],
    logger: FlumeLogger,
  ) {
    super(logger);
  }

  override start(): void {
    this.runWithin(this.leaseMs / 3);
  }

  protected async tick(): Promise<number> {
    const ids = this.leaseIds();
    if (ids.length > 0 && this.lateMs >= this.leaseMs / 6) this.warnLate(ids.length);
    await this.store.renew(this.keys, ids, this.leaseMs);
    return this.leaseMs / 3;
  }

  private warnLate(jobs: number): void {
    const left = this.leaseMs - this.leaseMs / 3 - this.lateMs;
    this.logger.warn(
      `Renewing the leases of ${jobs} job(s) of ${this.keys.waiting} came ${Math.round(this.lateMs)} ms late: ` +
        'the event loop was blocked (a CPU-bound job, or a long synchronous call). ' +
        (left > 0
          ? `Their leases had ${Math.round(left)} ms left. `
          : 'Their leases had expired: another worker may be running them too. ') +
        `A job that blocks the event loop for longer than visibilityTimeout (${this.leaseMs} ms) runs twice: ` +
        'yield to the event loop (await) in long loops, move CPU-bound work to a worker thread, or raise visibilityTimeout.',
    );
  }

  protected describe(): string {
    return `Renewing leases of ${this.keys.waiting}`;
  }
}
