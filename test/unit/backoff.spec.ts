import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../lib/engine/backoff.js';

const bounds = { initial: 500, max: 10_000 };

describe('backoffDelay', () => {
  it('starts at backoffInitial and doubles with each failure, before jitter', () => {
    const noJitter = () => 0;
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, bounds, noJitter))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000,
    ]);
  });

  it('adds at most 50% of jitter', () => {
    expect(backoffDelay(0, bounds, () => 0.5)).toBe(625);
    expect(backoffDelay(1, bounds, () => 0.999_999)).toBe(1_500);
    expect(backoffDelay(2, bounds, () => 1)).toBe(3_000);
  });

  it('spreads jobs that failed together', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647) % 1;
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(1, bounds, random)));
    expect(delays.size).toBeGreaterThan(25);
  });

  it('never goes past backoffMax, even after very many failures', () => {
    for (const retryCount of [5, 6, 20, 52, 53, 1_000, Number.MAX_SAFE_INTEGER]) {
      for (const r of [0, 0.5, 0.999]) {
        expect(backoffDelay(retryCount, bounds, () => r)).toBe(10_000);
      }
    }
  });

  it('stays an integer within [initial, max] for any count and random value', () => {
    const tight = { initial: 50, max: 200 };
    for (let retryCount = 0; retryCount < 60; retryCount++) {
      for (const r of [0, 0.1, 0.37, 0.5, 0.9, 0.999_999]) {
        const delay = backoffDelay(retryCount, tight, () => r);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(50);
        expect(delay).toBeLessThanOrEqual(200);
      }
    }
  });

  it('is exactly backoffInitial when initial and max are equal', () => {
    expect(backoffDelay(0, { initial: 300, max: 300 }, () => 0.9)).toBe(300);
    expect(backoffDelay(9, { initial: 300, max: 300 }, () => 0.9)).toBe(300);
  });

  it('uses Math.random by default, within bounds', () => {
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(0, bounds);
      expect(delay).toBeGreaterThanOrEqual(500);
      expect(delay).toBeLessThanOrEqual(750);
    }
  });
});
