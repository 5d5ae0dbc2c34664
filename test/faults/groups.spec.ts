import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../lib/engine/keys.js';
import { recoverySweepMs } from '../../lib/engine/maintenance.js';
import { FAULT_QUEUE } from './fixtures/fixture-config.js';
import { account } from './support/accounting.js';
import { untilAll, type AppProcess } from './support/app-process.js';
import { faultJobs, ProducerApp, type FaultJob } from './support/producer-app.js';
import { recoveredCount, report } from './support/report.js';
import { Scenario } from './support/scenario.js';
import { mostAtOnce, pidOf, readSpans } from './support/spans.js';

// Issue 14, under faults: job groups across three worker processes. Every run's start
// and end is recorded in Redis on the machine's clock (Marks.recordSpan), so the jobs of
// one group running at once are counted across the processes, the killed one included.

/** Jobs `<group>-0 .. <group>-{n-1}` of group `group`, each running `ms` ms. */
function groupJobs(group: string, n: number, ms: number): FaultJob[] {
  return faultJobs(n, ms, () => 'ok', `${group}-`).map((job) => ({ ...job, group }));
}

const groupOfId = (id: string): string => id.slice(0, id.lastIndexOf('-'));

/** The groups of the jobs leased now, one entry per lease. */
async function leasedGroups(
  redis: ReturnType<Scenario['inspector']>,
  keys: ReturnType<typeof queueKeys>,
): Promise<string[]> {
  const ids = await redis.zrange(keys.processing, '0', '-1');
  if (ids.length === 0) return [];
  return (await redis.hmget(keys.groupLeases, ...ids)).map((group) => group ?? '-');
}

const countsOf = (values: readonly string[]): Record<string, number> =>
  values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});

async function closeAll(apps: AppProcess[]): Promise<void> {
  for (const app of apps) app.kill('SIGTERM');
  const exits = await Promise.all(apps.map((app) => app.exited));
  expect(exits.map((e) => e.code)).toEqual(apps.map(() => 0));
}

