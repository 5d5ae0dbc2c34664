import type { QueueKeys } from './keys.js';
import type { FlumeLogger } from './logger.js';
import type { DeadSetBounds, Scripts } from './scripts.js';

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
    this.dueAt = Infinity;
    let next: number;
    try {
      next = await this.tick();
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.logger.warn(`${this.describe()} failed: ${(err as Error).message}`);
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
    private readonly scripts: Scripts,
    private readonly keys: QueueKeys,
    private readonly pollInterval: number,
    logger: FlumeLogger,
  ) {
    super(logger);
  }

  protected async tick(): Promise<number> {
    const { moved, nextDueMs } = await this.scripts.promote(this.keys, BATCH);
    if (moved >= BATCH) return 0;
    return nextDueMs < 0 ? this.pollInterval : Math.min(nextDueMs, this.pollInterval);
  }

  protected describe(): string {
    return `Promoting due jobs of ${this.keys.waiting}`;
  }
}

/**
 * Hands jobs whose lease expired (dead or stalled workers) back to their queue, and
 * buries the ones that keep killing their workers.
 */
export class Recoverer extends PeriodicTask {
  constructor(
    private readonly scripts: Scripts,
    private readonly keys: QueueKeys,
    private readonly interval: number,
    private readonly maxRecoveries: number,
    private readonly dead: DeadSetBounds,
    logger: FlumeLogger,
    /** Told each job buried for losing its worker too often: its payload in the dead set. */
    private readonly onBuried: (payload: string, reason: string) => void,
  ) {
    super(logger);
  }

  protected async tick(): Promise<number> {
    const { handedBack, buried } = await this.scripts.recover(
      this.keys,
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
      for (const payload of buried) this.onBuried(payload, reason);
    }
    return handedBack + buried.length >= BATCH ? 0 : this.interval;
  }

  protected describe(): string {
    return `Recovering expired jobs of ${this.keys.waiting}`;
  }
}

/** Extends the leases of the jobs running in this process, well before they expire. */
export class LeaseKeeper extends PeriodicTask {
  constructor(
    private readonly scripts: Scripts,
    private readonly keys: QueueKeys,
    private readonly leaseMs: number,
    private readonly leases: () => string[],
    logger: FlumeLogger,
  ) {
    super(logger);
  }

  override start(): void {
    this.runWithin(this.leaseMs / 3);
  }

  protected async tick(): Promise<number> {
    await this.scripts.renew(this.keys, this.leases(), this.leaseMs);
    return this.leaseMs / 3;
  }

  protected describe(): string {
    return `Renewing leases of ${this.keys.waiting}`;
  }
}
