import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FLUME_TEST_MODE, FlumeClient, FlumeInspector, FlumeTesting } from '../lib/index.js';
import { AppModule } from './app.module.js';
import { MailerService } from './mailer.service.js';
import { OutcomesService } from './outcomes.service.js';
import { inMemory } from './sample-store.js';
import { WorkloadService } from './workload.service.js';
import { EmailWorker } from './workers/email.worker.js';
import { ReportWorker } from './workers/report.worker.js';

/**
 * How to test an app that uses Flume, without Redis: import the app's module as it
 * is, switch Flume to its fake mode, then look at the enqueued jobs and run them
 * through the app's own workers with FlumeTesting.
 */
describe('the sample app, with Flume in fake mode', () => {
  let app: INestApplicationContext;
  let client: FlumeClient;
  let flume: FlumeTesting;
  /** A fake mail client: EmailWorker gets it by injection, as it would the real one. */
  const mailer = { send: vi.fn(async (_to: string, _subject: string) => undefined) };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.register(inMemory())] })
      // Flume in fake mode: jobs are kept in memory, and nothing runs them but drain().
      .overrideProvider(FLUME_TEST_MODE)
      .useValue('fake')
      .overrideProvider(MailerService)
      .useValue(mailer)
      .compile();
    app = await moduleRef.init();
    client = app.get(FlumeClient);
    flume = app.get(FlumeTesting);
  });

  afterEach(() => {
    flume.clear();
    mailer.send.mockClear();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('enqueues the workload, and nothing runs before the test drains it', async () => {
    const expected = await app.get(WorkloadService).enqueue();

    const jobs = flume.enqueued();
    expect(jobs).toHaveLength(expected.enqueued);
    expect(flume.enqueued('default')[0]).toMatchObject({
      class: 'EmailWorker',
      function: 'perform',
      args: ['user1@example.com', 'Welcome'],
    });
    expect(flume.enqueued('default').filter((job) => job.class === 'webhook')).toHaveLength(6);
    // enqueueIn / enqueueAt jobs carry their due time.
    expect(jobs.filter((job) => job.scheduled_at !== undefined)).toHaveLength(5);
    expect(mailer.send).not.toHaveBeenCalled();
  });

  it('EmailWorker sends the email through the mailer it is given', async () => {
    await client.enqueue('default', EmailWorker, ['ada@example.com', 'Hello']);

    const { performed, failed } = await flume.drain('default');

    expect(failed).toEqual([]);
    expect(performed).toHaveLength(1);
    expect(mailer.send).toHaveBeenCalledWith('ada@example.com', 'Hello');
  });

  it('reports a failing job instead of retrying it', async () => {
    await client.enqueue('reports', ReportWorker, ['corrupt-1']);
    await client.enqueue('reports', ReportWorker, ['r-1']);

    const { performed, failed } = await flume.drain('reports');

    expect(performed.map((job) => job.args)).toEqual([['r-1']]);
    expect(failed.map(({ job, error }) => [job.args, error.message])).toEqual([
      [['corrupt-1'], 'report corrupt-1: source data fails its checksum'],
    ]);
  });
});

/**
 * The same app with Flume in memory mode: its pipelines run the jobs for real (retries,
 * backoff, the dead set), and the test moves the clock to make retries due. README's
 * "Testing your app" shows this test.
 */
describe('the sample app, with Flume in memory mode', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries a webhook that fails twice, with backoff, on a clock the test moves', async () => {
    vi.useFakeTimers();
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.register(inMemory())] })
      .overrideProvider(FLUME_TEST_MODE)
      .useValue('memory') // pipelines run, on a store in memory: no Redis
      .compile();
    const app = await moduleRef.init();
    const flume = app.get(FlumeTesting);
    const inspector = app.get(FlumeInspector);
    const outcomes = app.get(OutcomesService);

    // WebhookWorker ('webhook') fails its first 2 attempts, then succeeds.
    await app.get(FlumeClient).enqueue('default', 'webhook', ['hook-1', 2]);
    await flume.untilIdle(); // the first attempt ran and failed; the retry is not due yet
    expect(outcomes.failedAttempts).toBe(1);
    const [retry] = await inspector.list('default', 'retry');
    expect(retry.job).toMatchObject({ args: ['hook-1', 2], retry_count: 1 });

    await vi.advanceTimersByTimeAsync(2_000); // backoffMax: the retry is due, and runs
    await flume.untilIdle();
    expect(outcomes.failedAttempts).toBe(2);

    await vi.advanceTimersByTimeAsync(2_000);
    await flume.untilIdle();
    expect(outcomes.succeeded).toBe(1);
    expect(await inspector.queueStats('default')).toMatchObject({ retry: 0, dead: 0 });
    await app.close();
  });
});
