import 'reflect-metadata';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FLUME_TEST_MODE,
  FlumeClient,
  FlumeConfigError,
  FlumeContext,
  FlumeEvents,
  FlumeInspector,
  FlumeModule,
  FlumeProducer,
  FlumeTesting,
  FlumeTestingModule,
  Worker,
  type FlumeEvent,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import { testConnection, uniqueNamespace } from '../support/redis.js';

/** Fails until `healthy`, recording each attempt with the clock as the handler saw it. */
@Injectable()
class Downstream {
  healthy = false;
}

@Worker('mail', { maxRetries: 3 })
class MailWorker {
  constructor(
    private readonly log: JobLog,
    private readonly downstream: Downstream,
  ) {}

  perform(to: string): void {
    this.log.record('mail', [to, FlumeContext.current()!.retryCount]);
    if (!this.downstream.healthy) throw new Error(`${to}: mailbox unavailable`);
  }
}

@Worker('later')
class LaterWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('later', [tag]);
  }
}

/** An app module that knows nothing of tests: the test switches it to memory mode. */
const APP_OPTIONS: FlumeModuleOptions = {
  pipelines: [
    { name: 'mail', queue: 'mail', maxDemand: 5 },
    { name: 'later', queue: 'later' },
  ],
  backoffInitial: 1_000,
  backoffMax: 8_000,
  instrument: true,
};
const PROVIDERS = [JobLog, Downstream, MailWorker, LaterWorker];

