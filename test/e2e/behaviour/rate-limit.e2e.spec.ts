import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeContext,
  FlumeInspector,
  Worker,
  type FlumeModuleOptions,
  type FlumePipelineOptions,
} from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { JobLog } from '../../support/job-log.js';
import { testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

/** A start as a handler saw it: sub-millisecond time, so windows are not blurred by rounding. */
interface Start {
  at: number;
  app: string;
  queue: string;
  retryCount: number;
}

/** Shared by every app of a test (provided with useValue), so starts are seen across apps. */
class Starts {
  readonly all: Start[] = [];
  readonly log = new JobLog();

  record(app: string, queue: string): void {
    const current = FlumeContext.current()!;
    this.all.push({
      at: performance.timeOrigin + performance.now(),
      app,
      queue,
      retryCount: current.retryCount,
    });
    this.log.record(queue, [app]);
  }
}

/** Which app a worker instance belongs to. */
class AppName {
  constructor(readonly name: string) {}
}

@Worker('rl')
class LimitedWorker {
  constructor(
    private readonly starts: Starts,
    private readonly app: AppName,
  ) {}

  perform(_i: number): void {
    this.starts.record(this.app.name, 'rl');
  }
}

@Worker('mail-a')
class MailAWorker {
  constructor(
    private readonly starts: Starts,
    private readonly app: AppName,
  ) {}

  perform(_i: number): void {
    this.starts.record(this.app.name, 'mail-a');
  }
}

@Worker('mail-b')
class MailBWorker {
  constructor(
    private readonly starts: Starts,
    private readonly app: AppName,
  ) {}

  perform(_i: number): void {
    this.starts.record(this.app.name, 'mail-b');
  }
}

/** Most starts in any window of `scaleMs` (half-open: [t, t + scaleMs)). */
function maxPerWindow(times: number[], scaleMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end] - sorted[start] < scaleMs) end++;
    max = Math.max(max, end - start);
  }
  return max;
}

