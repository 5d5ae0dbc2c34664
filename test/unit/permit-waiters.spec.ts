import { describe, expect, it } from 'vitest';
import { PermitWaiters } from '../../lib/engine/permit-waiters.js';

/** Resolves to true if `promise` settles before the microtasks queued now run out. */
async function settlesNow(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return settled;
}

describe('PermitWaiters', () => {
  const never = new AbortController().signal;

  it('wakes the waiters of a key when permits of that key are given back, not of another', async () => {
    const waiters = new PermitWaiters();
    const a1 = waiters.wait('a', waiters.releases('a'), 60_000, never);
    const a2 = waiters.wait('a', waiters.releases('a'), 60_000, never);
    const b = waiters.wait('b', waiters.releases('b'), 60_000, never);
    waiters.released('a');
    expect(await settlesNow(Promise.all([a1, a2]))).toBe(true);
    expect(await settlesNow(b)).toBe(false);
    waiters.released('b');
    await b;
  });

  it('does not miss a release made between the acquire and the wait', async () => {
    const waiters = new PermitWaiters();
    const since = waiters.releases('a');
    waiters.released('a');
    expect(await settlesNow(waiters.wait('a', since, 60_000, never))).toBe(true);
  });

  it('ends at its timeout or when its signal aborts', async () => {
    const waiters = new PermitWaiters();
    await waiters.wait('a', waiters.releases('a'), 5, never);
    const stop = new AbortController();
    const waiting = waiters.wait('a', waiters.releases('a'), 60_000, stop.signal);
    stop.abort();
    expect(await settlesNow(waiting)).toBe(true);
  });
});
