import 'reflect-metadata';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  FlumeConfigError,
  FlumeInspector,
  FlumeProducer,
  Periodic,
  Worker,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { RedisStore } from '../../lib/engine/redis-store.js';
import { Apps } from '../support/apps.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  rawJob,
  testConnection,
  uniqueNamespace,
} from '../support/redis.js';

/** Every second (6 fields: seconds first). */
@Periodic('* * * * * *', { name: 'heartbeat', args: ['beat'] })
@Worker('cron')
class BeatWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('BeatWorker', [tag, Date.now()]);
  }
}

/** Scheduled yearly: no tick falls inside a test, only the missed one counts. */
@Worker('cron-yearly')
class YearlyWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('YearlyWorker', [tag]);
  }
}

describe('periodic jobs', () => {
  const namespace = uniqueNamespace('periodic');
  const keys = keysOf(namespace, 'cron');
  const yearlyKeys = keysOf(namespace, 'cron-yearly');
  const apps = new Apps();
  const redis = inspector();
  const options = (extra: Partial<FlumeModuleOptions> = {}): FlumeModuleOptions => ({
    connection: testConnection(),
    namespace,
    pipelines: [
      { name: 'cron', queue: 'cron', maxDemand: 5 },
      { name: 'cron-yearly', queue: 'cron-yearly', maxDemand: 5 },
    ],
    logger: false,
    ...extra,
  });

  afterEach(async () => {
    await apps.closeAll();
    await deleteNamespace(redis, namespace);
  });
  afterAll(() => redis.disconnect());

  it('enqueues each tick once across three instances, none early', async () => {
    const log = new JobLog();
    const providers = [{ provide: JobLog, useValue: log }, BeatWorker];
    await Promise.all([1, 2, 3].map(() => apps.boot(options(), providers)));
    await log.untilCount(4, 'BeatWorker', 10_000);
    await apps.closeAll();

    const starts = log.performed.map((p) => p.args[1] as number);
    const seconds = starts.map((at) => Math.floor(at / 1000));
    // One job per tick: no second saw two, and the ticks follow each other.
    expect(new Set(seconds).size).toBe(seconds.length);
    const sorted = [...seconds].sort((a, b) => a - b);
    expect(sorted.at(-1)! - sorted[0]).toBe(sorted.length - 1);
    const last = Number(await redis.hget(keys.periodic, 'heartbeat'));
    expect(last % 1000).toBe(0);
    expect(Math.max(...starts)).toBeGreaterThanOrEqual(last);
  });

  it('runs the latest missed tick once on start with missed: run-once, and not with skip', async () => {
    const log = new JobLog();
    const providers = [{ provide: JobLog, useValue: log }, YearlyWorker];
    // Claimed years ago, then every instance was down: several ticks were missed.
    const longAgo = Date.parse('2023-01-01T00:00:00Z');
    await redis.hset(yearlyKeys.periodic, 'catch-up', longAgo, 'skipper', longAgo);
    const periodic = [
      {
        name: 'catch-up',
        cron: '0 0 1 1 *',
        worker: YearlyWorker,
        args: ['caught up'],
        missed: 'run-once' as const,
      },
      { name: 'skipper', cron: '0 0 1 1 *', worker: 'YearlyWorker', args: ['skipped'] },
    ];
    await Promise.all([1, 2].map(() => apps.boot(options({ periodic }), providers)));
    await log.untilCount(1, 'YearlyWorker');
    const app = await apps.boot(options({ periodic }), providers);
    const listed = await app.get(FlumeInspector).periodic();
    expect(listed.map((p) => p.name)).toEqual(['catch-up', 'skipper']);
    // Both instances started; only one ran the missed tick, and the skipper ran none.
    expect(log.performed.map((p) => p.args[0])).toEqual(['caught up']);
    expect(listed[0].lastRunAt!.getTime()).toBeGreaterThan(longAgo);
    expect(listed[1].lastRunAt!.getTime()).toBe(longAgo);
    expect(listed[0].nextRunAt!.getTime() % 60_000).toBe(0);
  });

  it('pauses and resumes a periodic job for every instance', async () => {
    const log = new JobLog();
    const app = await apps.boot(options(), [{ provide: JobLog, useValue: log }, BeatWorker]);
    const producer = app.get(FlumeProducer);
    await producer.pausePeriodic('heartbeat');
    const [status] = await app.get(FlumeInspector).periodic();
    expect(status).toMatchObject({
      name: 'heartbeat',
      paused: true,
      cron: '* * * * * *',
      tz: 'UTC',
    });
    await expect(producer.pausePeriodic('nope')).rejects.toThrow(
      new FlumeConfigError('No periodic job is named "nope" (there are: "heartbeat").'),
    );
    await producer.resumePeriodic('heartbeat');
    await log.untilCount(1, 'BeatWorker', 5_000);
  });

  it('claims a tick by its time: once, never before Redis says it is due', async () => {
    const store = new RedisStore(redis);
    const claim = (tick: number, extra: { catchUp?: boolean; name?: string } = {}) =>
      store.claimTick(yearlyKeys, {
        name: extra.name ?? 'by-hand',
        tick,
        catchUp: extra.catchUp ?? false,
        jid: `j-${tick}`,
        payload: rawJob({ queue: 'cron-yearly', class: 'YearlyWorker', jid: `j-${tick}` }),
      });
    const now = Date.now();
    expect((await claim(now + 5_000)).waitMs).toBeGreaterThan(3_000);
    expect(await claim(now - 1_000)).toEqual({ enqueued: true, waitMs: 0 });
    // Another instance, a second behind, at the same tick; then an older tick.
    expect(await claim(now - 1_000)).toEqual({ enqueued: false, waitMs: 0 });
    expect(await claim(now - 2_000)).toEqual({ enqueued: false, waitMs: 0 });
    // A missed tick is made up only for a job that ran before.
    expect(await claim(now - 500, { catchUp: true, name: 'never-ran' })).toEqual({
      enqueued: false,
      waitMs: 0,
    });
    expect(await claim(now - 500, { catchUp: true })).toEqual({ enqueued: true, waitMs: 0 });
    expect(await redis.llen(yearlyKeys.waiting)).toBe(2);
  });
});
