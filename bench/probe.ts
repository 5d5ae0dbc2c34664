import { performance } from 'node:perf_hooks';

/**
 * What every bench handler calls with its job's index: counts calls, spots lost
 * and duplicated jobs, notes when the first and last job started, and lets the
 * bench wait for a count without polling.
 */
export class Probe {
  /** Handler calls so far (duplicates included). */
  calls = 0;
  /** performance.now() of the first and of the latest call. */
  firstAt = NaN;
  lastAt = NaN;
  private seen: Uint8Array;
  private distinctCount = 0;
  private waiters: { count: number; resolve: () => void }[] = [];
  /** Called on every hit, e.g. by the latency row or a child's milestone reports. */
  onHit?: (index: number, at: number) => void;

  constructor(readonly expected: number) {
    this.seen = new Uint8Array(expected);
  }

  hit(index: number): void {
    const at = performance.now();
    if (this.calls === 0) this.firstAt = at;
    this.lastAt = at;
    this.calls++;
    if (Number.isInteger(index) && index >= 0 && index < this.expected && !this.seen[index]) {
      this.seen[index] = 1;
      this.distinctCount++;
    }
    this.onHit?.(index, at);
    if (this.waiters.length > 0) this.wake();
  }

  /** Jobs seen at least once. */
  get distinct(): number {
    return this.distinctCount;
  }

  /** One byte per job index: 1 when it ran here. */
  seenBytes(): Uint8Array {
    return this.seen;
  }

  /** Handler calls beyond the first of each job. */
  get duplicates(): number {
    return this.calls - this.distinctCount;
  }

  /** Resolves once `count` distinct jobs ran; rejects after `timeoutMs` naming `what`. */
  until(count: number, what: string, timeoutMs: number): Promise<void> {
    if (this.distinctCount >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `${what}: ${this.distinctCount} of ${count} jobs ran within ${timeoutMs} ms (lost or stuck)`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ count, resolve: done });
    });
  }

  private wake(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (this.distinctCount < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }
}

/** Fixed part of every wait's bound; main lowers it in smoke mode so a failure fails fast. */
export const waitBounds = { baseMs: 30_000 };

/** A bound for waits: generous, so only a real loss or hang trips it. */
export function timeoutFor(jobs: number): number {
  return waitBounds.baseMs + jobs * 2;
}
