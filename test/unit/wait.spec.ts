import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { resolvesWithin, untilReady } from '../../lib/engine/wait.js';

/** Timers pending in this process now. */
function pendingTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

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

describe('resolvesWithin', () => {
  it('says whether the work resolved in time, and leaves no timer behind either way', async () => {
    const before = pendingTimers();
    expect(await resolvesWithin(Promise.resolve(), 60_000)).toBe(true);
    expect(pendingTimers()).toBe(before);
    expect(await resolvesWithin(new Promise(() => undefined), 10)).toBe(false);
    expect(pendingTimers()).toBe(before);
  });

  it('waits without a timer for an Infinity timeout', async () => {
    let finish!: () => void;
    const work = new Promise<void>((resolve) => (finish = resolve));
    const before = pendingTimers();
    const result = resolvesWithin(work, Infinity);
    expect(pendingTimers()).toBe(before);
    finish();
    expect(await result).toBe(true);
  });

  it('passes on a rejection of the work', async () => {
    await expect(resolvesWithin(Promise.reject(new Error('boom')), 1_000)).rejects.toThrow('boom');
  });
});
