import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../lib/engine/keys.js';
import { recoverySweepMs } from '../../lib/engine/maintenance.js';
import { FAULT_QUEUE } from './fixtures/fixture-config.js';
import { account, jobIdOf, readRuns } from './support/accounting.js';
import { faultJobs, ProducerApp } from './support/producer-app.js';
import { report } from './support/report.js';
import { Scenario } from './support/scenario.js';

// Scenario 1 of issue 5, at full size: 1,000 jobs of 200 ms at concurrency 20; the
// worker process is killed with SIGKILL once 100 jobs have started, a new one starts.
const JOBS = 1_000;
const JOB_MS = 200;
const CONCURRENCY = 20;
const KILL_AFTER_STARTED = 100;
const VISIBILITY_TIMEOUT = 3_000;
const SWEEP = recoverySweepMs(VISIBILITY_TIMEOUT);
/** Room for two processes, Redis and other test runs on a 2-core machine. */
const SCHEDULING_SLACK = 1_000;

describe('fault: kill -9 of a worker process mid-job', () => {
  const scenario = new Scenario('kill9');
  afterAll(() => scenario.dispose());

  it('completes every job; orphans come back within the visibility timeout plus one sweep; duplicates only among them', async () => {
    const redis = scenario.inspector();
    const keys = queueKeys(scenario.namespace, FAULT_QUEUE);
    const jobs = faultJobs(JOBS, JOB_MS);
    const producer = await ProducerApp.open(scenario.url, scenario.namespace);
    await producer.enqueue(jobs);
    await producer.close();

    const options = { maxDemand: CONCURRENCY, flume: { visibilityTimeout: VISIBILITY_TIMEOUT } };
    const first = await scenario.spawn('worker-1', options);
    await first.until(
      () => first.startedCount >= KILL_AFTER_STARTED,
      `${KILL_AFTER_STARTED} started jobs`,
    );
    const killedAt = first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    // Nothing else runs now: the leases left in Redis are exactly the dead process's jobs.
    const orphans = new Set((await redis.hvals(keys.leases)).map(jobIdOf));
    const doneBeforeKill = new Set((await readRuns(redis, scenario.marks)).keys());
    expect(orphans.size).toBeGreaterThan(0);
    expect(orphans.size).toBeLessThanOrEqual(CONCURRENCY);

    const second = await scenario.spawn('worker-2', options);
    const recovered = () =>
      second
        .logsMatching(/^Recovered \d+ job/, 'warn')
        .reduce((sum, log) => sum + Number(/^Recovered (\d+)/.exec(log.message)![1]), 0);
    await second.until(
      () => recovered() >= orphans.size,
      `${orphans.size} orphaned jobs to be recovered`,
      VISIBILITY_TIMEOUT + 15_000,
    );
    let sum = 0;
    const recoveredAt = second.logsMatching(/^Recovered \d+ job/, 'warn').find((log) => {
      sum += Number(/^Recovered (\d+)/.exec(log.message)![1]);
      return sum >= orphans.size;
    })!.at;

    const left = jobs.map((j) => j.id).filter((id) => !doneBeforeKill.has(id) || orphans.has(id));
    await second.until(
      () => left.every((id) => second.finished.has(id)),
      `the ${left.length} jobs left`,
      60_000,
    );
    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    const result = await account(
      redis,
      scenario.marks,
      jobs.map((j) => j.id),
    );
    const recoveryMs = recoveredAt - killedAt;
    report('kill -9 mid-job', {
      jobs: JOBS,
      jobMs: JOB_MS,
      concurrency: CONCURRENCY,
      inFlightAtKill: orphans.size,
      completedBeforeKill: doneBeforeKill.size,
      duplicates: result.duplicates.length,
      visibilityTimeoutMs: VISIBILITY_TIMEOUT,
      sweepMs: SWEEP,
      recoveryMs,
      secondBootMs: second.readyAt! - killedAt,
    });
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.duplicates.filter((id) => !orphans.has(id))).toEqual([]);
    expect(recoveryMs).toBeLessThanOrEqual(VISIBILITY_TIMEOUT + SWEEP + SCHEDULING_SLACK);
    expect(await redis.zcard(keys.processing)).toBe(0);
    expect(await redis.llen(keys.waiting)).toBe(0);
    expect(await redis.zcard(keys.retry)).toBe(0);
    expect(await redis.zcard(keys.dead)).toBe(0);
  }, 90_000);
});
