import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FlumeClient, Worker, type FlumePipelineOptions } from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { JobLog } from '../../support/job-log.js';
import { testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

// Issue 9, section 9: two pipelines sharing a rate-limit key (20 per window, maxDemand
// 15, 30 jobs each). In about one try of four one pipeline waited a whole window with
// permits free and jobs waiting: the other had taken permits for its empty queue and
// given them back just after. The figures are the issue's, with the window (and the
// handlers) shortened so that many tries fit in a few seconds.
const LIMIT = 20;
const SCALE = 300;
const HANDLER_MS = SCALE / 10;
const MAX_DEMAND = 15;
const PER_QUEUE = 30;
const TRIES = 12;

/** Start times (performance.now()) of every job, whichever pipeline ran it. */
class Starts {
  readonly log = new JobLog();
  readonly times: number[] = [];

  record(queue: string): void {
    this.times.push(performance.now());
    this.log.record(queue, []);
  }
}

@Worker('wake-a')
class WakeAWorker {
  constructor(private readonly starts: Starts) {}

  async perform(): Promise<void> {
    this.starts.record('wake-a');
    // The job's own work: it holds its slot for a tenth of the window.
    await sleep(HANDLER_MS);
  }
}

@Worker('wake-b')
class WakeBWorker {
  constructor(private readonly starts: Starts) {}

  async perform(): Promise<void> {
    this.starts.record('wake-b');
    await sleep(HANDLER_MS);
  }
}

/**
 * Starts in each window. The limiter lets a burst of starts through each time permits
 * expire, so a window is a burst: a start more than half a scale after the previous
 * one opens the next. (Fixed windows from the first start would blur: a first start
 * delayed by a cold start puts the next window's burst in the first window.)
 */
function perWindow(times: number[]): number[] {
  const sorted = [...times].sort((a, b) => a - b);
  const counts = [1];
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] - sorted[i - 1] > SCALE / 2) counts.push(0);
    counts[counts.length - 1]++;
  }
  return counts;
}

/** Most starts in any window of `SCALE` (half-open), as the limit is defined. */
function maxInAnyWindow(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end] - sorted[start] < SCALE) end++;
    max = Math.max(max, end - start);
  }
  return max;
}

describe('pipelines sharing a rate-limit key in one process', () => {
  const apps = new Apps();
  const store = testStore();
  const namespaces: string[] = [];

  afterEach(() => apps.closeAll());
  afterAll(async () => {
    for (const namespace of namespaces) await store.deleteNamespace(namespace);
    store.close();
  });

  async function runOnce(): Promise<{ windows: number[]; max: number }> {
    const namespace = uniqueNamespace(`rate-limit-wake-${namespaces.length}`);
    namespaces.push(namespace);
    const limit = { rateLimitCount: LIMIT, rateLimitScale: SCALE, rateLimitKey: 'provider' };
    const pipelines: FlumePipelineOptions[] = [
      { name: 'wake_a', queue: 'wake-a', maxDemand: MAX_DEMAND, ...limit },
      { name: 'wake_b', queue: 'wake-b', maxDemand: MAX_DEMAND, ...limit },
    ];
    const starts = new Starts();
    const app = await apps.boot(
      { connection: testConnection(), namespace, pipelines, logger: new CaptureLogger() },
      [{ provide: Starts, useValue: starts }, WakeAWorker, WakeBWorker],
    );
    const client = app.get(FlumeClient);
    const jobs = (worker: typeof WakeAWorker | typeof WakeBWorker) =>
      Array.from({ length: PER_QUEUE }, () => ({ worker, args: [] }));
    await Promise.all([
      client.bulkEnqueue('wake-a', jobs(WakeAWorker)),
      client.bulkEnqueue('wake-b', jobs(WakeBWorker)),
    ]);
    await starts.log.untilCount(2 * PER_QUEUE);
    await apps.closeAll();
    return { windows: perWindow(starts.times), max: maxInAnyWindow(starts.times) };
  }

  it(`reach the limit in every window but the last, try after try (${TRIES} tries)`, async () => {
    const tries: { windows: number[]; max: number }[] = [];
    for (let i = 0; i < TRIES; i++) tries.push(await runOnce());
    console.log(
      `[rate-limit] shared key, 2 pipelines x ${PER_QUEUE} jobs, limit ${LIMIT}/${SCALE} ms, ` +
        `starts per window in each try: ${tries.map((t) => t.windows.join('/')).join('  ')}`,
    );
    for (const { windows, max } of tries) {
      // The last window starts what is left; every other one is full, or nearly.
      for (const count of windows.slice(0, -1)) expect(count).toBeGreaterThanOrEqual(LIMIT * 0.9);
      expect(max).toBeLessThanOrEqual(LIMIT);
    }
  }, 60_000);
});
