import { describe, expect, it } from 'vitest';
import { FlumeConfigError } from '../../lib/index.js';
import { definePeriodic, latestTick, nextTick } from '../../lib/engine/periodic.js';

const iso = (ms: number | undefined) => new Date(ms!).toISOString();

describe('periodic schedules', () => {
  it('reads the pattern in its time zone', () => {
    const job = definePeriodic({ cron: '0 9 * * MON', tz: 'Europe/Berlin', worker: 'W' }, 'q');
    // Monday 9:00 in Berlin is 8:00 UTC in winter, 7:00 UTC in summer.
    expect(iso(nextTick(job, Date.parse('2026-11-28T12:00:00Z')))).toBe('2026-11-30T08:00:00.000Z');
    expect(iso(nextTick(job, Date.parse('2026-06-27T12:00:00Z')))).toBe('2026-06-29T07:00:00.000Z');
  });

  it('runs a daily job once on both DST days: the skipped time moves forward, the repeated one runs once', () => {
    const job = definePeriodic({ cron: '30 2 * * *', tz: 'Europe/Berlin', worker: 'W' }, 'q');
    const ticks = (from: string, n: number) => {
      const out: string[] = [];
      let at = Date.parse(from);
      for (let i = 0; i < n; i++) out.push(iso((at = nextTick(job, at)!)));
      return out;
    };
    // 2026-03-29: 02:00 jumps to 03:00, so 02:30 does not exist that day.
    expect(ticks('2026-03-28T12:00:00Z', 2)).toEqual([
      '2026-03-29T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    // 2026-10-25: 03:00 goes back to 02:00, so 02:30 happens twice; it runs once.
    expect(ticks('2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('finds the latest tick at or before a time (for missed ticks)', () => {
    const job = definePeriodic({ cron: '*/15 * * * *', worker: 'W' }, 'q');
    expect(iso(latestTick(job, Date.parse('2026-11-29T10:44:59Z')))).toBe(
      '2026-11-29T10:30:00.000Z',
    );
    expect(iso(latestTick(job, Date.parse('2026-11-29T10:45:00Z')))).toBe(
      '2026-11-29T10:45:00.000Z',
    );
  });

  it('refuses a bad pattern, time zone or option with a FlumeConfigError that names the job', () => {
    expect(() => definePeriodic({ cron: 'every day', worker: 'W', name: 'daily' }, 'q')).toThrow(
      FlumeConfigError,
    );
    expect(() =>
      definePeriodic({ cron: '0 9 * * *', tz: 'Mars/Olympus', worker: 'W' }, 'q'),
    ).toThrow(/periodic job of W: cron "0 9 \* \* \*" with tz "Mars\/Olympus" is not valid/);
    expect(() =>
      definePeriodic({ cron: '0 9 * * *', worker: 'W', missed: 'all' as never }, 'q'),
    ).toThrow(/"missed" must be 'skip' or 'run-once'/);
  });
});
