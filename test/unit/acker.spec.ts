import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACK_HOLD_MS, ACK_RIDE_AFTER_MS, Acker } from '../../lib/engine/acker.js';
import { queueKeys } from '../../lib/engine/keys.js';
import type { FlumeStore } from '../../lib/engine/store.js';

/** A store whose round trips can be shared (as Redis'), recording the acks sent alone. */
function fakeStore() {
  const alone: string[][] = [];
  const store = {
    sharesRoundTrips: true,
    isReady: true,
    isClosed: false,
    ack: (_keys: unknown, ids: readonly string[]) => {
      alone.push([...ids]);
      return Promise.resolve(ids.length);
    },
    ready: () => Promise.resolve(),
  };
  return { store: store as unknown as FlumeStore, alone };
}

const logger = { log() {}, warn() {}, error() {} };

describe('Acker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets acknowledgements younger than ACK_RIDE_AFTER_MS wait for a later take', async () => {
    const { store, alone } = fakeStore();
    const acker = new Acker(store, queueKeys('ns', 'q'), logger);
    acker.ack('1');
    acker.ack('2');
    expect(acker.forTake()).toBeUndefined();

    vi.advanceTimersByTime(ACK_RIDE_AFTER_MS);
    acker.ack('3');
    const batch = acker.forTake();
    expect(batch).toEqual(['1', '2', '3']);
    await acker.sent(batch!);
    expect(alone).toEqual([]);
  });

  it('sends acknowledgements no take carried alone after ACK_HOLD_MS', async () => {
    const { store, alone } = fakeStore();
    const acker = new Acker(store, queueKeys('ns', 'q'), logger);
    acker.ack('1');
    expect(acker.forTake()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(ACK_HOLD_MS - 1);
    expect(alone).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(alone).toEqual([['1']]);
    expect(acker.forTake()).toBeUndefined();
  });

  it('lets a thousand pending acknowledgements ride whatever their age', () => {
    const { store } = fakeStore();
    const acker = new Acker(store, queueKeys('ns', 'q'), logger);
    for (let id = 1; id < 1_000; id++) acker.ack(String(id));
    expect(acker.forTake()).toBeUndefined();
    acker.ack('1000');
    expect(acker.forTake()).toHaveLength(1_000);
  });
});
