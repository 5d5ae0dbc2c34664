import { randomUUID } from 'node:crypto';
import type { Scripts } from './scripts.js';

/** Who asks: makes every permit member unique across processes. */
const PROCESS_ID = randomUUID().slice(0, 8);
/**
 * Calls so far in this process, across every limiter: limiters of one process (two
 * pipelines sharing a key, or two apps) must not reuse a member, or a ZADD would only
 * re-score a permit another limiter holds and the window would count it once.
 */
let calls = 0;

/**
 * Margin added to the window. A permit is recorded when jobs are taken; the job
 * starts a moment later. The margin absorbs that moment, so starts (not only takes)
 * stay within the limit in every window, across processes.
 */
function startMargin(scaleMs: number): number {
  return Math.min(25, Math.ceil(scaleMs * 0.02));
}

/**
 * A rate limit shared by every process on the same Redis: at most `count` jobs
 * start in any window of `scaleMs`. Pipelines with the same key share one window.
 */
export class RateLimiter {
  private readonly windowMs: number;

  constructor(
    private readonly scripts: Scripts,
    private readonly key: string,
    private readonly count: number,
    scaleMs: number,
  ) {
    this.windowMs = scaleMs + startMargin(scaleMs);
  }

  /** Takes up to `wanted` permits; when none is free, says how long until one is. */
  async acquire(
    wanted: number,
  ): Promise<{ granted: number; waitMs: number; release: (unused: number) => Promise<void> }> {
    const prefix = `${PROCESS_ID}:${++calls}:`;
    const { granted, waitMs } = await this.scripts.limit(
      this.key,
      this.count,
      this.windowMs,
      wanted,
      prefix,
    );
    const release = async (unused: number) => {
      if (unused <= 0) return;
      const members = Array.from({ length: unused }, (_, i) => `${prefix}${granted - i}`);
      await this.scripts.releasePermits(this.key, members);
    };
    return { granted, waitMs, release };
  }
}
