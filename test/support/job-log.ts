import { Injectable } from '@nestjs/common';

export interface Performed {
  worker: string;
  args: unknown[];
  at: number;
}

/**
 * Records what workers performed, and lets a test wait for a condition on it:
 * the waits resolve on the handler's own call, never on a timer.
 */
@Injectable()
export class JobLog {
  readonly performed: Performed[] = [];
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  record(worker: string, args: unknown[]): void {
    this.performed.push({ worker, args, at: Date.now() });
    this.check();
  }

  count(worker?: string): number {
    return worker
      ? this.performed.filter((p) => p.worker === worker).length
      : this.performed.length;
  }

  /** Resolves once `test` holds; rejects after `timeoutMs` with `what` in the message. */
  until(test: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Resolves once `n` jobs (of `worker`, if given) were performed. */
  untilCount(n: number, worker?: string, timeoutMs?: number): Promise<void> {
    return this.until(
      () => this.count(worker) >= n,
      `${n} performed job(s)${worker ? ` of ${worker}` : ''}`,
      timeoutMs,
    );
  }

  private check(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.test()) return true;
      waiter.resolve();
      return false;
    });
  }
}