describe('rate limits across app instances', () => {
  const namespace = uniqueNamespace('rate-limit');
  const apps = new Apps();
  let store: TestStore;

  beforeAll(() => {
    store = testStore();
  });

  afterEach(async () => {
    await apps.closeAll();
  });

  afterAll(async () => {
    await apps.closeAll();
    await store.deleteNamespace(namespace);
    store.close();
  });

  function boot(name: string, starts: Starts, pipelines: FlumePipelineOptions[]) {
    const options: FlumeModuleOptions = {
      connection: testConnection(),
      namespace,
      pipelines,
      logger: new CaptureLogger(),
    };
    return apps.boot(options, [
      { provide: Starts, useValue: starts },
      { provide: AppName, useValue: new AppName(name) },
      LimitedWorker,
      MailAWorker,
      MailBWorker,
    ]);
  }

  it('starts at most rateLimitCount jobs in any window of rateLimitScale, across three apps, near the limit', async () => {
    const LIMIT = 20;
    const SCALE = 500;
    const JOBS = 100;
    const starts = new Starts();
    const pipeline: FlumePipelineOptions = {
      name: 'rl',
      queue: 'rl',
      // Less than the limit: every window is shared by several apps' takes.
      maxDemand: 8,
      rateLimitCount: LIMIT,
      rateLimitScale: SCALE,
    };
    const booted: INestApplicationContext[] = [];
    for (const name of ['app1', 'app2', 'app3']) booted.push(await boot(name, starts, [pipeline]));

    const enqueuedAt = performance.timeOrigin + performance.now();
    await booted[0].get(FlumeClient).bulkEnqueue(
      'rl',
      Array.from({ length: JOBS }, (_, i) => ({ worker: LimitedWorker, args: [i] })),
    );
    // Once the first window is used up, the rest waits in the queue (not in retry).
    await starts.log.untilCount(LIMIT, 'rl');
    const midway = await booted[1].get(FlumeInspector).queueStats('rl');
    await starts.log.untilCount(JOBS, 'rl', 20_000);

    const times = starts.all.map((s) => s.at);
    const observedMax = maxPerWindow(times, SCALE);
    const elapsed = Math.max(...times) - enqueuedAt;
    const ideal = (JOBS / LIMIT - 1) * SCALE;
    const perApp = Object.fromEntries(
      ['app1', 'app2', 'app3'].map((a) => [a, starts.all.filter((s) => s.app === a).length]),
    );
    console.log(
      `[rate-limit] ${JOBS} jobs, limit ${LIMIT}/${SCALE} ms, 3 apps ${JSON.stringify(perApp)}: ` +
        `max starts in any ${SCALE} ms window = ${observedMax} (configured ${LIMIT}); ` +
        `first start ${(Math.min(...times) - enqueuedAt).toFixed(0)} ms, last start ${elapsed.toFixed(0)} ms after enqueue (ideal ${ideal} ms); ` +
        `throughput ${((JOBS / (elapsed + SCALE)) * 1000).toFixed(1)} jobs/s vs limit ${(LIMIT / SCALE) * 1000} jobs/s`,
    );

    expect(midway.retry).toBe(0);
    expect(midway.waiting).toBeGreaterThan(0);
    expect(observedMax).toBeLessThanOrEqual(LIMIT);
    expect(starts.all).toHaveLength(JOBS);
    expect(elapsed).toBeLessThanOrEqual((JOBS / LIMIT) * SCALE * 1.5 + SCALE);
    // Over the limit means wait, never fail: no retry, no dead job, every job ran once.
    expect(starts.all.every((s) => s.retryCount === 0)).toBe(true);
    const stats = await booted[2].get(FlumeInspector).queueStats('rl');
    expect(stats).toMatchObject({ waiting: 0, retry: 0, dead: 0, scheduled: 0 });
  });

  it('shares one limit between pipelines (and apps) with the same rateLimitKey', async () => {
    const LIMIT = 10;
    const SCALE = 400;
    const PER_QUEUE = 30;
    const starts = new Starts();
    const limit = { rateLimitCount: LIMIT, rateLimitScale: SCALE, rateLimitKey: 'provider' };
    const both: FlumePipelineOptions[] = [
      { name: 'mail_a', queue: 'mail-a', maxDemand: 4, ...limit },
      { name: 'mail_b', queue: 'mail-b', maxDemand: 4, ...limit },
    ];
    // app1 runs both pipelines (two limiters in one process), app2 runs only mail-b.
    const app1 = await boot('app1', starts, both);
    await boot('app2', starts, [both[1]]);

    const enqueuedAt = performance.timeOrigin + performance.now();
    const client = app1.get(FlumeClient);
    const jobs = (worker: typeof MailAWorker | typeof MailBWorker) =>
      Array.from({ length: PER_QUEUE }, (_, i) => ({ worker, args: [i] }));
    await Promise.all([
      client.bulkEnqueue('mail-a', jobs(MailAWorker)),
      client.bulkEnqueue('mail-b', jobs(MailBWorker)),
    ]);
    await starts.log.until(
      () => starts.log.count() >= 2 * PER_QUEUE,
      `${2 * PER_QUEUE} starts`,
      20_000,
    );

    const times = starts.all.map((s) => s.at);
    const observedMax = maxPerWindow(times, SCALE);
    const elapsed = Math.max(...times) - enqueuedAt;
    console.log(
      `[rate-limit] shared key: 2 queues x ${PER_QUEUE} jobs, limit ${LIMIT}/${SCALE} ms: ` +
        `max starts in any ${SCALE} ms window = ${observedMax} (configured ${LIMIT}); ` +
        `max per queue alone = ${maxPerWindow(
          starts.all.filter((s) => s.queue === 'mail-a').map((s) => s.at),
          SCALE,
        )}/${maxPerWindow(
          starts.all.filter((s) => s.queue === 'mail-b').map((s) => s.at),
          SCALE,
        )}; last start ${elapsed.toFixed(0)} ms after enqueue (ideal ${((2 * PER_QUEUE) / LIMIT - 1) * SCALE} ms)`,
    );

    expect(observedMax).toBeLessThanOrEqual(LIMIT);
    expect(starts.all).toHaveLength(2 * PER_QUEUE);
    expect(elapsed).toBeLessThanOrEqual(((2 * PER_QUEUE) / LIMIT) * SCALE * 1.5 + SCALE);
    expect(starts.all.every((s) => s.retryCount === 0)).toBe(true);
    const inspect = app1.get(FlumeInspector);
    for (const queue of ['mail-a', 'mail-b']) {
      expect(await inspect.queueStats(queue)).toMatchObject({ waiting: 0, retry: 0, dead: 0 });
    }
  });
});
