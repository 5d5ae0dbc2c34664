import type { RedisClient } from './connection.js';

/** Resolves after `ms`, or at once when `signal` aborts. Never rejects. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Resolves when `redis` is ready (or already is), or when `signal` aborts. */
export function untilReady(redis: RedisClient, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (redis.status === 'ready' || signal.aborted) return resolve();
    const done = () => {
      redis.off('ready', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    redis.once('ready', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A promise with its resolve function, for "wake me when" waits. */
export class Signal {
  private waiters: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
