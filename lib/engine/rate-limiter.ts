import { permitWaiters } from './permit-waiters.js';
import type { FlumeStore } from './store.js';
import { uniqueToken } from './unique-token.js';

/**
 * Margin added to the window. A permit is recorded when jobs are taken; the job
 * starts a moment later. The margin absorbs that moment, so starts (not only takes)
 * stay within the limit in every window, across processes.
 */
export function startMargin(scaleMs: number): number {
  return Math.min(25, Math.ceil(scaleMs * 0.02));
}

/**
 * A rate limit shared by every process on the same Redis: at most `count` jobs
 * start in any window of `scaleMs`. Pipelines with the same key share one window.
 */
export class RateLimiter {
  private readonly windowMs: number;
  private readonly marginMs: number;
  /** Releases on the key seen when the last acquire was sent (see waitForPermits). */
  private releasesAtAsk = 0;

  constructor(
    private readonly store: FlumeStore,
    private readonly key: string,
    private readonly count: number,
    scaleMs: number,
  ) {
    this.marginMs = startMargin(scaleMs);
    this.windowMs = scaleMs + this.marginMs;
  }

  /**
   * Takes up to `wanted` permits; when none is free, says how long until one is.
   * Call `release` with the permits left unused, then `beforeStart` with the
   * permits used, just before the jobs start.
   */
  async acquire(wanted: number): Promise<{
    granted: number;
    waitMs: number;
    release: (unused: number) => Promise<void>;
    beforeStart: (used: number) => Promise<void>;
  }> {
    // Unique across limiters too (two pipelines sharing a key, or two apps in one
    // process): a reused member would only re-score a permit another limiter holds,
    // and the window would count it once.
    const prefix = `${uniqueToken()}:`;
    const askedAt = performance.now();
    this.releasesAtAsk = permitWaiters.releases(this.key);
    const { granted, waitMs, stampedAt } = await this.store.limit(
      this.key,
      this.count,
      this.windowMs,
      wanted,
      prefix,
    );
    const release = async (unused: number) => {
      if (unused <= 0) return;
      const members = Array.from({ length: unused }, (_, i) => `${prefix}${granted - i}`);
      await this.store.releasePermits(this.key, members);
      permitWaiters.released(this.key);
    };
    // The permits carry the time they were granted; the jobs start after the take's
    // round trip. When that was slower than the margin (a cold start, a busy event
    // loop: tens of ms), the permits are moved to an upper bound of the start time
    // first, so they stay in the window as long as the starts need them to.
    // Measured when called, before any await: call it right before the jobs start.
    const beforeStart = async (used: number) => {
      const late = performance.now() - askedAt;
      if (used <= 0 || late <= this.marginMs) return;
      const members = Array.from({ length: used }, (_, i) => `${prefix}${i + 1}`);
      await this.store
        .restampPermits(this.key, members, stampedAt + Math.ceil(late))
        .catch(() => undefined);
    };
    return { granted, waitMs, release, beforeStart };
  }

  /**
   * After an acquire granted nothing: resolves after its `waitMs`, or as soon as a
   * limiter of this process on the same key gives permits back (also when that
   * happened between the acquire and this call), or when `signal` aborts.
   */
  waitForPermits(waitMs: number, signal: AbortSignal): Promise<void> {
    return permitWaiters.wait(this.key, this.releasesAtAsk, waitMs, signal);
  }
}
