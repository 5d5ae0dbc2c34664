import 'reflect-metadata';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeInspector,
  FlumePayloadError,
  FlumeProducer,
  Worker,
  type FlumePipelineOptions,
} from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { Gate } from '../../support/gate.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore } from '../../support/store.js';

/** The gate waiting jobs wait for; the most jobs of each group seen running at once. */
@Injectable()
class Hold {
  gate = new Gate();
  running = new Map<string, number>();
  most = new Map<string, number>();
}

@Worker('grp')
class GroupWorker {
  constructor(
    private readonly log: JobLog,
    private readonly hold: Hold,
  ) {}

  async perform(tag: string, wait = false): Promise<void> {
    const group = tag.split('-')[0];
    const { running, most } = this.hold;
    running.set(group, (running.get(group) ?? 0) + 1);
    most.set(group, Math.max(most.get(group) ?? 0, running.get(group)!));
    this.log.record('GroupWorker', [tag]);
    try {
      if (wait) await this.hold.gate.wait();
    } finally {
      running.set(group, running.get(group)! - 1);
    }
  }
}

describe('job groups', () => {
  const namespace = uniqueNamespace('groups');
  const keys = keysOf(namespace, 'grp');
  const apps = new Apps();
  const store = testStore();
  /** An app whose pipeline is paused until `resume`, so jobs can be queued first. */
  const boot = async (pipeline: Partial<FlumePipelineOptions> = {}) => {
    const app = await apps.boot(
      {
        connection: testConnection(),
        namespace,
        pipelines: [{ name: 'grp', queue: 'grp', maxDemand: 1, ...pipeline }],
        // A job still running at shutdown is handed back after this.
        shutdownTimeout: 100,
        logger: false,
      },
      [JobLog, Hold, GroupWorker],
    );
    await app.get(FlumeProducer).pause('grp');
    return app;
  };
  const resume = (app: INestApplicationContext) => app.get(FlumeProducer).resume('grp');
  const tags = (app: INestApplicationContext) =>
    app.get(JobLog).performed.map((p) => p.args[0] as string);
  const jobs = (group: string, count: number, wait = false) =>
    Array.from({ length: count }, (_, i) => ({
      worker: GroupWorker,
      args: [`${group}-${i}`, wait],
      group,
    }));

  afterEach(async () => {
    for (const app of apps.all) app.get(Hold).gate.open();
    await apps.closeAll();
    await store.deleteNamespace(namespace);
  });
  afterAll(() => store.close());

  it('takes the groups in turn, each in its order, however large one backlog is', async () => {
    const app = await boot();
    const client = app.get(FlumeClient);
    await client.bulkEnqueue('grp', jobs('big', 20));
    for (const group of ['a', 'b', 'c']) await client.bulkEnqueue('grp', jobs(group, 3));
    await client.enqueue('grp', GroupWorker, ['plain']);
    // Every job counts as waiting; the groups are listed with their backlogs.
    expect(await client.jobCounts(['grp'])).toEqual({ grp: 30 });
    expect(await app.get(FlumeInspector).groups('grp')).toEqual([
      { group: 'a', waiting: 3, running: 0, paused: false },
      { group: 'b', waiting: 3, running: 0, paused: false },
      { group: 'big', waiting: 20, running: 0, paused: false },
      { group: 'c', waiting: 3, running: 0, paused: false },
    ]);

    // The waiting page lists the jobs in the order they will be taken; find finds them.
    const inspector = app.get(FlumeInspector);
    const page = (from: number, limit: number) =>
      inspector
        .page('grp', 'waiting', { from, limit })
        .then((p) => p.jobs.map((j) => j.job!.args[0]));
    const expectedStart = ['big-0', 'a-0', 'b-0', 'c-0', 'big-1', 'a-1'];
    expect(await page(0, 6)).toEqual(expectedStart);
    expect(await page(4, 2)).toEqual(expectedStart.slice(4));
    const b2 = (await inspector.page('grp', 'waiting', { limit: 50 })).jobs.find(
      (j) => j.job!.args[0] === 'b-2',
    )!;
    expect(b2.job!.group).toBe('b');
    expect(await inspector.find('grp', b2.jid!)).toMatchObject({
      state: 'waiting',
      job: { group: 'b', args: ['b-2', false] },
    });

    await resume(app);
    await app.get(JobLog).untilCount(30);
    const order = tags(app);
    // Round robin: the small groups are done within the first 12 jobs, not after 20.
    expect(order.slice(0, 12)).toEqual([
      ...['big-0', 'a-0', 'b-0', 'c-0'],
      ...['big-1', 'a-1', 'b-1', 'c-1'],
      ...['big-2', 'a-2', 'b-2', 'c-2'],
    ]);
    expect(order.filter((tag) => tag.startsWith('big-'))).toEqual(
      Array.from({ length: 20 }, (_, i) => `big-${i}`),
    );
    expect(order).toContain('plain');
    expect(await store.llen(keys.waiting)).toBe(0);
    expect(await app.get(FlumeInspector).groups('grp')).toEqual([]);
  });

  it('runs at most groupConcurrency jobs of a group at once; other groups go on', async () => {
    const app = await boot({ maxDemand: 10, groupConcurrency: 2 });
    const client = app.get(FlumeClient);
    const log = app.get(JobLog);
    await client.bulkEnqueue('grp', jobs('slow', 6, true));
    await client.bulkEnqueue('grp', jobs('quick', 4));
    await resume(app);
    await log.until(
      () => tags(app).filter((t) => t.startsWith('quick')).length === 4,
      'the quick group to finish',
    );
    expect(tags(app).filter((t) => t.startsWith('slow'))).toEqual(['slow-0', 'slow-1']);
    // The quick jobs' leases end with their acknowledgement, a moment after they did.
    await expect
      .poll(() => app.get(FlumeInspector).groups('grp'))
      .toEqual([{ group: 'slow', waiting: 4, running: 2, paused: false }]);
    app.get(Hold).gate.open();
    await log.untilCount(10);
    expect(app.get(Hold).most.get('slow')).toBe(2);
    expect(tags(app).filter((t) => t.startsWith('slow'))).toEqual(
      Array.from({ length: 6 }, (_, i) => `slow-${i}`),
    );
  });

  it('caps the jobs of a queue running at once across instances with globalConcurrency', async () => {
    const pipeline = { maxDemand: 5, globalConcurrency: 3 };
    const first = await boot(pipeline);
    const second = await boot(pipeline);
    const client = first.get(FlumeClient);
    await client.bulkEnqueue(
      'grp',
      Array.from({ length: 8 }, (_, i) => ({ worker: GroupWorker, args: [`g${i}`, true] })),
    );
    await Promise.all([resume(first), resume(second)]);
    const started = () => first.get(JobLog).count() + second.get(JobLog).count();
    await expect.poll(started).toBe(3);
    // The others wait, though both processes have free slots.
    expect(await store.llen(keys.waiting)).toBe(5);
    expect(await store.zcard(keys.processing)).toBe(3);
    first.get(Hold).gate.open();
    second.get(Hold).gate.open();
    await expect.poll(started).toBe(8);
  });

  it('starts at most groupRateLimitCount jobs of a group in any window', async () => {
    const app = await boot({ maxDemand: 10, groupRateLimitCount: 2, groupRateLimitScale: 200 });
    const client = app.get(FlumeClient);
    await client.bulkEnqueue('grp', jobs('limited', 6));
    await client.bulkEnqueue('grp', jobs('other', 2));
    await resume(app);
    const log = app.get(JobLog);
    await log.untilCount(8);
    const starts = log.performed.filter((p) => String(p.args[0]).startsWith('limited'));
    // The window is stamped when a job is taken and kept a margin longer: starts hold it.
    for (let i = 2; i < starts.length; i++) {
      expect(starts[i].at - starts[i - 2].at).toBeGreaterThanOrEqual(200);
    }
    // The other group was not held by the limited one.
    const others = log.performed.filter((p) => String(p.args[0]).startsWith('other'));
    expect(others.at(-1)!.at).toBeLessThan(starts[2].at);
  });

  it('pauses and resumes one group for every instance', async () => {
    const app = await boot({ maxDemand: 5 });
    const inspector = app.get(FlumeInspector);
    await inspector.pauseGroup('grp', 'a');
    const client = app.get(FlumeClient);
    await client.bulkEnqueue('grp', [...jobs('a', 2), ...jobs('b', 2)]);
    await resume(app);
    const log = app.get(JobLog);
    await log.untilCount(2);
    expect(tags(app).sort()).toEqual(['b-0', 'b-1']);
    await expect
      .poll(() => inspector.groups('grp'))
      .toEqual([{ group: 'a', waiting: 2, running: 0, paused: true }]);
    await inspector.resumeGroup('grp', 'a');
    await log.untilCount(4);
    expect(tags(app).slice(2)).toEqual(['a-0', 'a-1']);
  });

  it('keeps the group of a scheduled job and of a job handed back at shutdown', async () => {
    const app = await boot({ maxDemand: 5, groupConcurrency: 1 });
    const client = app.get(FlumeClient);
    await client.enqueueIn('grp', 1, GroupWorker, ['t-later'], { group: 't' });
    // Due at once: promoted to its group, where it counts against the group's limit.
    await expect
      .poll(() => app.get(FlumeInspector).groups('grp'))
      .toEqual([{ group: 't', waiting: 1, running: 0, paused: false }]);
    await client.bulkEnqueue('grp', jobs('t', 2, true));
    await resume(app);
    const log = app.get(JobLog);
    await log.untilCount(2);
    // t-later ran, then t-0, which holds the group's one slot: t-1 waits.
    expect(tags(app)).toEqual(['t-later', 't-0']);
    // Shutting down hands t-0 back to the head of the queue; the next take puts it back
    // at the head of its group, ahead of t-1, still one at a time.
    await apps.close(app);
    expect(await store.llen(keys.waiting)).toBe(2);
    expect(await store.zcard(keys.processing)).toBe(0);
    const next = await boot({ maxDemand: 5, groupConcurrency: 1 });
    await resume(next);
    await next.get(JobLog).untilCount(1);
    expect(tags(next)).toEqual(['t-0']);
    next.get(Hold).gate.open();
    await next.get(JobLog).untilCount(2);
    expect(tags(next)).toEqual(['t-0', 't-1']);
  });

  it('puts a job moved to the queue by retryNow back in its group', async () => {
    const app = await boot();
    const client = app.get(FlumeClient);
    const inspector = app.get(FlumeInspector);
    const jid = await client.enqueueIn('grp', 3_600_000, GroupWorker, ['t-1'], { group: 't' });
    expect(await inspector.retryNow('grp', 'scheduled', jid)).toBe(true);
    expect(await inspector.groups('grp')).toEqual([
      { group: 't', waiting: 1, running: 0, paused: false },
    ]);
    await resume(app);
    await app.get(JobLog).untilCount(1);
    expect(tags(app)).toEqual(['t-1']);
  });

  it('refuses a bad group, and a group with a priority, before storing anything', async () => {
    const app = await boot();
    const client = app.get(FlumeClient);
    for (const group of ['', 'has space', 'a{b}', 'x'.repeat(201), 7]) {
      await expect(
        client.enqueue('grp', GroupWorker, ['x'], { group: group as string }),
      ).rejects.toBeInstanceOf(FlumePayloadError);
    }
    await expect(client.enqueue('grp', GroupWorker, ['x'], { group: 'a b' })).rejects.toThrow(
      'group must be a non-empty string of at most 200 bytes without braces or whitespace (a tenant id, say), got: "a b"',
    );
    await expect(
      client.enqueue('grp', GroupWorker, ['x'], { group: 't1', priority: 3 }),
    ).rejects.toThrow(/cannot have both a group and a priority/);
    await expect(app.get(FlumeInspector).pauseGroup('grp', 'a b')).rejects.toBeInstanceOf(
      FlumePayloadError,
    );
    expect(await store.llen(keys.waiting)).toBe(0);
  });
});
