import 'reflect-metadata';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { FlumeEvents, Worker } from '../../lib/index.js';
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

@Worker('suspects')
class SuspectWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('SuspectWorker', [tag]);
  }
}

/** A payload as the recovery script leaves it: "recoveries" as its last field. */
function recovered(payload: string, recoveries: number): string {
  return `${payload.slice(0, -1)},"recoveries":${recoveries}}`;
}

describe('jobs whose worker kept dying', () => {
  const namespace = uniqueNamespace('poison-recovery');
  const keys = keysOf(namespace, 'suspects');
  const apps = new Apps();
  const redis = inspector();
  const boot = () =>
    apps.boot(
      {
        connection: testConnection(),
        namespace,
        pipelines: [{ name: 'suspects_pipeline', queue: 'suspects', maxDemand: 10 }],
        visibilityTimeout: 1_000,
        maxRecoveries: 2,
        instrument: true,
        logger: false,
      },
      [JobLog, SuspectWorker],
    );

  afterEach(() => apps.closeAll());
  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('buries a job past maxRecoveries with the reason, and reports it as a dead job', async () => {
    const app = await boot();
    const dead = firstValueFrom(app.get(FlumeEvents).ofType('job:dead'));
    const payload = recovered(
      rawJob({ queue: 'suspects', class: 'SuspectWorker', jid: 'poison-1', args: ['p'] }),
      2,
    );
    // A lease that expired a moment ago: its worker died while running it, a third time.
    await redis.zadd(keys.processing, Date.now() - 10, `900|${payload}`);

    const event = await dead;
    expect(event).toMatchObject({
      type: 'job:dead',
      queue: 'suspects',
      worker: 'SuspectWorker',
      jobId: 'poison-1',
      reason: 'lost its worker more than 2 time(s)',
    });
    const [buried] = await redis.zrange(keys.dead, '0', '-1');
    expect(JSON.parse(buried)).toMatchObject({ jid: 'poison-1', recoveries: 3 });
    expect(JSON.parse(buried).error_message).toMatch(/its worker stopped while running it 3 times/);
    expect(await redis.zcard(keys.processing)).toBe(0);
    expect(app.get(JobLog).count()).toBe(0);
    await redis.del(keys.dead);
  });

  it('runs recovered jobs one at a time, and the others of the same take after them', async () => {
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
      recovered(rawJob({ queue: 'suspects', class: 'SuspectWorker', jid: 's-1', args: ['s1'] }), 1),
      rawJob({ queue: 'suspects', class: 'SuspectWorker', jid: 'g-1', args: ['g1'] }),
      recovered(rawJob({ queue: 'suspects', class: 'SuspectWorker', jid: 's-2', args: ['s2'] }), 1),
      rawJob({ queue: 'suspects', class: 'SuspectWorker', jid: 'g-2', args: ['g2'] }),
    ];
    await redis.rpush(keys.waiting, ...jobs);

    await log.untilCount(4, 'SuspectWorker');
    for (const tag of ['s1', 's2']) {
      expect(starts.find((s) => s.tag === tag)).toEqual({ tag, running: 1 });
    }
    expect(starts.map((s) => s.tag).sort()).toEqual(['g1', 'g2', 's1', 's2']);
    expect(await redis.zcard(keys.dead)).toBe(0);
  });
});
