import 'reflect-metadata';
import { hostname } from 'node:os';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeInspector,
  FlumePayloadError,
  FlumeProducer,
  Worker,
} from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { Gate } from '../support/gate.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  rawJob,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';

@Injectable()
class World {
  readonly gate = new Gate();
}

@Worker('pages', { maxRetries: 0 })
class PagesWorker {
  constructor(
    private readonly log: JobLog,
    private readonly world: World,
  ) {}

  async perform(kind: 'hold' | 'ok' | 'fail', tag: string): Promise<void> {
    this.log.record('pages', [kind, tag]);
    if (kind === 'hold') await this.world.gate.wait();
    if (kind === 'fail') throw new Error(`${tag} failed`);
  }
}

/** The extensions of FlumeInspector the dashboard reads and acts through. */
describe('FlumeInspector: pages, processes, history, bulk actions, pauses', () => {
  const namespace = uniqueNamespace('inspector-pages');
  const keys = keysOf(namespace, 'pages');
  const apps = new Apps();
  let app: INestApplicationContext;
  let inspect: FlumeInspector;
  let client: FlumeClient;
  let producer: FlumeProducer;
  let log: JobLog;
  let world: World;
  let redis: TestRedis;

  beforeAll(async () => {
    redis = inspector();
    app = await apps.boot(
      {
        connection: testConnection(),
        namespace,
        logger: new CaptureLogger(),
        pipelines: [{ name: 'pages-pipeline', queue: 'pages', maxDemand: 3 }],
      },
      [JobLog, World, PagesWorker],
    );
    inspect = app.get(FlumeInspector);
    client = app.get(FlumeClient);
    producer = app.get(FlumeProducer);
    log = app.get(JobLog);
    world = app.get(World);
  });

  afterAll(async () => {
    world?.gate.open();
    await apps.closeAll();
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('lists this process from its heartbeat, with the pipeline it runs', async () => {
    await expect.poll(async () => (await inspect.processes()).length).toBe(1);
    const [me] = await inspect.processes();
    expect(me).toMatchObject({
      host: hostname(),
      pid: process.pid,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      node: process.version,
      pipelines: [{ name: 'pages-pipeline', queue: 'pages', maxDemand: 3, paused: false }],
      workers: { pages: ['PagesWorker'] },
    });
    expect(me.heartbeatAt.getTime()).toBeGreaterThan(Date.now() - 10_000);
    expect(me.startedAt.getTime()).toBeLessThanOrEqual(me.heartbeatAt.getTime());
    expect(producer.pipelines().map((p) => p.name)).toEqual(['pages-pipeline']);
  });

  it('names the process holding each running job, and when it took it', async () => {
    const jid = await client.enqueue('pages', PagesWorker, ['hold', 'held']);
    await log.until(() => log.count('pages') === 1, 'the held job to start');
    // The heartbeat lists the lease within one beat (5 s).
    await expect
      .poll(async () => (await inspect.page('pages', 'running')).jobs[0]?.lease?.process, {
        timeout: 10_000,
      })
      .toBeDefined();
    const page = await inspect.page('pages', 'running');
    const [me] = await inspect.processes();
    expect(page.total).toBe(1);
    expect(page.jobs[0]).toMatchObject({ jid, lease: { process: me.id } });
    expect(page.jobs[0].lease!.takenAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(me.pipelines[0].running).toBe(1);
    world.gate.open();
  });

  it('pages the waiting list, filters it by worker and finds a job by id', async () => {
    await producer.pause('pages-pipeline');
    const payloads = Array.from({ length: 7 }, (_, i) =>
      rawJob({ queue: 'pages', class: i % 2 ? 'Other' : 'PagesWorker', jid: `w-${i}` }),
    );
    await redis.rpush(keys.waiting, ...payloads);

    const first = await inspect.page('pages', 'waiting', { limit: 3 });
    expect(first).toMatchObject({ total: 7, next: 3 });
    expect(first.jobs.map((job) => job.jid)).toEqual(['w-0', 'w-1', 'w-2']);
    expect(first.jobs[0].at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const last = await inspect.page('pages', 'waiting', { from: 6, limit: 3 });
    expect(last.jobs.map((job) => job.jid)).toEqual(['w-6']);
    expect(last.next).toBeNull();

    const others = await inspect.page('pages', 'waiting', { worker: 'Other', limit: 2 });
    expect(others.jobs.map((job) => job.jid)).toEqual(['w-1', 'w-3']);
    expect(others.next).toBe(4);
    const rest = await inspect.page('pages', 'waiting', { worker: 'Other', from: 4 });
    expect(rest.jobs.map((job) => job.jid)).toEqual(['w-5']);
    expect(rest.next).toBeNull();

    const found = await inspect.page('pages', 'waiting', { jid: 'w-4' });
    expect(found.jobs.map((job) => job.job?.class)).toEqual(['PagesWorker']);
    expect((await inspect.page('pages', 'waiting', { jid: 'nope' })).jobs).toEqual([]);
    expect((await inspect.list('pages', 'waiting', { limit: 2 })).map((j) => j.jid)).toEqual([
      'w-0',
      'w-1',
    ]);
    await redis.del(keys.waiting);
    await producer.resume('pages-pipeline');
  });

  it('rejects a bad page request before reading anything', async () => {
    await expect(inspect.page('pages', 'waiting', { limit: 0 })).rejects.toThrow(FlumePayloadError);
    await expect(inspect.page('pages', 'waiting', { from: -1 })).rejects.toThrow(FlumePayloadError);
    await expect(inspect.page('pages', 'waiting', { jid: 'x*' })).rejects.toThrow(
      'Expected a job id (letters, digits and dashes), got: x*',
    );
    await expect(inspect.page('pages', 'elsewhere' as 'dead')).rejects.toThrow(
      'Expected a list of jobs (waiting, running, scheduled, retry, dead), got: elsewhere',
    );
  });

  it('retries and deletes a set in bounded chunks', async () => {
    const now = Date.now();
    for (let i = 0; i < 5; i++) {
      const dead = JSON.parse(rawJob({ queue: 'pages', class: 'Gone', jid: `d-${i}` }));
      await redis.zadd(keys.dead, now + i, JSON.stringify({ ...dead, retry_count: 3 }));
    }
    await producer.pause('pages-pipeline');
    expect(await inspect.retryAll('pages', 'dead', { limit: 2 })).toEqual({ done: 2, left: 3 });
    const moved = (await redis.lrange(keys.waiting, 0, -1)).map((p) => JSON.parse(p));
    expect(moved.map((job) => [job.jid, job.retry_count])).toEqual([
      ['d-0', 0],
      ['d-1', 0],
    ]);
    expect(await inspect.deleteAll('pages', 'dead', { limit: 2 })).toEqual({ done: 2, left: 1 });
    expect(await inspect.deleteAll('pages', 'dead')).toEqual({ done: 1, left: 0 });
    expect(await inspect.deleteAll('pages', 'dead')).toEqual({ done: 0, left: 0 });
    await expect(inspect.retryAll('pages', 'dead', { limit: 1001 })).rejects.toThrow(
      FlumePayloadError,
    );
    await redis.del(keys.waiting);
    await producer.resume('pages-pipeline');
  });

  it('counts jobs processed and failed per minute, in counters that expire', async () => {
    const before = await inspect.history(['pages'], { minutes: 2 });
    const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
    const done = log.count('pages');
    await client.enqueue('pages', PagesWorker, ['ok', 'a']);
    await client.enqueue('pages', PagesWorker, ['ok', 'b']);
    await client.enqueue('pages', PagesWorker, ['fail', 'c']);
    await log.until(() => log.count('pages') === done + 3, 'three more jobs');
    await expect.poll(() => redis.zcard(keys.dead)).toBe(1);

    await expect
      .poll(async () => sum((await inspect.history(['pages'], { minutes: 2 })).processed.pages))
      .toBe(sum(before.processed.pages) + 2);
    const after = await inspect.history(['pages'], { minutes: 2 });
    expect(sum(after.failed.pages)).toBe(sum(before.failed.pages) + 1);
    expect(after.minutes).toBe(2);
    expect(after.processed.pages).toHaveLength(2);
    expect(Date.now() - after.from.getTime()).toBeLessThan(2 * 60_000);

    const minute = Math.floor(Date.now() / 60_000);
    const counter = (await redis.exists(`${keys.waiting}:processed:${minute}`))
      ? `${keys.waiting}:processed:${minute}`
      : `${keys.waiting}:processed:${minute - 1}`;
    const ttl = await redis.pttl(counter);
    expect(ttl).toBeGreaterThan(24 * 3600_000);
    expect(ttl).toBeLessThanOrEqual(25 * 3600_000);
    await expect(inspect.history(['pages'], { minutes: 24 * 60 + 1 })).rejects.toThrow(
      FlumePayloadError,
    );
  });

  it('pauses a pipeline for every instance by name, declared here or not', async () => {
    await inspect.pausePipeline('pages-pipeline');
    await inspect.pausePipeline('elsewhere');
    expect((await inspect.pausedPipelines()).sort()).toEqual(['elsewhere', 'pages-pipeline']);
    expect(producer.pipeline('pages-pipeline').isPaused).toBe(true);
    await inspect.resumePipeline('pages-pipeline');
    await inspect.resumePipeline('elsewhere');
    expect(await inspect.pausedPipelines()).toEqual([]);
    expect(producer.pipeline('pages-pipeline').isPaused).toBe(false);
  });

  it('drops a process whose heartbeat expired, and deletes its own at shutdown', async () => {
    const index = `${namespace}:processes:{processes}`;
    await redis.zadd(index, Date.now() - 60_000, 'gone-host:1:dead');
    expect((await inspect.processes()).map((p) => p.id)).not.toContain('gone-host:1:dead');
    expect(await redis.zscore(index, 'gone-host:1:dead')).toBeNull();

    const other = await apps.boot(
      { connection: testConnection(), namespace, logger: false, runPipelines: [] },
      [],
    );
    await expect.poll(async () => (await inspect.processes()).length).toBe(2);
    await apps.close(other);
    expect((await inspect.processes()).length).toBe(1);
  });
});
