import { describe, expect, it } from 'vitest';
import type { CallRecord, QueueRole, RunRecord } from './fixtures/config.js';
import { check, checkRateLimit, type CheckResult, type Run } from './harness/checker.js';
import { History } from './harness/history.js';
import { plan } from './harness/schedule.js';
import type { FinalState, QueueLeft } from './harness/state.js';

// The chaos run's checks on made-up histories: what each invariant flags, and what
// explains a duplicate. The run itself is chaos.spec.ts.

const T = 1_800_000_000_000;
const CONFIG = {
  rateLimit: { count: 3, scaleMs: 1_000 },
  periodicEveryMs: 2_000,
  mode: 'single' as const,
};
const EMPTY: QueueLeft = {
  waiting: 0,
  processing: 0,
  leases: 0,
  scheduled: 0,
  retry: 0,
  recoveries: 0,
};

function state(parts: Partial<FinalState>): FinalState {
  const left = Object.fromEntries(
    ['plain', 'limited', 'batch', 'unique', 'periodic'].map((q) => [q, { ...EMPTY }]),
  ) as Record<QueueRole, QueueLeft>;
  return { calls: [], runs: [], logs: [], checks: [], dead: [], left, uniqueLocks: [], ...parts };
}

function call(id: string, fields: Partial<CallRecord> = {}): CallRecord {
  return {
    producer: 'producer-1',
    n: 1,
    kind: 'single',
    q: 'plain',
    ids: [id],
    modes: ['ok'],
    at: T,
    end: T + 5,
    ok: true,
    jids: [`jid-${id}`],
    ...fields,
  };
}

let token = 0;
/** A start and an end record of one run. */
function run(
  id: string,
  start: number,
  end: number | undefined,
  fields: { ok?: boolean; pid?: number; q?: QueueRole; jid?: string; aborted?: boolean } = {},
): RunRecord[] {
  const t = `r${++token}`;
  const records: RunRecord[] = [
    {
      t: 's',
      run: t,
      q: fields.q ?? 'plain',
      id,
      jid: fields.jid ?? `jid-${id}`,
      pid: fields.pid ?? 10,
      label: 'worker-1',
      at: start,
      retry: 0,
    },
  ];
  if (end !== undefined) {
    records.push({ t: 'e', run: t, at: end, ok: fields.ok ?? true, aborted: fields.aborted });
  }
  return records;
}

function invariants(result: CheckResult): string[] {
  return result.violations.map((v) => v.invariant);
}

