import 'reflect-metadata';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeInspector,
  FlumePayloadError,
  FlumeProducer,
  Worker,
} from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore } from '../../support/store.js';

/** Tags whose first attempt fails (to see a retry keep its priority). */
@Injectable()
class Flaky {
  readonly failFirst = new Set<string>();
}

@Worker('prio')
class PrioWorker {
  constructor(
    private readonly log: JobLog,
    private readonly flaky: Flaky,
  ) {}

  perform(tag: string): void {
    this.log.record('PrioWorker', [tag]);
    if (this.flaky.failFirst.delete(tag)) throw new Error(`first try of ${tag} fails`);
  }
}

describe('job priorities', () => {
  const namespace = uniqueNamespace('priorities');
  const keys = keysOf(namespace, 'prio');
  const apps = new Apps();
  const store = testStore();
  /** An app whose pipeline is paused: jobs wait until `resume`. */
  const boot = async (maxDemand = 1) => {
    const app = await apps.boot(
      {
        connection: testConnection(),
        namespace,
        pipelines: [{ name: 'prio', queue: 'prio', maxDemand }],
        backoffInitial: 10,
        backoffMax: 10,
        logger: false,
      },
      [JobLog, Flaky, PrioWorker],
    );
    await app.get(FlumeProducer).pause('prio');
    return app;
  };
  const resume = (app: INestApplicationContext) => app.get(FlumeProducer).resume('prio');
  const order = (log: JobLog) => log.performed.map((p) => p.args[0]);

  afterEach(async () => {
    await apps.closeAll();
    await store.deleteNamespace(namespace);
  });
  afterAll(() => store.close());

  it('takes higher priorities first, each priority in order, then the jobs without one', async () => {
    const app = await boot();
    const client = app.get(FlumeClient);
    await client.enqueue('prio', PrioWorker, ['plain-1']);
    await client.enqueue('prio', PrioWorker, ['five-1'], { priority: 5 });
    await client.enqueue('prio', PrioWorker, ['plain-2'], { priority: 0 });
    await client.enqueue('prio', PrioWorker, ['ten'], { priority: 10 });
    await client.bulkEnqueue(
      'prio',
      [
        { worker: PrioWorker, args: ['five-2'] },
        { worker: PrioWorker, args: ['plain-3'], priority: 0 },
        { worker: PrioWorker, args: ['hundred'], priority: 100 },
      ],
      { priority: 5 },
    );

    // Every waiting job is counted, and listed in the order it will run.
    expect(await client.jobCounts(['prio'])).toEqual({ prio: 7 });
    const inspector = app.get(FlumeInspector);
    const listed = async (from: number, limit: number) =>
      (await inspector.page('prio', 'waiting', { from, limit })).jobs.map((j) => j.job!.args[0]);
    const expected = ['hundred', 'ten', 'five-1', 'five-2', 'plain-1', 'plain-2', 'plain-3'];
    expect(await listed(0, 50)).toEqual(expected);
    // A page that starts after some marks shows the jobs those marks do not stand for.
    expect(await listed(2, 3)).toEqual(expected.slice(2, 5));
    const ten = (await inspector.page('prio', 'waiting')).jobs[1];
    expect(ten.job!.priority).toBe(10);
    expect(await inspector.find('prio', ten.jid!)).toMatchObject({
      state: 'waiting',
      job: { priority: 10 },
    });

    await resume(app);
    const log = app.get(JobLog);
    await log.untilCount(7);
    expect(order(log)).toEqual(expected);
    expect(await store.llen(keys.waiting)).toBe(0);
    expect(await store.zcard(`${keys.waiting}:prioritized`)).toBe(0);
  });

  it('keeps the priority of a scheduled job and of a retry', async () => {
    const app = await boot();
    await resume(app);
    const client = app.get(FlumeClient);
    const log = app.get(JobLog);
    app.get(Flaky).failFirst.add('flaky');
    await client.enqueue('prio', PrioWorker, ['flaky'], { priority: 3 });
    await log.untilCount(1);
    // Its retry is due in 10 ms; a scheduled one in 20 ms: both come back with priority.
    await client.enqueueIn('prio', 20, PrioWorker, ['later'], { priority: 7 });
    await log.untilCount(3);
    expect(order(log).sort()).toEqual(['flaky', 'flaky', 'later']);
    // While they waited, their payloads kept the priority: promote read it there.
    expect(await store.zcard(keys.retry)).toBe(0);
    expect(await store.zcard(keys.scheduled)).toBe(0);
    expect(await store.llen(keys.waiting)).toBe(0);
  });

  it('puts a promoted job with a priority ahead of the jobs waiting without one', async () => {
    const app = await boot();
    const client = app.get(FlumeClient);
    await client.bulkEnqueue(
      'prio',
      ['a', 'b', 'c'].map((tag) => ({ worker: PrioWorker, args: [tag] })),
    );
    await client.enqueueIn('prio', 1, PrioWorker, ['urgent'], { priority: 1 });
    // The paused pipeline's scheduler promotes the job; nothing is taken.
    const inspector = app.get(FlumeInspector);
    await expect
      .poll(async () => (await inspector.page('prio', 'waiting')).jobs.map((j) => j.job!.args[0]))
      .toEqual(['urgent', 'a', 'b', 'c']);
    await resume(app);
    const log = app.get(JobLog);
    await log.untilCount(4);
    expect(order(log)).toEqual(['urgent', 'a', 'b', 'c']);
  });

  it('keeps the priority of a job moved to the queue by retryNow', async () => {
    const app = await boot();
    const client = app.get(FlumeClient);
    const inspector = app.get(FlumeInspector);
    await client.bulkEnqueue('prio', [{ worker: PrioWorker, args: ['plain'] }]);
    const jid = await client.enqueueIn('prio', 3_600_000, PrioWorker, ['later'], { priority: 2 });
    expect(await inspector.retryNow('prio', 'scheduled', jid)).toBe(true);
    const waiting = (await inspector.page('prio', 'waiting')).jobs.map((j) => j.job!.args[0]);
    expect(waiting).toEqual(['later', 'plain']);
  });

  it('refuses a priority outside 0..100 or not an integer, before storing anything', async () => {
    const app = await boot();
    const client = app.get(FlumeClient);
    for (const priority of [-1, 101, 2.5, '5', Number.NaN]) {
      await expect(
        client.enqueue('prio', PrioWorker, ['x'], { priority: priority as number }),
      ).rejects.toBeInstanceOf(FlumePayloadError);
    }
    await expect(client.enqueue('prio', PrioWorker, ['x'], { priority: 101 })).rejects.toThrow(
      'priority must be an integer from 0 (the default) to 100, higher runs first, got: 101',
    );
    await expect(
      client.bulkEnqueue('prio', [
        { worker: PrioWorker, args: ['ok'], priority: 1 },
        { worker: PrioWorker, args: ['bad'], priority: -3 },
      ]),
    ).rejects.toThrow(/^Job 1 of the bulk enqueue: priority must be an integer/);
    expect(await store.llen(keys.waiting)).toBe(0);
    expect(await store.zcard(`${keys.waiting}:prioritized`)).toBe(0);
  });

  it('under load: each job with a priority starts before the jobs without one waiting when it came', async () => {
    const app = await boot(20);
    const client = app.get(FlumeClient);
    const plain = Array.from({ length: 2_000 }, (_, i) => ({
      worker: PrioWorker,
      args: [`p${i}`],
    }));
    await client.bulkEnqueue('prio', plain);
    const log = app.get(JobLog);
    await resume(app);
    await log.untilCount(100);
    // Enqueued while the pipeline drains, from many callers at once; each notes how many
    // jobs had started when Redis had it.
    const startedBefore = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await client.enqueue('prio', PrioWorker, [`u${i}`], { priority: 1 + (i % 5) });
        startedBefore.set(`u${i}`, log.count());
      }),
    );
    await log.untilCount(2_050);
    const tags = order(log) as string[];
    expect(new Set(tags).size).toBe(2_050);
    // Once stored, an urgent job waits at most for the jobs the pipeline already held
    // (maxDemand 20) and for the other urgent jobs (49): never for the plain jobs queued.
    for (const [tag, started] of startedBefore) {
      expect(tags.indexOf(tag), tag).toBeLessThan(started + 20 + 49 + 1);
    }
    const lastUrgent = Math.max(...[...startedBefore.keys()].map((tag) => tags.indexOf(tag)));
    expect(lastUrgent).toBeLessThan(1_000);
  });
});
