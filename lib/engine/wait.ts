/** What the waits need of a connection (a Redis or Cluster); connection.ts imports this file. */
interface Connection {
  readonly status: string;
  once(event: 'ready', listener: () => void): unknown;
}

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

/**
 * Resolves in the next turn of the event loop (setImmediate): after the timers and I/O
 * callbacks of this turn, and every promise they settle, have run.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * True when `work` resolves within `ms`, false when `ms` passes first. The timer is
 * cleared either way: a timeout raced and lost must not keep the process alive (a
 * shutdown that waited for nothing would otherwise end only when it fires).
 */
export async function resolvesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms === Infinity) return work.then(() => true);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One pending 'ready' wait per connection, whoever waits (see nextReady). */
const readyWaits = new WeakMap<Connection, Promise<void>>();

/**
 * Resolves on the next 'ready' of `redis`. Every waiter shares one listener: the
 * pipelines of a process share their connection, and one listener each would trip
 * Node's MaxListenersExceededWarning past ten pipelines (or ten enqueues at boot).
 */
export function nextReady(redis: Connection): Promise<void> {
  let wait = readyWaits.get(redis);
  if (!wait) {
    wait = new Promise<void>((resolve) => redis.once('ready', () => resolve())).finally(() =>
      readyWaits.delete(redis),
    );
    readyWaits.set(redis, wait);
  }
  return wait;
}

/** Resolves when `redis` is ready (or already is), or when `signal` aborts. */
export function untilReady(redis: Connection, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (redis.status === 'ready' || signal.aborted) return resolve();
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    void nextReady(redis).then(done);
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
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
