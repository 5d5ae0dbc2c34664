import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { Registry } from 'prom-client';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FlumeClient,
  FlumeConfigError,
  FlumeEvents,
  FlumeInspector,
  FlumeModule,
  FlumeTestingModule,
  Worker,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { FlumeMetrics, FlumeMetricsModule } from '../../lib/integrations/prometheus/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { within } from '../support/gate.js';
import { parseScrape } from '../support/prometheus-text.js';
import {
  deleteNamespace,
  inspector,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';
import { freePort } from '../support/redis-server.js';

@Worker('pm')
class PmWorker {
  perform(mode: 'ok' | 'fail'): void {
    if (mode === 'fail') throw new Error('boom');
  }
}

describe('FlumeMetricsModule (nestjs-flume/prometheus)', () => {
  const namespace = uniqueNamespace('prometheus');
  const apps = new Apps();
  let redis: TestRedis;
  const options = (over: Partial<FlumeModuleOptions> = {}): FlumeModuleOptions => ({
    connection: testConnection(),
    namespace,
    logger: new CaptureLogger(),
    maxRetries: 1,
    backoffInitial: 20,
    backoffMax: 20,
    schedulerPollInterval: 20,
    pipelines: [{ name: 'pm', queue: 'pm' }],
    ...over,
  });
  const boot = (registry: Registry, over?: Partial<FlumeModuleOptions>, cacheMs?: number) =>
    apps.bootModule(
      [
        FlumeModule.forRoot(options(over)),
        FlumeMetricsModule.forRoot({ registry, queues: ['pm-idle'], cacheMs }),
      ],
      [PmWorker],
    );

  beforeAll(() => {
    redis = inspector();
  });

  afterEach(() => apps.closeAll());

  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('counts jobs by outcome, times them, and reports queue counts read from Redis', async () => {
    const registry = new Registry();
    const app = await boot(registry);
    const client = app.get(FlumeClient);
    const dead = firstValueFrom(app.get(FlumeEvents).ofType('job:dead'));
    const ok = firstValueFrom(
      app
        .get(FlumeEvents)
        .ofType('job:success')
        .pipe(filter(() => ++succeeded === 2)),
    );
    let succeeded = 0;
    await client.enqueue('pm', PmWorker, ['ok']);
    await client.enqueue('pm', PmWorker, ['ok']);
    await client.enqueue('pm', PmWorker, ['fail']);
    await within(Promise.all([dead, ok]), 10_000, 'two successes and a death');
    await client.enqueue('pm-idle', 'Remote', [1]);
    await client.enqueue('pm-idle', 'Remote', [2]);
    await client.enqueueIn('pm-idle', 3_600_000, 'Remote', [3]);

    const scrape = parseScrape(await registry.metrics());
    const job = { queue: 'pm', worker: 'PmWorker' };
    expect(scrape.value('flume_jobs_processed_total', job)).toBe(2);
    expect(scrape.value('flume_jobs_failed_total', job)).toBe(2);
    expect(scrape.value('flume_jobs_retried_total', job)).toBe(1);
    expect(scrape.value('flume_jobs_dead_total', job)).toBe(1);
    expect(scrape.value('flume_job_run_duration_seconds_count', job)).toBe(4);
    expect(scrape.value('flume_job_wait_duration_seconds_count', job)).toBe(4);
    expect(scrape.value('flume_job_run_duration_seconds_bucket', { ...job, le: '+Inf' })).toBe(4);
    expect(scrape.value('flume_queue_jobs', { queue: 'pm', state: 'dead' })).toBe(1);
    expect(scrape.value('flume_queue_jobs', { queue: 'pm', state: 'waiting' })).toBe(0);
    expect(scrape.value('flume_queue_jobs', { queue: 'pm-idle', state: 'waiting' })).toBe(2);
    expect(scrape.value('flume_queue_jobs', { queue: 'pm-idle', state: 'scheduled' })).toBe(1);
    expect(scrape.value('flume_queue_jobs', { queue: 'pm-idle', state: 'running' })).toBe(0);
    expect(scrape.value('flume_queue_jobs', { queue: 'pm-idle', state: 'retry' })).toBe(0);
    expect(Object.fromEntries(scrape.types)).toMatchObject({
      flume_jobs_processed_total: 'counter',
      flume_jobs_failed_total: 'counter',
      flume_jobs_retried_total: 'counter',
      flume_jobs_dead_total: 'counter',
      flume_job_run_duration_seconds: 'histogram',
      flume_job_wait_duration_seconds: 'histogram',
      flume_queue_jobs: 'gauge',
    });
    expect(app.get(FlumeMetrics).registry).toBe(registry);
  });

  it('reads Redis once per cacheMs, however often it is scraped', async () => {
    const cached = new Registry();
    const app = await boot(cached, {}, 60_000);
    const reads = vi.spyOn(app.get(FlumeInspector), 'queueStats');
    await Promise.all([cached.metrics(), cached.metrics()]);
    await cached.metrics();
    // One read of each queue (pm, pm-idle) for three scrapes.
    expect(reads).toHaveBeenCalledTimes(2);
    await apps.close(app);

    const uncached = new Registry();
    const again = await boot(uncached, {}, 0);
    const readsAgain = vi.spyOn(again.get(FlumeInspector), 'queueStats');
    await uncached.metrics();
    await uncached.metrics();
    expect(readsAgain).toHaveBeenCalledTimes(4);
  });

  it('serves counters without queue counts while Redis is unreachable, and says so once', async () => {
    const registry = new Registry();
    const logger = new CaptureLogger();
    const port = await freePort();
    const app = await apps.bootModule(
      [
        FlumeModule.forRoot({
          ...options({ logger }),
          connection: { url: `redis://127.0.0.1:${port}` },
          commandTimeout: 200,
        }),
        FlumeMetricsModule.forRoot({ registry, cacheMs: 0 }),
      ],
      [PmWorker],
    );
    const first = parseScrape(await registry.metrics());
    const second = parseScrape(await registry.metrics());
    for (const scrape of [first, second]) {
      expect(scrape.samples.filter((s) => s.name === 'flume_queue_jobs')).toEqual([]);
      expect(scrape.types.get('flume_jobs_processed_total')).toBe('counter');
    }
    expect(logger.find(/Could not read the job counts/, 'warn')).toHaveLength(1);
    await apps.close(app);
  });

  it('refuses a registry another app already registered in, until that app closes', async () => {
    const registry = new Registry();
    const first = await boot(registry);
    await expect(boot(registry)).rejects.toThrow(FlumeConfigError);
    await expect(boot(registry)).rejects.toThrow(/already registered.*own registry/);
    await apps.close(first);
    const second = await boot(registry);
    expect(second.get(FlumeMetrics).registry).toBe(registry);
  });

  it('works in test mode, with counters and no queue counts', async () => {
    const registry = new Registry();
    const app: INestApplicationContext = await apps.bootModule(
      [FlumeTestingModule.forRoot({ mode: 'fake' }), FlumeMetricsModule.forRoot({ registry })],
      [PmWorker],
    );
    const scrape = parseScrape(await registry.metrics());
    expect(scrape.types.get('flume_jobs_processed_total')).toBe('counter');
    expect(scrape.samples.filter((s) => s.name === 'flume_queue_jobs')).toEqual([]);
    expect(app.get(FlumeMetrics)).toBeInstanceOf(FlumeMetrics);
  });
});
