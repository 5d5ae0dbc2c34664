import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { FlumeEvents, Worker } from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, rawJob, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

@Worker('suspects')
class SuspectWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('SuspectWorker', [tag]);
  }
}

/** The field of a payload in the recoveries hash, as recover-5.lua writes it. */
function digest(payload: string): string {
  return createHash('sha1').update(payload).digest('hex');
}

describe('jobs whose worker kept dying', () => {
  const namespace = uniqueNamespace('poison-recovery');
  const keys = keysOf(namespace, 'suspects');
  const apps = new Apps();
  const store = testStore();
  /** Marks `payload` as handed back `times` times after its worker stopped mid-job. */
  const markRecovered = (payload: string, times: number) =>
    store.hset(keys.recoveries, digest(payload), times);
  const boot = (maxDemand = 10) =>
    apps.boot(
      {
        connection: testConnection(),
        namespace,
        pipelines: [{ name: 'suspects_pipeline', queue: 'suspects', maxDemand }],
        visibilityTimeout: 1_000,
        maxRecoveries: 2,
        instrument: true,
        logger: false,
      },
      [JobLog, SuspectWorker],
    );

  afterEach(() => apps.closeAll());
  afterAll(async () => {
    await store.deleteNamespace(namespace);
    store.close();
  });

  it('buries a job past maxRecoveries with the reason, and reports it as a dead job', async () => {
    const app = await boot();
    const dead = firstValueFrom(app.get(FlumeEvents).ofType('job:dead'));
    const payload = rawJob({
      queue: 'suspects',
      class: 'SuspectWorker',
      jid: 'poison-1',
      args: ['p'],
    });
    // A lease that expired a moment ago: its worker died while running it, a third time.
    await markRecovered(payload, 2);
    await store.hset(keys.leases, '900', payload);
    await store.zadd(keys.processing, Date.now() - 10, '900');

    const event = await dead;
    expect(event).toMatchObject({
      type: 'job:dead',
      queue: 'suspects',
      worker: 'SuspectWorker',
      jobId: 'poison-1',
      reason: 'lost its worker more than 2 time(s)',
    });
    const [buried] = await store.zrange(keys.dead, '0', '-1');
    expect(JSON.parse(buried)).toMatchObject({ jid: 'poison-1', args: ['p'] });
    expect(JSON.parse(buried).error_message).toMatch(/its worker stopped while running it 3 times/);
    expect(await store.zcard(keys.processing)).toBe(0);
    expect(await store.hlen(keys.leases)).toBe(0);
    expect(await store.hlen(keys.recoveries)).toBe(0);
    expect(app.get(JobLog).count()).toBe(0);
    await store.del(keys.dead);
  });

  it('runs jobs recovered twice one at a time, and the others of the same take after them', async () => {
    const app = await boot();
    const log = app.get(JobLog);
    const starts: { tag: string; running: number }[] = [];
    const worker = app.get(SuspectWorker);
    const perform = worker.perform.bind(worker);
    let running = 0;
    // Count overlapping runs: a recovered job must run alone.
    worker.perform = async (tag: string) => {
      running++;
      starts.push({ tag, running });
      await new Promise((resolve) => setImmediate(resolve));
      perform(tag);
      running--;
    };
    const jobs = [
      rawJob({ queue: 'suspects', class: 'SuspectWorker', jid: 's-1', args: ['s1'] }),
      rawJob({ queue: 'suspects', class: 'SuspectWorker', jid: 'g-1', args: ['g1'] }),
      rawJob({ queue: 'suspects', class: 'SuspectWorker', jid: 's-2', args: ['s2'] }),
      rawJob({ queue: 'suspects', class: 'SuspectWorker', jid: 'g-2', args: ['g2'] }),
    ];
    await markRecovered(jobs[0], 2);
    await markRecovered(jobs[2], 2);
    await store.rpush(keys.waiting, ...jobs);

    await log.untilCount(4, 'SuspectWorker');
    for (const tag of ['s1', 's2']) {
      expect(starts.find((s) => s.tag === tag)).toEqual({ tag, running: 1 });
    }
    expect(starts.map((s) => s.tag).sort()).toEqual(['g1', 'g2', 's1', 's2']);
    expect(await store.zcard(keys.dead)).toBe(0);
    // Each succeeded: its recovery count ended with it.
    expect(await store.hlen(keys.recoveries)).toBe(0);
  });

  // After a busy worker crashes, its dozens of in-flight jobs come back at once, each
  // recovered once: they must not cut the queue's throughput by running one by one.
  it('runs jobs recovered once side by side with the rest', async () => {
    const app = await boot(50);
    const worker = app.get(SuspectWorker);
    let running = 0;
    let most = 0;
    let done = 0;
    let release!: () => void;
    const allStarted = new Promise<void>((resolve) => (release = resolve));
    const finished = new Promise<void>((resolve) => {
      worker.perform = async () => {
        running++;
        most = Math.max(most, running);
        if (running === 50) release();
        await allStarted;
        running--;
        if (++done === 200) resolve();
      };
    });
    const jobs = Array.from({ length: 200 }, (_, i) =>
      rawJob({ queue: 'suspects', class: 'SuspectWorker', jid: `r-${i}`, args: [`r${i}`] }),
    );
    for (const payload of jobs.slice(0, 100)) await markRecovered(payload, 1);
    // And what a job's own JSON says counts for nothing (the old format's tail).
    for (let i = 100; i < 110; i++) jobs[i] = jobs[i].replace(/}$/, ',"recoveries":5}');
    await store.rpush(keys.waiting, ...jobs);

    await finished;
    expect(most).toBe(50);
    expect(await store.hlen(keys.recoveries)).toBe(0);
  });

  it('takes no recovery count from what a job’s own JSON says', async () => {
    const app = await boot();
    const log = app.get(JobLog);
    // Shaped like the old format's tail: must neither isolate nor bury the job.
    const payload = rawJob({
      queue: 'suspects',
      class: 'SuspectWorker',
      jid: 'fake-1',
      args: ['fake'],
    }).replace(/}$/, ',"recoveries":99}');
    await store.rpush(keys.waiting, payload);
    await log.untilCount(1, 'SuspectWorker');
    expect(await store.zcard(keys.dead)).toBe(0);
  });
});