describe('fault: job groups across worker processes', () => {
  const scenarios: Scenario[] = [];
  const scenario = (name: string) => {
    const s = new Scenario(name);
    scenarios.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of scenarios) await s.dispose();
  });

  it('kill -9 of a process holding every group slot: the slots come back with its leases, every job runs, the cap holds across processes', async () => {
    const GROUPS = 4;
    const PER_GROUP = 10;
    const JOB_MS = 100;
    const GROUP_CONCURRENCY = 2;
    const VISIBILITY_TIMEOUT = 1_000;
    const SWEEP = recoverySweepMs(VISIBILITY_TIMEOUT);
    const SLACK = 1_500;
    const s = scenario('groups-kill9');
    const redis = s.inspector();
    const keys = queueKeys(s.namespace, FAULT_QUEUE);
    const groups = Array.from({ length: GROUPS }, (_, g) => `g${g}`);
    const jobs = groups.flatMap((group) => groupJobs(group, PER_GROUP, JOB_MS));
    const producer = await ProducerApp.open(s.url, s.namespace);
    await producer.enqueue(jobs);
    await producer.close();

    const options = (maxDemand: number, hang = false) => ({
      maxDemand,
      recordSpans: true,
      hang,
      pipeline: { groupConcurrency: GROUP_CONCURRENCY },
      flume: { visibilityTimeout: VISIBILITY_TIMEOUT },
    });
    // A stuck process: its jobs never end. With room for more, it takes every slot of
    // every group (2 x 4) and no more.
    const stuck = await s.spawn('stuck', options(GROUPS * GROUP_CONCURRENCY + 2, true));
    await stuck.until(
      () => stuck.startedCount >= GROUPS * GROUP_CONCURRENCY,
      `${GROUPS * GROUP_CONCURRENCY} started jobs`,
    );
    const others = [await s.spawn('worker-2', options(6)), await s.spawn('worker-3', options(6))];
    const held = countsOf(await leasedGroups(redis, keys));
    expect(held).toEqual(Object.fromEntries(groups.map((g) => [g, GROUP_CONCURRENCY])));

    const killedAt = stuck.kill('SIGKILL');
    const killed = await stuck.exited;
    expect(killed.signal).toBe('SIGKILL');
    // Nobody renews them now: the orphans' lease deadlines are final.
    const deadlines = (await redis.zrange(keys.processing, '0', '-1', 'WITHSCORES'))
      .filter((_, i) => i % 2 === 1)
      .map(Number);
    expect(deadlines).toHaveLength(GROUPS * GROUP_CONCURRENCY);
    const orphans = new Set(stuck.started.keys());

    const recovered = () => others.reduce((sum, app) => sum + recoveredCount(app), 0);
    const finished = () => new Set(others.flatMap((app) => [...app.finished.keys()]));
    await untilAll(
      others,
      () => finished().size >= jobs.length,
      `all ${jobs.length} jobs finished`,
      VISIBILITY_TIMEOUT + SWEEP + 15_000,
    );
    const recoveredAt = Math.min(
      ...others.flatMap((app) => app.logsMatching(/^Recovered \d+ job/, 'warn').map((l) => l.at)),
    );
    expect(recovered()).toBe(orphans.size);
    await closeAll(others);

    const result = await account(
      redis,
      s.marks,
      jobs.map((j) => j.id),
    );
    const spans = await readSpans(redis, s.marks);
    const most = mostAtOnce(spans, groupOfId, (span) => {
      // Only the killed process left runs without an end.
      expect(pidOf(span)).toBe(stuck.pid);
      return killed.at;
    });
    const survivorStarts = spans.filter((span) => pidOf(span) !== stuck.pid).map((x) => x.start);
    const firstSurvivorStart = Math.min(...survivorStarts);
    report('groups: kill -9 of a process holding every group slot', {
      groups: GROUPS,
      jobsPerGroup: PER_GROUP,
      jobMs: JOB_MS,
      groupConcurrency: GROUP_CONCURRENCY,
      processes: 3,
      slotsHeldAtKill: Object.values(held).reduce((a, b) => a + b, 0),
      visibilityTimeoutMs: VISIBILITY_TIMEOUT,
      recoveryMs: recoveredAt - killedAt,
      firstStartAfterKillMs: firstSurvivorStart - killedAt,
      firstStartAfterLeaseExpiryMs: firstSurvivorStart - Math.min(...deadlines),
      perProcess: others.map((app) => app.finishedCount).join('/'),
      mostAtOnce: groups.map((g) => most.get(g)).join('/'),
      duplicatesOfKilledJobs: result.duplicates.filter((id) => orphans.has(id)).length,
    });
    // (a) Every slot was held by the dead process: nothing of any group started before
    // its leases ran out, and the jobs ran once they were recovered.
    expect(firstSurvivorStart).toBeGreaterThanOrEqual(Math.min(...deadlines));
    expect(recoveredAt - killedAt).toBeLessThanOrEqual(VISIBILITY_TIMEOUT + SWEEP + SLACK);
    // (b) Every job ran to completion; the killed jobs never completed before, so none twice.
    expect(result).toMatchObject({ done: jobs.length, missing: [], unexpected: [] });
    expect(result.duplicates).toEqual([]);
    // (c) Never more than groupConcurrency of one group at once, across the 3 processes;
    // and the cap was reached (the count measures something).
    for (const group of groups) expect(most.get(group), group).toBe(GROUP_CONCURRENCY);
    expect(spans.filter((span) => span.end === undefined)).toHaveLength(orphans.size);
    expect(await redis.zcard(keys.processing)).toBe(0);
    expect(await redis.llen(keys.waiting)).toBe(0);
    expect(await redis.exists(keys.groups)).toBe(0);
  }, 30_000);

  it('a grouped job handed back at shutdown frees its slot at once: the next start is on another process, no lease expiry waited for', async () => {
    const JOBS = 4;
    const JOB_MS = 50;
    const SHUTDOWN_TIMEOUT = 500;
    /** Far longer than the test: a start that waited for a lease to expire would time out. */
    const VISIBILITY_TIMEOUT = 60_000;
    const s = scenario('groups-handback');
    const redis = s.inspector();
    const keys = queueKeys(s.namespace, FAULT_QUEUE);
    const jobs = groupJobs('t', JOBS, JOB_MS);
    const producer = await ProducerApp.open(s.url, s.namespace);
    await producer.enqueue(jobs);
    await producer.close();

    const options = (hang: boolean) => ({
      maxDemand: 2,
      recordSpans: true,
      hang,
      pipeline: { groupConcurrency: 1 },
      flume: { visibilityTimeout: VISIBILITY_TIMEOUT, shutdownTimeout: SHUTDOWN_TIMEOUT },
    });
    const first = await s.spawn('first', options(true));
    await first.until(() => first.startedCount === 1, 'the first job to start');
    const second = await s.spawn('second', options(false));
    expect(await leasedGroups(redis, keys)).toEqual(['t']);

    const signalledAt = first.kill('SIGTERM');
    await untilAll(
      [second],
      () => second.finished.size === JOBS,
      `the ${JOBS} jobs to finish on the second process`,
      15_000,
    );
    const exit = await first.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    await closeAll([second]);

    const spans = await readSpans(redis, s.marks);
    const onSecond = spans.filter((span) => pidOf(span) === second.pid);
    const firstStart = Math.min(...onSecond.map((span) => span.start));
    const handedBackRunStart = onSecond.find((span) => span.id === 't-0')!.start;
    // The first process' run of t-0 never ends: its handler ignores the abort signal and
    // hangs until the process exits. Its lease, the group's slot, ends when the job is
    // handed back, at the shutdown timeout, before the app's close resolves and the process
    // exits: the slot ends then, not at the exit (the second run may start in between).
    const abandoned = spans.filter((span) => span.end === undefined);
    expect(abandoned.map((span) => [span.id, pidOf(span)])).toEqual([['t-0', first.pid]]);
    const handedBackBy = first.closed!.at;
    const most = mostAtOnce(onSecond, groupOfId, () => NaN);
    const result = await account(
      redis,
      s.marks,
      jobs.map((j) => j.id),
    );
    report('groups: grouped job handed back at shutdown', {
      groupConcurrency: 1,
      shutdownTimeoutMs: SHUTDOWN_TIMEOUT,
      visibilityTimeoutMs: VISIBILITY_TIMEOUT,
      closeMs: first.closed?.closeMs ?? -1,
      nextStartAfterSignalMs: firstStart - signalledAt,
      nextStartAfterCloseMs: firstStart - handedBackBy,
      nextStartBeforeExitMs: exit.at - firstStart,
      recoveredBySecond: recoveredCount(second),
      mostAtOnce: most.get('t') ?? 0,
    });
    // The job handed back keeps its place at the head of its group, and starts on the
    // other process as soon as the slot is free: after the shutdown timeout, long before
    // its lease would have run out, and not through a recovery.
    expect(handedBackRunStart).toBe(firstStart);
    expect(firstStart).toBeGreaterThanOrEqual(signalledAt + SHUTDOWN_TIMEOUT);
    expect(firstStart - signalledAt).toBeLessThanOrEqual(SHUTDOWN_TIMEOUT + 2_000);
    expect(recoveredCount(second)).toBe(0);
    // One at a time: the second process' runs one after another, all after the hand-back.
    expect(most.get('t')).toBe(1);
    expect(onSecond).toHaveLength(JOBS);
    expect(onSecond.filter((span) => span.end === undefined)).toEqual([]);
    expect(result).toMatchObject({ done: JOBS, missing: [], duplicates: [], unexpected: [] });
    expect(await redis.zcard(keys.processing)).toBe(0);
    expect(await redis.llen(keys.waiting)).toBe(0);
  }, 30_000);
});