describe("test mode 'memory'", () => {
  const apps = new Apps();
  const overridden: INestApplicationContext[] = [];
  const connects: unknown[] = [];

  beforeAll(() => {
    // Any attempt to reach Redis shows up here.
    for (const client of [Redis, Cluster]) {
      vi.spyOn(client.prototype, 'connect').mockImplementation(function (this: unknown) {
        connects.push(this);
        return Promise.resolve();
      });
    }
  });

  afterEach(async () => {
    vi.useRealTimers();
    await apps.closeAll();
    await Promise.allSettled(overridden.splice(0).map((app) => app.close()));
  });

  afterAll(() => {
    vi.restoreAllMocks();
  });

  /** The app as it is, switched to memory mode by the test, as README shows. */
  async function bootApp(options: FlumeModuleOptions = {}): Promise<INestApplicationContext> {
    const moduleRef = await Test.createTestingModule({
      imports: [FlumeModule.forRoot({ ...APP_OPTIONS, ...options })],
      providers: PROVIDERS,
    })
      .overrideProvider(FLUME_TEST_MODE)
      .useValue('memory')
      .compile();
    overridden.push(moduleRef);
    await moduleRef.init();
    return moduleRef;
  }

  it('runs jobs through the pipelines, opens no Redis connection, and says nothing at boot', async () => {
    const logger = new CaptureLogger();
    const app = await apps.boot(
      { ...APP_OPTIONS, connection: { url: 'redis://127.0.0.1:1' }, logger, testing: 'memory' },
      PROVIDERS,
    );
    app.get(Downstream).healthy = true;
    await app.get(FlumeClient).enqueue('mail', MailWorker, ['ada@example.com']);
    await app.get(FlumeTesting).untilIdle();
    expect(app.get(JobLog).performed.map((p) => p.args)).toEqual([['ada@example.com', 0]]);
    expect(await app.get(FlumeInspector).queueStats('mail')).toEqual({
      waiting: 0,
      processing: 0,
      scheduled: 0,
      retry: 0,
      dead: 0,
    });
    expect(connects).toEqual([]);
    expect(logger.entries.filter((entry) => entry.level !== 'debug')).toEqual([]);
  });

  it('makes retries due with fake timers: backoff, then the dead set', async () => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    const app = await bootApp({ logger: new CaptureLogger() });
    const flume = app.get(FlumeTesting);
    const inspector = app.get(FlumeInspector);
    const log = app.get(JobLog);
    const events: FlumeEvent[] = [];
    app.get(FlumeEvents).events$.subscribe((event) => events.push(event));

    const jid = await app.get(FlumeClient).enqueue('mail', MailWorker, ['grace@example.com']);
    await flume.untilIdle();
    // The first attempt failed; the retry waits for its time, whatever the test waits.
    expect(log.count('mail')).toBe(1);
    const [retry] = await inspector.list('mail', 'retry');
    expect(retry.job).toMatchObject({
      jid,
      retry_count: 1,
      error_message: expect.stringMatching(/unavailable/),
    });
    const delay = retry.at.getTime() - Date.now();
    expect(delay).toBeGreaterThanOrEqual(1_000);
    expect(delay).toBeLessThanOrEqual(1_500);

    await vi.advanceTimersByTimeAsync(delay - 1);
    await flume.untilIdle();
    expect(log.count('mail')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await flume.untilIdle();
    expect(log.count('mail')).toBe(2);

    // Two more failures (backoff 2-3 s, then 4-6 s), and out of retries.
    await vi.advanceTimersByTimeAsync(3_000);
    await flume.untilIdle();
    await vi.advanceTimersByTimeAsync(6_000);
    await flume.untilIdle();
    expect(log.performed.map((p) => p.args[1])).toEqual([0, 1, 2, 3]);
    const [dead] = await inspector.list('mail', 'dead');
    expect(dead.job).toMatchObject({
      jid,
      retry_count: 3,
      error_message: expect.stringMatching(/unavailable/),
    });
    expect(events.filter((e) => e.type === 'job:retry')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'job:dead')).toHaveLength(1);

    // A dead job retried by hand runs again, from retry_count 0.
    app.get(Downstream).healthy = true;
    expect(await inspector.retryNow('mail', 'dead', jid)).toBe(true);
    await flume.untilIdle();
    expect(log.performed.at(-1)!.args).toEqual(['grace@example.com', 0]);
  });

  it('keeps unique jobs unique and enqueues periodic jobs on their ticks, on the test clock', async () => {
    vi.useFakeTimers({ now: new Date('2030-01-01T08:59:30Z') });
    const app = await bootApp({
      periodic: [{ name: 'nine', cron: '0 9 * * *', worker: LaterWorker, args: ['at nine'] }],
    });
    const flume = app.get(FlumeTesting);
    const client = app.get(FlumeClient);
    const log = app.get(JobLog);
    const first = await client.enqueueIn('later', 60_000, LaterWorker, ['once'], { unique: true });
    expect(await client.enqueueIn('later', 60_000, LaterWorker, ['once'], { unique: true })).toBe(
      first,
    );
    const [status] = await app.get(FlumeInspector).periodic();
    expect(status.nextRunAt).toEqual(new Date('2030-01-01T09:00:00Z'));

    // To 09:00: the tick enqueues its job; the unique job is not due yet.
    await vi.advanceTimersByTimeAsync(30_000);
    await flume.untilIdle();
    expect(log.performed.map((p) => p.args)).toEqual([['at nine']]);
    await vi.advanceTimersByTimeAsync(30_000);
    await flume.untilIdle();
    expect(log.performed.map((p) => p.args)).toEqual([['at nine'], ['once']]);
    // It finished: its lock is gone, and an equal job is a new one.
    expect(await client.enqueue('later', LaterWorker, ['once'], { unique: true })).not.toBe(first);
  });

  it('runs a scheduled job once the clock reaches its time, not before', async () => {
    vi.useFakeTimers();
    const app = await bootApp();
    const flume = app.get(FlumeTesting);
    const log = app.get(JobLog);
    await app.get(FlumeClient).enqueueIn('later', 3_600_000, LaterWorker, ['in an hour']);
    await flume.untilIdle();
    expect(log.count('later')).toBe(0);
    // The clock moved without any timer firing: untilIdle moves what is due itself.
    vi.setSystemTime(Date.now() + 3_600_000);
    await flume.untilIdle();
    expect(log.performed.map((p) => p.args)).toEqual([['in an hour']]);
  });

  it('counts a paused pipeline with waiting jobs as idle, and pauses and resumes for real', async () => {
    const app = await bootApp();
    const producer = app.get(FlumeProducer);
    app.get(Downstream).healthy = true;
    await producer.pause('mail');
    await app.get(FlumeClient).enqueue('mail', MailWorker, ['held@example.com']);
    await app.get(FlumeTesting).untilIdle();
    expect(app.get(JobLog).count('mail')).toBe(0);
    expect(await app.get(FlumeClient).jobCounts(['mail'])).toEqual({ mail: 1 });
    await producer.resume('mail');
    await app.get(FlumeTesting).untilIdle();
    expect(app.get(JobLog).count('mail')).toBe(1);
  });

  it('gives each app a store of its own, empty at boot', async () => {
    const first = await bootApp();
    await first.get(FlumeClient).enqueue('nobody-consumes', 'Remote', [1]);
    const second = await bootApp();
    expect(await first.get(FlumeClient).jobCounts(['nobody-consumes'])).toEqual({
      'nobody-consumes': 1,
    });
    expect(await second.get(FlumeClient).jobCounts(['nobody-consumes'])).toEqual({
      'nobody-consumes': 0,
    });
  });

  it('is a mode of FlumeTestingModule too', async () => {
    const app = await apps.bootModule(
      [FlumeTestingModule.forRoot({ mode: 'memory', ...APP_OPTIONS })],
      PROVIDERS,
    );
    app.get(Downstream).healthy = true;
    await app.get(FlumeClient).enqueue('mail', MailWorker, ['linus@example.com']);
    await app.get(FlumeTesting).untilIdle();
    expect(app.get(JobLog).count('mail')).toBe(1);
  });

  it("refuses the fake mode's tools, and runPipelines that leave a pipeline out", async () => {
    const app = await bootApp();
    const flume = app.get(FlumeTesting);
    expect(() => flume.enqueued()).toThrow(/in memory mode the pipelines run the jobs themselves/);
    await expect(flume.drain()).rejects.toThrow(FlumeConfigError);
    await expect(bootApp({ runPipelines: ['mail'] })).rejects.toThrow(
      /Invalid option "runPipelines" with testing: 'memory': it leaves out "later"/,
    );
  });

  it('untilIdle rejects in the fake mode and on Redis', async () => {
    const fake = await apps.boot({ ...APP_OPTIONS, testing: 'fake' }, PROVIDERS);
    await expect(fake.get(FlumeTesting).untilIdle()).rejects.toThrow(
      /the 'fake' test mode runs none/,
    );
    vi.restoreAllMocks();
    const onRedis = await apps.boot(
      {
        connection: testConnection(),
        namespace: uniqueNamespace('testing-memory'),
        logger: new CaptureLogger(),
      },
      [],
    );
    await expect(onRedis.get(FlumeTesting).untilIdle()).rejects.toThrow(
      /works on the memory store only/,
    );
  });
});