describe('chaos checks', () => {
  it('pass a job that ran once', () => {
    const result = check(
      state({ calls: [call('a')], runs: run('a', T + 10, T + 20) }),
      new History(undefined),
      CONFIG,
    );
    expect(result.violations).toEqual([]);
    expect(result.figures).toMatchObject({ jobsSucceeded: 1, duplicates: 0 });
  });

  it('flag a resolved enqueue that never ran, and one that died for the wrong reason', () => {
    const result = check(
      state({
        calls: [
          call('a'),
          call('b', { modes: ['fail-always'] }),
          call('c', { modes: ['fail-always'] }),
        ],
        runs: run('b', T + 10, T + 20, { ok: false }),
        dead: [
          {
            q: 'plain',
            at: T + 30,
            id: 'b',
            jid: 'jid-b',
            reason: 'job b fails (fail-always, attempt 3)',
          },
        ],
      }),
      new History(undefined),
      CONFIG,
    );
    expect(result.violations.map((v) => v.job)).toEqual(['a', 'c']);
    expect(result.violations[0].message).toMatch(/never succeeded and is not dead/);
  });

  it('flag an unexplained second run; a kill, a SIGTERM or a Redis fault between the runs explains it', () => {
    const runs = [
      ...run('a', T + 10, T + 20, { pid: 10 }),
      ...run('a', T + 9_000, T + 9_010, { pid: 11 }),
    ];
    const bare = check(state({ calls: [call('a')], runs }), new History(undefined), CONFIG);
    expect(invariants(bare)).toEqual([
      'duplicates only where a kill or a lost acknowledgement allows them',
    ]);

    const killed = new History(undefined);
    killed.processSpawned({ label: 'worker-1', role: 'worker', pid: 10, spawnAt: T, signals: [] });
    killed.processes[0].signals.push({ signal: 'SIGKILL', at: T + 21, why: 'fault #1' });
    const afterKill = check(state({ calls: [call('a')], runs }), killed, CONFIG);
    expect(afterKill.violations).toEqual([]);
    expect(afterKill.duplicates.map((d) => d.because)).toEqual([['kill -9']]);

    const faulted = new History(undefined);
    faulted.faultStarted({
      n: 1,
      kind: 'proxy-half-open',
      at: T + 100,
      end: T + 4_000,
      scope: 'all',
    });
    const afterFault = check(state({ calls: [call('a')], runs }), faulted, CONFIG);
    expect(afterFault.duplicates.map((d) => d.because)).toEqual([
      ['proxy-half-open (lost ack or lease)'],
    ]);

    // A fault on another shard's queues explains nothing.
    const elsewhere = new History(undefined);
    elsewhere.faultStarted({
      n: 1,
      kind: 'proxy-cut',
      at: T + 100,
      end: T + 100,
      scope: ['limited'],
    });
    expect(invariants(check(state({ calls: [call('a')], runs }), elsewhere, CONFIG))).toHaveLength(
      1,
    );
  });

  it('allow a rejected enqueue stored twice on a Cluster only, counted apart', () => {
    const calls = [call('a', { ok: false, jids: undefined, error: 'FlumeConnectionError: ...' })];
    const runs = [
      ...run('a', T + 10, T + 20, { pid: 10 }),
      ...run('a', T + 900, T + 910, { pid: 11 }),
    ];
    const cluster = check(state({ calls, runs }), new History(undefined), {
      ...CONFIG,
      mode: 'cluster',
    });
    expect(cluster.violations).toEqual([]);
    expect(cluster.duplicates.map((d) => d.because)).toEqual([
      ['enqueue rejected, then stored twice by the Cluster client'],
    ]);
    expect(invariants(check(state({ calls, runs }), new History(undefined), CONFIG))).toEqual([
      'duplicates only where a kill or a lost acknowledgement allows them',
    ]);
  });

  it('do not count a retry after a failed attempt as a duplicate', () => {
    const runs = [...run('a', T + 10, T + 20, { ok: false }), ...run('a', T + 500, T + 510)];
    const result = check(
      state({ calls: [call('a', { modes: ['fail-once'] })], runs }),
      new History(undefined),
      CONFIG,
    );
    expect(result.violations).toEqual([]);
    expect(result.duplicates).toEqual([]);
  });

  it('flag more starts than the rate limit allows in any window', () => {
    const ids = ['l1', 'l2', 'l3', 'l4'];
    const calls = [
      call('x', { kind: 'limited-bulk', q: 'limited', ids, jids: ids.map((i) => `jid-${i}`) }),
    ];
    const starts = [0, 300, 600, 999];
    const over = check(
      state({
        calls,
        runs: ids.flatMap((id, i) => run(id, T + starts[i], T + starts[i] + 5, { q: 'limited' })),
      }),
      new History(undefined),
      CONFIG,
    );
    expect(invariants(over)).toEqual(['a rate limit is never exceeded in any window']);
    const spread = check(
      state({
        calls,
        runs: ids.flatMap((id, i) => run(id, T + i * 400, T + i * 400 + 5, { q: 'limited' })),
      }),
      new History(undefined),
      CONFIG,
    );
    expect(spread.violations).toEqual([]);
  });

  it('flag a scheduled job that started before it was due', () => {
    const result = check(
      state({
        calls: [call('a', { kind: 'scheduled', notBefore: T + 1_000 })],
        runs: run('a', T + 999, T + 1_010),
      }),
      new History(undefined),
      CONFIG,
    );
    expect(invariants(result)).toEqual(['scheduled jobs never early']);
  });

  it('flag two unique jobs of one key live at once', () => {
    const unique = (id: string, at: number, end: number): CallRecord =>
      call(id, { kind: 'unique', q: 'unique', key: 'k', modes: undefined, at, end });
    // b's lock was taken (by T+200) before a's first success ended (T+300).
    const overlapping = check(
      state({
        calls: [unique('a', T, T + 100), unique('b', T + 150, T + 200)],
        runs: [
          ...run('a', T + 110, T + 300, { q: 'unique' }),
          ...run('b', T + 310, T + 400, { q: 'unique' }),
        ],
      }),
      new History(undefined),
      CONFIG,
    );
    expect(invariants(overlapping)).toEqual(['a unique key never has two live jobs']);
    const oneAfterTheOther = check(
      state({
        calls: [unique('a', T, T + 100), unique('b', T + 150, T + 350)],
        runs: [
          ...run('a', T + 110, T + 300, { q: 'unique' }),
          ...run('b', T + 360, T + 400, { q: 'unique' }),
        ],
      }),
      new History(undefined),
      CONFIG,
    );
    expect(oneAfterTheOther.violations).toEqual([]);
  });

  it('flag a lock left behind without a fault to explain it', () => {
    const calls = [call('a', { kind: 'unique', q: 'unique', key: 'k', modes: undefined })];
    const runs = run('a', T + 10, T + 20, { q: 'unique' });
    const leaked = check(
      state({ calls, runs, uniqueLocks: [{ key: 'k', jid: 'jid-a' }] }),
      new History(undefined),
      CONFIG,
    );
    expect(invariants(leaked)).toEqual(['a unique lock is released when its job is done']);
    const faulted = new History(undefined);
    faulted.faultStarted({ n: 1, kind: 'restart-redis', at: T + 15, end: T + 2_000, scope: 'all' });
    expect(
      check(state({ calls, runs, uniqueLocks: [{ key: 'k', jid: 'jid-a' }] }), faulted, CONFIG)
        .violations,
    ).toEqual([]);
  });

  it('flag a periodic tick claimed in the future, or enqueued twice', () => {
    const tick = T + 2_000;
    const result = check(
      state({
        runs: [
          {
            t: 's',
            run: 'p1',
            q: 'periodic',
            id: 'j1',
            jid: 'j1',
            pid: 10,
            label: 'worker-1',
            at: T + 1_000,
            retry: 0,
            lastTick: tick,
            readAt: T + 1_001,
          },
        ],
        logs: [10, 11].map((pid) => ({
          label: `worker-${pid}`,
          pid,
          at: tick + 1,
          level: 'debug' as const,
          message: `Periodic job "chaos-tick" enqueued for its tick of ${new Date(tick).toISOString()}.`,
        })),
      }),
      new History(undefined),
      CONFIG,
    );
    expect(invariants(result)).toEqual([
      'periodic jobs never early',
      'periodic jobs once per tick',
    ]);
  });

  it('flag leases and jobs left once the run drained', () => {
    const left = state({});
    left.left.plain.processing = 1;
    left.left.plain.leases = 1;
    left.left.batch.retry = 2;
    expect(invariants(check(left, new History(undefined), CONFIG)).sort()).toEqual([
      'everything drained',
      'nothing left leased',
    ]);
  });
});

