import type { QueueKeys } from './keys.js';
import type { FlumeLogger } from './logger.js';
import type { FlumeStore } from './store.js';
import { Signal } from './wait.js';

/**
 * Longest an acknowledgement waits for a take to travel with (ms). A pipeline that
 * takes again soon (under load, it does within a turn of the event loop, or after
 * TAKE_LINGER_MS) sends both in one write, one wake-up of Redis; an idle one sends it
 * alone after this long.
 */
export const ACK_HOLD_MS = 10;

/**
 * Ends the leases of finished jobs, by lease id. One ack is in flight at a time;
 * leases that finish meanwhile go out together in the next one, which rides with the
 * pipeline's next take (see `forTake`) or leaves alone after ACK_HOLD_MS: under load
 * many jobs cost one script call and no round trip of their own. A failed ack is tried
 * again later: until then the job keeps its lease, and at worst runs again after the
 * visibility timeout (at-least-once).
 */
export class Acker {
  private pending: string[] = [];
  private inFlight = false;
  /** Made once and re-armed with refresh(): a take per turn would otherwise make one each. */
  private timer?: NodeJS.Timeout;
  private armed = false;
  /** Shutting down: nothing waits for a take any more. */
  private draining = false;
  private readonly idle = new Signal();
  private failures = 0;
  /** An outage was reported: said once until an ack gets through. */
  private warnedAway = false;
  /** Aborted at drain: a wait for the store to come back ends. */
  private readonly stopWaiting = new AbortController();

  constructor(
    private readonly store: FlumeStore,
    private readonly keys: QueueKeys,
    private readonly logger: FlumeLogger,
  ) {}

  ack(leaseId: string): void {
    this.pending.push(leaseId);
    if (!this.inFlight) this.hold();
  }

  /**
   * The acknowledgements to send with a take leaving now, or undefined: the caller
   * sends them and reports with `sent`; none other leaves meanwhile.
   */
  forTake(): string[] | undefined {
    if (this.inFlight || this.pending.length === 0) return undefined;
    return this.detach();
  }

  /** Reports how the acknowledgements of `forTake` went: ended, or failed with `err`. */
  sent(batch: string[], err?: unknown): Promise<void> {
    return this.settled(batch, err);
  }

  /** Resolves once every ack given so far has reached Redis, or failed for good. */
  async drain(): Promise<void> {
    this.draining = true;
    this.stopWaiting.abort();
    while (this.inFlight || this.pending.length > 0) {
      if (!this.inFlight) void this.flush();
      await this.idle.wait();
    }
    clearTimeout(this.timer);
  }

  /** Sends what is pending after ACK_HOLD_MS, unless a take carries it first. */
  private hold(): void {
    if (!this.store.sharesRoundTrips) return void this.flush();
    if (this.armed) return;
    this.armed = true;
    if (this.timer) this.timer.refresh();
    else {
      this.timer = setTimeout(() => {
        if (!this.armed) return;
        this.armed = false;
        void this.flush();
      }, ACK_HOLD_MS);
    }
  }

  private detach(): string[] {
    // Left to fire, if it does, as a no-op: clearing it would make the next hold() make a new one.
    this.armed = false;
    this.inFlight = true;
    const batch = this.pending;
    this.pending = [];
    return batch;
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.pending.length === 0) return;
    const batch = this.detach();
    let error: unknown;
    try {
      await this.store.ack(this.keys, batch);
    } catch (err) {
      error = err ?? new Error('the acknowledgement failed');
    }
    await this.settled(batch, error);
  }

  private async settled(batch: string[], err?: unknown): Promise<void> {
    let retry = false;
    if (err === undefined) {
      this.failures = 0;
    } else {
      // While the store is away (an outage: the takes these acks ride on fail too), wait
      // for it to answer, however long: the leases are still ours once it is back. A
      // refusal from a store that answers, or any failure while shutting down, counts.
      const away = !this.store.isReady && !this.draining && !this.store.isClosed;
      if (!away) this.failures++;
      if (this.failures === 1 || (away && !this.warnedAway)) {
        this.warnedAway = away;
        this.logger.warn(
          `Could not acknowledge ${batch.length} finished job(s): ${(err as Error).message}. Will retry.`,
        );
      }
      // Retry a few times; past that the lease expires and the job is recovered instead.
      if (away || (this.failures <= 3 && !this.store.isClosed)) {
        this.pending = batch.concat(this.pending);
        retry = true;
        if (away) await this.store.ready(this.stopWaiting.signal);
        else await new Promise((resolve) => setTimeout(resolve, 200 * this.failures));
      }
    }
    if (err === undefined) this.warnedAway = false;
    this.inFlight = false;
    if (this.pending.length === 0) this.idle.notify();
    else if (retry || this.draining) void this.flush();
    else this.hold();
  }
}
