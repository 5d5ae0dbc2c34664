import 'reflect-metadata';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlumeClient, FlumeModule, Handler, Worker } from '../../../lib/index.js';
import { JobLog } from '../../support/job-log.js';
import { testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

@Injectable()
class Greeter {
  greet(name: string): string {
    return `hello ${name}`;
  }
}

@Worker('default')
class GreetWorker {
  constructor(
    private readonly greeter: Greeter,
    private readonly log: JobLog,
  ) {}

  async perform(name: string, times: number): Promise<void> {
    this.log.record('GreetWorker', [this.greeter.greet(name), times]);
  }

  @Handler()
  async shout(name: string): Promise<void> {
    this.log.record('GreetWorker.shout', [name.toUpperCase()]);
  }
}

@Worker('default', { name: 'renamed-worker', method: 'handle' })
class RenamedWorker {
  constructor(private readonly log: JobLog) {}

  handle(value: number): void {
    this.log.record('renamed-worker', [value]);
  }
}

describe('enqueue and perform', () => {
  const namespace = uniqueNamespace('enqueue-perform');
  let app: INestApplicationContext;
  let client: FlumeClient;
  let log: JobLog;
  let store: TestStore;

  beforeAll(async () => {
    store = testStore();
    const moduleRef = await Test.createTestingModule({
      imports: [
        FlumeModule.forRoot({
          connection: testConnection(),
          namespace,
          pipelines: [{ name: 'default_pipeline', queue: 'default', maxDemand: 10 }],
        }),
      ],
      providers: [Greeter, JobLog, GreetWorker, RenamedWorker],
    }).compile();
    app = await moduleRef.init();
    client = app.get(FlumeClient);
    log = app.get(JobLog);
  });

  afterAll(async () => {
    await app?.close();
    await store.deleteNamespace(namespace);
    store.close();
  });

  it('runs a job through a worker that gets its dependencies injected', async () => {
    const jid = await client.enqueue('default', GreetWorker, ['ada', 2]);
    expect(jid).toMatch(/^[0-9a-f-]{36}$/);
    await log.untilCount(1, 'GreetWorker');
    expect(log.performed.find((p) => p.worker === 'GreetWorker')!.args).toEqual(['hello ada', 2]);
  });

  it('runs a named method, and a worker enqueued by its registered name', async () => {
    await client.enqueue('default', GreetWorker, 'shout', ['grace']);
    await client.enqueue('default', 'renamed-worker', [42]);
    await log.untilCount(1, 'GreetWorker.shout');
    await log.untilCount(1, 'renamed-worker');
    expect(log.performed.find((p) => p.worker === 'GreetWorker.shout')!.args).toEqual(['GRACE']);
    expect(log.performed.find((p) => p.worker === 'renamed-worker')!.args).toEqual([42]);
  });

  it('stores jobs as Flume-shaped JSON and leaves nothing behind once done', async () => {
    await app.get(FlumeClient).bulkEnqueue('default', [
      { worker: GreetWorker, args: ['a', 1] },
      { worker: 'renamed-worker', args: [7], context: { requestId: 'r1' } },
    ]);
    await log.untilCount(2, 'GreetWorker');
    await log.untilCount(2, 'renamed-worker');
    const processing = `${namespace}:queue:{default}:processing`;
    await expect.poll(() => store.zcard(processing)).toBe(0);
    expect(await store.llen(`${namespace}:queue:{default}`)).toBe(0);
  });

  it('counts waiting jobs per queue', async () => {
    const other = 'not-consumed';
    await client.enqueue(other, 'SomeRemoteWorker', [1]);
    await client.enqueue(other, 'SomeRemoteWorker', [2]);
    expect(await client.jobCounts([other, 'empty'])).toEqual({ [other]: 2, empty: 0 });
    const [raw] = await store.lrange(`${namespace}:queue:{${other}}`, 0, 0);
    const job = JSON.parse(raw);
    expect(Object.keys(job)).toEqual([
      'jid',
      'queue',
      'class',
      'args',
      'retry_count',
      'enqueued_at',
    ]);
    expect(job).toMatchObject({
      queue: other,
      class: 'SomeRemoteWorker',
      args: [1],
      retry_count: 0,
    });
    expect(job.enqueued_at).toBeCloseTo(Date.now() / 1000, -1);
  });

  it('bulkEnqueue resolves to the ids in the order of the jobs, in one all-or-none write', async () => {
    const queue = 'bulk-not-consumed';
    const ids = await client.bulkEnqueue(
      queue,
      [
        { worker: 'RemoteA', args: [0] },
        { worker: 'RemoteB', args: [1], function: 'run' },
        { worker: 'RemoteA', args: [2], context: { own: true } },
        { worker: 'RemoteC', args: [3] },
      ],
      { context: { shared: 1 } },
    );
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
    const stored = (await store.lrange(`${namespace}:queue:{${queue}}`, 0, -1)).map((raw) =>
      JSON.parse(raw),
    );
    expect(stored.map((job) => job.jid)).toEqual(ids);
    expect(stored.map((job) => job.args)).toEqual([[0], [1], [2], [3]]);
    expect(stored.map((job) => job.class)).toEqual(['RemoteA', 'RemoteB', 'RemoteA', 'RemoteC']);
    expect(stored[1].function).toBe('run');
    expect(stored.map((job) => job.context)).toEqual([
      { shared: 1 },
      { shared: 1 },
      { own: true },
      { shared: 1 },
    ]);
    expect(await client.jobCounts([queue])).toEqual({ [queue]: 4 });
    expect(await client.bulkEnqueue(queue, [])).toEqual([]);
    expect(await client.jobCounts([queue])).toEqual({ [queue]: 4 });
  });

  it('runs bulk-enqueued jobs in order, and counts a consumed queue as empty once they ran', async () => {
    const before = log.count('renamed-worker');
    const values = Array.from({ length: 30 }, (_, i) => 1000 + i);
    const ids = await client.bulkEnqueue(
      'default',
      values.map((value) => ({ worker: RenamedWorker, args: [value] })),
    );
    expect(ids).toHaveLength(30);
    await log.untilCount(before + 30, 'renamed-worker');
    const ran = log.performed
      .filter((p) => p.worker === 'renamed-worker')
      .slice(before)
      .map((p) => p.args[0]);
    // Jobs start in queue order; the handler is synchronous, so they also finish in order.
    expect(ran).toEqual(values);
    expect(await client.jobCounts(['default'])).toEqual({ default: 0 });
  });
});