describe('chaos schedule', () => {
  it('is the same for the same seed, and another for another seed', () => {
    const options = { mode: 'cluster' as const, durationMs: 120_000, workers: 3, pace: 1 };
    expect(plan({ seed: 42, ...options })).toEqual(plan({ seed: 42, ...options }));
    expect(plan({ seed: 43, ...options }).faults).not.toEqual(
      plan({ seed: 42, ...options }).faults,
    );
  });

  it('draws only the faults of its mode', () => {
    const options = { durationMs: 600_000, workers: 3, pace: 1 };
    const single = new Set(plan({ seed: 1, mode: 'single', ...options }).faults.map((f) => f.kind));
    const cluster = new Set(
      plan({ seed: 1, mode: 'cluster', ...options }).faults.map((f) => f.kind),
    );
    expect(single.has('failover') && !single.has('move-slot')).toBe(true);
    expect(cluster.has('move-slot') && !cluster.has('failover')).toBe(true);
  });

  it('counts a window over the rate limit as a violation, unless the network added latency then', () => {
    const start = (id: string, at: number): Run => ({
      run: id,
      q: 'limited',
      id,
      jid: id,
      pid: 1,
      label: 'worker-1',
      start: at,
      retry: 0,
    });
    const burst = [0, 100, 200].map((at, i) => start(`j${i}`, 10_000 + at));
    const limit = { count: 2, scaleMs: 1_000 };
    expect(checkRateLimit(burst, limit, []).violations).toHaveLength(1);
    const excused = checkRateLimit(burst, limit, [[9_000, 9_500]]);
    expect(excused.violations).toEqual([]);
    expect(excused.excused).toBe(1);
    // Latency long before (more than a window earlier) excuses nothing.
    expect(checkRateLimit(burst, limit, [[1_000, 2_000]]).violations).toHaveLength(1);
  });
});
