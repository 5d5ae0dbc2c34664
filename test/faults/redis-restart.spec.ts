import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../lib/engine/keys.js';
import { FAULT_QUEUE } from './fixtures/fixture-config.js';
import { readRuns } from './support/accounting.js';
import { resumeAndSettle, startSteadyLoad } from './support/outage-load.js';
import { recoveredCount, rejectionWindow, report } from './support/report.js';
import { Scenario } from './support/scenario.js';

// Scenario 3 of issue 5: a steady enqueue load (one job every 10 ms from a producer
// app), a worker app, and Redis (own redis-server, AOF on) stopped for 5 s and
// started again on the same port and files.
const OUTAGE_MS = 5_000;
/** How long an enqueue waits for Redis before it rejects. */
const COMMAND_TIMEOUT = 1_000;
const RESUME_WITHIN_MS = 5_000;

interface Outage {
  name: string;
  /** SIGTERM: Redis shuts down cleanly. SIGKILL: a crash; only what reached the AOF survives. */
  signal: 'SIGTERM' | 'SIGKILL';
  /** More redis-server arguments. */
  args: string[];
  /** Longer than the outage: leases of jobs waiting on Redis must not expire meanwhile. */
  visibilityTimeout: number;
  /** Longest wait for the jobs to settle once the load stops. Default: the visibility timeout + 15 s. */
  settleWithinMs?: number;
}

/** Runs the scenario; asserts what must hold in every variant and returns the figures. */
async function runOutage(scenario: Scenario, outage: Outage) {
  const server = await scenario.ownRedis({ aof: true, args: outage.args });
  const redis = scenario.inspector();
  const keys = queueKeys(scenario.namespace, FAULT_QUEUE);
  const flume = { visibilityTimeout: outage.visibilityTimeout, commandTimeout: COMMAND_TIMEOUT };
  const { worker, producer, both } = await startSteadyLoad(scenario, flume, 'the outage');

  const enqueuedBefore = producer.enqueued.length;
  const stoppedAt = Date.now();
  await server.stop(outage.signal);
  await sleep(OUTAGE_MS); // The outage itself: the fault being injected, not a wait for an event.
  await server.start();
  const restartedAt = Date.now();
  const { workerResumeMs, resolved, allDoneMs, exits } = await resumeAndSettle({
    worker,
    producer,
    redis,
    keys,
    endedAt: restartedAt,
    settleWithinMs: outage.settleWithinMs ?? outage.visibilityTimeout + 15_000,
    outage: 'the restart',
  });

  const runs = await readRuns(redis, scenario.marks);
  const rejected = producer.rejected;
  const figures = {
    outageMs: OUTAGE_MS,
    downMs: restartedAt - stoppedAt,
    visibilityTimeoutMs: outage.visibilityTimeout,
    enqueued: resolved.size,
    enqueuedBeforeOutage: enqueuedBefore,
    done: [...resolved].filter((id) => runs.has(id)).length,
    rejected: rejected.length,
    rejectedButStored: rejected.filter((r) => runs.has(r.id)).length,
    rejectedForMs: rejectionWindow(rejected),
    duplicates: [...runs.values()].filter((n) => n > 1).length,
    leasesRecovered: recoveredCount(worker),
    workerResumeMs,
    allDoneMsAfterProducerStopped: allDoneMs,
  };
  report(`Redis ${outage.name} for 5 s, restarted with AOF, under enqueue load`, figures);

  expect(exits.map((e) => e.code)).toEqual([0, 0]);
  for (const p of both) p.assertNoCrash();
  expect([...resolved].filter((id) => !runs.has(id))).toEqual([]);
  expect(rejected.length).toBeGreaterThan(0);
  for (const r of rejected) expect(r.error).toMatch(/^FlumeConnectionError: /);
  const unknownOutcome = [...runs.keys()].filter(
    (id) => !resolved.has(id) && !rejected.some((r) => r.id === id),
  );
  expect(unknownOutcome).toEqual([]);
  expect(workerResumeMs).toBeLessThanOrEqual(RESUME_WITHIN_MS);
  // A job runs twice only if its lease was recovered: at most the leases recovered.
  expect(figures.duplicates).toBeLessThanOrEqual(figures.leasesRecovered);
  expect(await redis.zcard(keys.retry)).toBe(0);
  expect(await redis.zcard(keys.dead)).toBe(0);
  return figures;
}

describe('fault: Redis stopped for 5 s and restarted under enqueue load', () => {
  const scenarios: Scenario[] = [];
  const scenario = (name: string) => {
    const s = new Scenario(name);
    scenarios.push(s);
    return s;
  };
  afterAll(() => Promise.all(scenarios.map((s) => s.dispose())));

  it('shut down (SIGTERM): every enqueue resolves (its job is then done) or rejects; the worker resumes; nothing crashes', async () => {
    await runOutage(scenario('restart-term'), {
      name: 'shut down (SIGTERM)',
      signal: 'SIGTERM',
      args: [],
      visibilityTimeout: 15_000,
    });
  }, 90_000);

  it('killed (SIGKILL, appendfsync always): the same holds after a crash of Redis', async () => {
    await runOutage(scenario('restart-kill'), {
      name: 'killed (SIGKILL, appendfsync always)',
      signal: 'SIGKILL',
      args: ['--appendfsync', 'always'],
      visibilityTimeout: 15_000,
    });
  }, 90_000);

  // A take in flight when Redis goes away may have run or not: the command connection
  // does not send it again on reconnect (autoResendUnfulfilledCommands off), which would
  // lease up to maxDemand jobs to no one until the visibility timeout (10 min by default).
  it('shut down (SIGTERM): no job is left leased to no one', async () => {
    const figures = await runOutage(scenario('restart-ghost-take'), {
      name: 'shut down (SIGTERM), long visibility timeout',
      signal: 'SIGTERM',
      args: [],
      visibilityTimeout: 600_000,
      settleWithinMs: 15_000,
    });
    expect(figures.leasesRecovered).toBe(0);
  }, 120_000);
});
