import type { QueueKeys } from './keys.js';
import type { FlumeLogger } from './logger.js';
import type { FlumeStore } from './store.js';
import { Signal } from './wait.js';

/**
 * Ends the leases of finished jobs, by lease id. One ack is in flight at a time;
 * leases that finish meanwhile go out together in the next one, so under load many
 * jobs cost one script call. A failed ack is tried again later: until then the job
 * keeps its lease, and at worst runs again after the visibility timeout
 * (at-least-once).
 */
export class Acker {
  private pending: string[] = [];
  private inFlight = false;
  private readonly idle = new Signal();
  private failures = 0;

  constructor(
    private readonly store: FlumeStore,
    private readonly keys: QueueKeys,
    private readonly logger: FlumeLogger,
  ) {}

  ack(leaseId: string): void {
    this.pending.push(leaseId);
    if (!this.inFlight) void this.flush();
  }

  /** Resolves once every ack given so far has reached Redis, or failed for good. */
  async drain(): Promise<void> {
    while (this.inFlight || this.pending.length > 0) {
      if (!this.inFlight) void this.flush();
      await this.idle.wait();
    }
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.store.ack(this.keys, batch);
      this.failures = 0;
    } catch (err) {
      this.failures++;
      if (this.failures === 1) {
        this.logger.warn(
          `Could not acknowledge ${batch.length} finished job(s): ${(err as Error).message}. Will retry.`,
        );
      }
      // Retry a few times (the connection may come back); past that the lease
      // expires and the job is recovered instead.
      if (this.failures <= 3 && !this.store.isClosed) {
        this.pending = batch.concat(this.pending);
        await new Promise((resolve) => setTimeout(resolve, 200 * this.failures));
      }
    }
    this.inFlight = false;
    if (this.pending.length > 0) void this.flush();
    else this.idle.notify();
  }
}
