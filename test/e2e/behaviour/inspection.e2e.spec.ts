import 'reflect-metadata';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeContext,
  FlumeInspector,
  FlumePayloadError,
  FlumeProducer,
  Worker,
  type JobSetName,
} from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { Gate } from '../../support/gate.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

/** Whether the flaky downstream works yet, and the gate the long job waits on. */
@Injectable()
class World {
  healthy = false;
  readonly gate = new Gate();
}

@Worker('insp', { maxRetries: 1 })
class InspWorker {
  constructor(
    private readonly log: JobLog,
    private readonly world: World,
  ) {}

  /** 'long' waits for the gate; 'flaky' fails until the world is healthy. */
  async perform(kind: 'long' | 'flaky' | 'ok', tag: string): Promise<void> {
    this.log.record('insp', [tag, FlumeContext.current()!.retryCount]);
    if (kind === 'long') await this.world.gate.wait();
    if (kind === 'flaky' && !this.world.healthy) throw new Error(`${tag} is down`);
  }
}

describe('inspection', () => {
  const namespace = uniqueNamespace('inspection');
  const keys = keysOf(namespace, 'insp');
  const apps = new Apps();
  const jids: Record<string, string> = {};
  let app: INestApplicationContext;
  let client: FlumeClient;
  let inspect: FlumeInspector;
  let producer: FlumeProducer;
  let log: JobLog;
  let world: World;
  let store: TestStore;

  const runs = (tag: string) =>
    log.performed.filter((p) => p.args[0] === tag).map((p) => p.args[1] as number);

  beforeAll(async () => {
    store = testStore();
    app = await apps.boot(
      {
        connection: testConnection(),
        namespace,
        logger: new CaptureLogger(),
        // The first retry waits a minute: the job stays in the retry set for the test.
        backoffInitial: 60_000,
        backoffMax: 60_000,
        pipelines: [{ name: 'insp', queue: 'insp', maxDemand: 10 }],
      },
      [JobLog, World, InspWorker],
    );
    client = app.get(FlumeClient);
    inspect = app.get(FlumeInspector);
    producer = app.get(FlumeProducer);
    log = app.get(JobLog);
    world = app.get(World);
  });

  afterAll(async () => {
    world?.gate.open();
    await apps.closeAll();
    await store.deleteNamespace(namespace);
    store.close();
  });

  it('counts waiting, processing, scheduled, retry and dead jobs of a queue, and pending jobs here', async () => {
    jids.long = await client.enqueue('insp', InspWorker, ['long', 'long']);
    await log.until(() => runs('long').length === 1, 'the long job to start');

    jids.retried = await client.enqueue('insp', InspWorker, ['flaky', 'retried']);
    await expect.poll(() => store.zcard(keys.retry)).toBe(1);

    // Dead: out of retries at once, by hand (its retry_count says it had them all).
    jids.dead = 'dead-0001';
    await store.zadd(
      keys.dead,
      Date.now(),
      JSON.stringify({
        jid: jids.dead,
        queue: 'insp',
        class: 'InspWorker',
        args: ['flaky', 'dead'],
        retry_count: 1,
        enqueued_at: Date.now() / 1000 - 5,
        failed_at: Date.now() / 1000,
        error_message: 'dead is down',
      }),
    );
    const dueAt = Date.now() + 60_000;
    jids.scheduled = await client.enqueueAt('insp', new Date(dueAt), InspWorker, [
      'ok',
      'scheduled',
    ]);

    await producer.pause('insp');
    jids.w1 = await client.enqueue('insp', InspWorker, ['ok', 'w1']);
    jids.w2 = await client.enqueue('insp', InspWorker, ['ok', 'w2']);

    expect(await inspect.queueStats('insp')).toEqual({
      waiting: 2,
      processing: 1,
      scheduled: 1,
      retry: 1,
      dead: 1,
    });
    expect(await inspect.queueStats('nothing-here')).toEqual({
      waiting: 0,
      processing: 0,
      scheduled: 0,
      retry: 0,
      dead: 0,
    });
    expect(producer.pendingJobsCount('insp')).toBe(1);
    expect(producer.pipeline('insp').pendingJobsCount).toBe(1);
    expect(await client.jobCounts(['insp', 'nothing-here'])).toEqual({
      insp: 2,
      'nothing-here': 0,
    });
  });

  it('finds a job by id wherever it is: running, waiting, scheduled, retry, dead, or gone', async () => {
    const running = await inspect.find('insp', jids.long);
    expect(running).toMatchObject({
      state: 'running',
      job: { jid: jids.long, args: ['long', 'long'] },
    });
    expect(running.at!.getTime()).toBeGreaterThan(Date.now());
    expect(await inspect.find('insp', jids.w2)).toMatchObject({
      state: 'waiting',
      job: { jid: jids.w2, args: ['ok', 'w2'] },
    });
    const scheduled = await inspect.find('insp', jids.scheduled);
    expect(scheduled).toMatchObject({ state: 'scheduled', job: { jid: jids.scheduled } });
    expect(scheduled.at!.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await inspect.find('insp', jids.retried)).toMatchObject({
      state: 'retry',
      job: { jid: jids.retried, retry_count: 1, error_message: 'retried is down' },
    });
    expect(await inspect.find('insp', jids.dead)).toMatchObject({
      state: 'dead',
      job: { error_message: 'dead is down' },
    });
    expect(await inspect.find('insp', 'no-such-job')).toEqual({ state: 'gone', job: null });
    await expect(inspect.find('insp', 'not a jid')).rejects.toBeInstanceOf(FlumePayloadError);
  });

  it('lists the retry, scheduled and dead sets with their jobs and times', async () => {
    const [retry] = await inspect.list('insp', 'retry');
    expect(retry).toMatchObject({
      jid: jids.retried,
      job: { jid: jids.retried, retry_count: 1, error_message: 'retried is down' },
    });
    expect(retry.at).toBeInstanceOf(Date);
    expect(retry.at.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(JSON.parse(retry.payload).jid).toBe(jids.retried);

    const scheduled = await inspect.list('insp', 'scheduled');
    expect(scheduled.map((j) => [j.jid, j.job?.args])).toEqual([
      [jids.scheduled, ['ok', 'scheduled']],
    ]);
    expect(Math.abs(scheduled[0].at.getTime() - (Date.now() + 60_000))).toBeLessThan(10_000);

    const dead = await inspect.list('insp', 'dead');
    expect(dead.map((j) => [j.jid, j.job?.error_message])).toEqual([[jids.dead, 'dead is down']]);
    expect(await inspect.list('insp', 'dead', { offset: 1 })).toEqual([]);
    expect(await inspect.list('insp', 'dead', { limit: 1 })).toHaveLength(1);
  });

  it('runs a job of any set now: a dead job starts over with retry_count 0', async () => {
    world.healthy = true;
    await producer.resume('insp');
    await log.until(() => runs('w2').length === 1, 'waiting jobs after resume');

    expect(await inspect.retryNow('insp', 'dead', jids.dead)).toBe(true);
    await log.until(() => runs('dead').length === 1, 'the dead job to run');
    expect(runs('dead')).toEqual([0]);

    expect(await inspect.retryNow('insp', 'retry', jids.retried)).toBe(true);
    await log.until(() => runs('retried').length === 2, 'the retry to run now');
    // A retry keeps its count: it is the attempt that was due.
    expect(runs('retried')).toEqual([0, 1]);

    expect(await inspect.retryNow('insp', 'scheduled', jids.scheduled)).toBe(true);
    await log.until(() => runs('scheduled').length === 1, 'the scheduled job to run now');

    // Gone from their sets, and not there twice.
    expect(await inspect.retryNow('insp', 'dead', jids.dead)).toBe(false);
    await expect
      .poll(() => inspect.queueStats('insp'))
      .toEqual({ waiting: 0, processing: 1, scheduled: 0, retry: 0, dead: 0 });
    world.gate.open();
    await expect.poll(() => producer.pendingJobsCount('insp')).toBe(0);
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
  });

  it('deletes a job of a set by id', async () => {
    await producer.pause('insp');
    const later = await client.enqueueIn('insp', 60_000, InspWorker, ['ok', 'later']);
    const keep = await client.enqueueIn('insp', 60_000, InspWorker, ['ok', 'keep']);
    expect(await inspect.delete('insp', 'scheduled', later)).toBe(true);
    expect(await inspect.delete('insp', 'scheduled', later)).toBe(false);
    expect(await inspect.delete('insp', 'dead', keep)).toBe(false);
    expect((await inspect.list('insp', 'scheduled')).map((j) => j.jid)).toEqual([keep]);
    await producer.resume('insp');
  });

  it('rejects an unknown set, a malformed id and a bad queue name', async () => {
    await expect(inspect.list('insp', 'pending' as JobSetName)).rejects.toThrow(FlumePayloadError);
    await expect(inspect.retryNow('insp', 'dead', 'x*')).rejects.toThrow(
      'Expected a job id (letters, digits and dashes), got: x*',
    );
    await expect(inspect.queueStats('bad queue')).rejects.toThrow(/Invalid queue name/);
  });
});
