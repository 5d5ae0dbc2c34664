/** One rate-limit key: how many times permits were given back, and who waits for them. */
interface KeyState {
  releases: number;
  waiters: Set<() => void>;
}

/**
 * The pipelines of this process that wait for rate-limit permits, by rate-limit key.
 * A pipeline that finds no permit waits until the oldest one expires; meanwhile
 * another pipeline on the same key may give back permits it took and did not use
 * (its queue had fewer jobs). Without a wake, the first would wait a whole window
 * with permits free and jobs waiting. Process-wide: two apps in one process on the
 * same key wake each other too (on different Redis servers, the wake is only an
 * extra take that finds no permit). Other processes are not woken: they see the
 * permits at their next take, at most one window later.
 */
export class PermitWaiters {
  private readonly keys = new Map<string, KeyState>();

  /** A count of the releases on `key`; pass it to `wait` to not miss one made in between. */
  releases(key: string): number {
    return this.state(key).releases;
  }

  /** Permits of `key` were given back (and Redis has applied it): wakes every waiter. */
  released(key: string): void {
    const state = this.state(key);
    state.releases++;
    const waiters = [...state.waiters];
    state.waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves after `ms`, when `signal` aborts, or when permits of `key` are given
   * back; at once if some were since `releases(key)` returned `since`.
   */
  wait(key: string, since: number, ms: number, signal: AbortSignal): Promise<void> {
    const state = this.state(key);
    return new Promise((resolve) => {
      if (signal.aborted || state.releases !== since) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        state.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      state.waiters.add(done);
    });
  }

  private state(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      // One entry per configured key: a handful, kept for the life of the process.
      state = { releases: 0, waiters: new Set() };
      this.keys.set(key, state);
    }
    return state;
  }
}

/** The process-wide registry every RateLimiter uses. */
export const permitWaiters = new PermitWaiters();
