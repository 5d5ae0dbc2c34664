import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../lib/engine/keys.js';
import { FAULT_QUEUE } from './fixtures/fixture-config.js';
import { account } from './support/accounting.js';
import { untilAll, type AppProcess } from './support/app-process.js';
import { faultJobs, ProducerApp } from './support/producer-app.js';
import { report } from './support/report.js';
import { Scenario } from './support/scenario.js';

// Scenario 5 of issue 5: three app processes on one Redis.
const INSTANCES = 3;

async function spawnInstances(scenario: Scenario, overrides: Parameters<Scenario['spawn']>[1]) {
  return Promise.all(
    Array.from({ length: INSTANCES }, (_, i) => scenario.spawn(`instance-${i + 1}`, overrides)),
  );
}

async function closeAll(apps: AppProcess[]): Promise<void> {
  for (const app of apps) app.kill('SIGTERM');
  const exits = await Promise.all(apps.map((app) => app.exited));
  expect(exits.map((e) => e.code)).toEqual(apps.map(() => 0));
}

describe('fault: many instances on one Redis', () => {
  const scenario = new Scenario('instances');
  afterAll(() => scenario.dispose());

  it('runs each of 10,000 jobs scheduled for the same second exactly once', async () => {
    const JOBS = 10_000;
    const redis = scenario.inspector();
    const keys = queueKeys(scenario.namespace, FAULT_QUEUE);
    const apps = await spawnInstances(scenario, {
      maxDemand: 50,
      flume: { visibilityTimeout: 10_000, schedulerPollInterval: 1_000 },
    });
    const jobs = faultJobs(JOBS, 0);
    const producer = await ProducerApp.open(scenario.url, scenario.namespace);
    // The next whole second at least 2 s away: time to write them all before it.
    const dueAt = new Date(Math.ceil((Date.now() + 2_000) / 1_000) * 1_000);
    await producer.enqueueAt(jobs, dueAt);
    const enqueuedBy = Date.now();
    await producer.close();
    expect(await redis.zcard(keys.scheduled)).toBe(JOBS);

    const total = () => apps.reduce((sum, app) => sum + app.finishedCount, 0);
    await untilAll(apps, () => total() >= JOBS, `${JOBS} jobs finished`, 60_000);
    const firstStart = Math.min(...apps.map((app) => Math.min(...app.startTimes)));
    const lastFinish = Math.max(...apps.map((app) => app.lastFinishAt ?? 0));
    await closeAll(apps);

    const result = await account(
      redis,
      scenario.marks,
      jobs.map((j) => j.id),
    );
    report('many instances, 10,000 jobs due the same second', {
      jobs: JOBS,
      instances: INSTANCES,
      perInstance: apps.map((app) => app.finishedCount).join('/'),
      done: result.done,
      duplicates: result.duplicates.length,
      enqueuedMsBeforeDue: dueAt.getTime() - enqueuedBy,
      firstStartMsAfterDue: firstStart - dueAt.getTime(),
      lastFinishMsAfterDue: lastFinish - dueAt.getTime(),
    });
    expect(result).toMatchObject({ done: JOBS, missing: [], duplicates: [], unexpected: [] });
    // Scheduled jobs do not run early (clock of this machine; Redis runs on it too).
    expect(firstStart).toBeGreaterThanOrEqual(dueAt.getTime() - 5);
    for (const key of [keys.scheduled, keys.processing, keys.retry, keys.dead]) {
      expect(await redis.zcard(key), key).toBe(0);
    }
    expect(await redis.llen(keys.waiting)).toBe(0);
  }, 90_000);

  it('keeps a rate limit of 100 jobs per second shared by the three', async () => {
    const JOBS = 400;
    const LIMIT = 100;
    const WINDOW_MS = 1_000;
    const limited = new Scenario('instances-limit');
    try {
      const apps = await spawnInstances(limited, {
        maxDemand: 50,
        pipeline: { rateLimitCount: LIMIT, rateLimitScale: WINDOW_MS },
      });
      const producer = await ProducerApp.open(limited.url, limited.namespace);
      const jobs = faultJobs(JOBS, 0);
      await producer.enqueue(jobs);
      await producer.close();
      const total = () => apps.reduce((sum, app) => sum + app.finishedCount, 0);
      await untilAll(apps, () => total() >= JOBS, `${JOBS} jobs finished`, 30_000);
      await closeAll(apps);

      const starts = apps.flatMap((app) => app.startTimes).sort((a, b) => a - b);
      let busiest = 0;
      for (let i = 0, j = 0; i < starts.length; i++) {
        while (starts[i] - starts[j] >= WINDOW_MS) j++;
        busiest = Math.max(busiest, i - j + 1);
      }
      const result = await account(
        limited.inspector(),
        limited.marks,
        jobs.map((j) => j.id),
      );
      report('many instances, shared rate limit 100/s', {
        jobs: JOBS,
        instances: INSTANCES,
        perInstance: apps.map((app) => app.finishedCount).join('/'),
        busiestWindow: busiest,
        spanMs: starts[starts.length - 1] - starts[0],
        duplicates: result.duplicates.length,
      });
      expect(starts).toHaveLength(JOBS);
      expect(busiest).toBeLessThanOrEqual(LIMIT);
      expect(result).toMatchObject({ done: JOBS, duplicates: [], missing: [] });
    } finally {
      await limited.dispose();
    }
  }, 60_000);
});
