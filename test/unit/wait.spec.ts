import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { untilReady } from '../../lib/engine/wait.js';

/** A connection that is still connecting: what untilReady waits on. */
class Connecting extends EventEmitter {
  status = 'connecting';

  becomeReady(): void {
    this.status = 'ready';
    this.emit('ready');
  }
}

describe('untilReady', () => {
  it('adds one ready listener to a connection, however many wait on it (no MaxListenersExceededWarning)', async () => {
    const redis = new Connecting();
    const stops = Array.from({ length: 25 }, () => new AbortController());
    const waits = stops.map((stop) => untilReady(redis as never, stop.signal));
    expect(redis.listenerCount('ready')).toBe(1);

    // A waiter that stops is released at once; the others keep waiting.
    stops[0].abort();
    await waits[0];
    redis.becomeReady();
    await Promise.all(waits);
    expect(redis.listenerCount('ready')).toBe(0);
  });

  it('waits again on the next ready after a reconnection', async () => {
    const redis = new Connecting();
    const signal = new AbortController().signal;
    const first = untilReady(redis as never, signal);
    redis.becomeReady();
    await first;
    redis.status = 'reconnecting';
    let resolved = false;
    const second = untilReady(redis as never, signal).then(() => (resolved = true));
    await Promise.resolve();
    expect(resolved).toBe(false);
    redis.becomeReady();
    await second;
    expect(redis.listenerCount('ready')).toBe(0);
  });
});
