import 'reflect-metadata';
import { createServer, type Server, type Socket } from 'node:net';
import {
  Injectable,
  Module,
  type DynamicModule,
  type INestApplicationContext,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Batch,
  FlumeClient,
  FlumeConfigError,
  FlumeContext,
  FlumeModule,
  FlumePayloadError,
  FlumePipeline,
  FlumeProducer,
  FLUME_TEST_MODE,
  FlumeTesting,
  FlumeTestingModule,
  FlumeTimeoutError,
  FlumeWorkerError,
  InjectPipeline,
  Handler,
  Worker,
  type FlumeLogger,
  type FlumeTestJob,
} from '../../lib/index.js';
import { JobLog } from '../support/job-log.js';
import { REDIS_URL, uniqueNamespace } from '../support/redis.js';

/**
 * A TCP server that only counts who connects: every test-mode app of this spec is
 * pointed at it, so any Redis connection attempt shows up in `connections`.
 */
class ConnectionProbe {
  connections = 0;
  private readonly server: Server = createServer((socket: Socket) => {
    this.connections++;
    this.waiters.forEach((wake) => wake());
    socket.destroy();
  });
  private waiters: (() => void)[] = [];

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    return `redis://127.0.0.1:${port}`;
  }

  /** Resolves on the first connection; rejects after `timeoutMs`. */
  untilConnected(timeoutMs = 10_000): Promise<void> {
    if (this.connections > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('no connection reached the probe')),
        timeoutMs,
      );
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Keeps what Flume logs, to check that test mode says nothing about Redis. */
class CapturingLogger implements FlumeLogger {
  readonly lines: string[] = [];
  log(message: string): void {
    this.lines.push(`log: ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn: ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error: ${message}`);
  }
}

@Injectable()
class Greeter {
  greet(name: string): string {
    return `hello ${name}`;
  }
}

@Worker('mail')
class MailWorker {
  constructor(
    private readonly greeter: Greeter,
    private readonly log: JobLog,
    private readonly client: FlumeClient,
  ) {}

  async perform(to: string, options: { times: number }): Promise<void> {
    this.log.record('mail', [this.greeter.greet(to), options, FlumeContext.current()?.context]);
  }

  /** Enqueues the next link of a chain while it runs. */
  @Handler()
  async chain(left: number): Promise<void> {
    this.log.record('chain', [left]);
    if (left > 0) await this.client.enqueue('mail', MailWorker, 'chain', [left - 1]);
  }

  @Handler()
  async fail(message: string): Promise<void> {
    this.log.record('fail', [message]);
    throw new Error(message);
  }

  /** Not a @Handler(): no job may call it, in any mode. */
  helper(): void {
    this.log.record('helper', []);
  }

  /** Mutates its args: the caller's objects must not change (they were copied through JSON). */
  @Handler()
  async mutate(data: { items: number[] }): Promise<void> {
    data.items.push(99);
    this.log.record('mutate', [data]);
  }
}

@Worker('digest')
@Batch({ size: 3 })
class DigestWorker {
  constructor(private readonly log: JobLog) {}

  async perform(jobs: [number][]): Promise<void> {
    this.log.record('digest', [jobs.map(([n]) => n), FlumeContext.batch()?.map((c) => c.jobId)]);
  }
}

@Worker('slow', { timeout: 50 })
class SlowWorker {
  constructor(private readonly log: JobLog) {}

  /** Never ends on its own: only the worker's timeout stops it, through the signal. */
  perform(): Promise<void> {
    const { signal } = FlumeContext.current()!;
    return new Promise((resolve) =>
      signal.addEventListener('abort', () => {
        this.log.record('slow aborted', [(signal.reason as Error).name]);
        resolve();
      }),
    );
  }
}

/** Not a worker: no @Worker. */
class PlainClass {
  perform(): void {}
}

@Injectable()
class PipelineUser {
  constructor(@InjectPipeline('mail_pipeline') readonly pipeline: FlumePipeline) {}
}

const WORKERS = [Greeter, JobLog, MailWorker, DigestWorker, SlowWorker];
const PROVIDERS = [...WORKERS, PipelineUser];
const PIPELINES = [{ name: 'mail_pipeline', queue: 'mail' }];

describe('test mode', () => {
  const probe = new ConnectionProbe();
  const logger = new CapturingLogger();
  const apps: INestApplicationContext[] = [];
  let probeUrl: string;

  async function boot(flume: DynamicModule, providers = PROVIDERS) {
    const moduleRef = await Test.createTestingModule({ imports: [flume], providers }).compile();
    apps.push(moduleRef);
    return moduleRef.init();
  }

  function testMode(testing: 'fake' | 'inline') {
    return FlumeModule.forRoot({
      connection: { url: probeUrl },
      pipelines: PIPELINES,
      logger,
      testing,
    });
  }

  beforeAll(async () => {
    probeUrl = await probe.start();
  });

  afterAll(async () => {
    await Promise.allSettled(apps.map((app) => app.close()));
    await probe.stop();
  });

  describe('fake', () => {
    let app: INestApplicationContext;
    let client: FlumeClient;
    let flume: FlumeTesting;
    let log: JobLog;

    beforeAll(async () => {
      app = await boot(testMode('fake'));
      client = app.get(FlumeClient);
      flume = app.get(FlumeTesting);
      log = app.get(JobLog);
    });

    it('keeps enqueued jobs, Flume-shaped, without running them', async () => {
      flume.clear();
      const jid = await client.enqueue('mail', MailWorker, ['ada', { times: 2 }], {
        context: { requestId: 'r1' },
      });
      await client.enqueue('mail', 'MailWorker', 'chain', [0]);
      const before = log.count();

      const jobs = flume.enqueued('mail');
      expect(jobs).toHaveLength(2);
      expect(jobs[0]).toEqual({
        jid,
        queue: 'mail',
        class: 'MailWorker',
        function: 'perform',
        args: ['ada', { times: 2 }],
        context: { requestId: 'r1' },
        retry_count: 0,
        enqueued_at: expect.any(Number),
      });
      expect(jobs[0].enqueued_at * 1000).toBeLessThanOrEqual(Date.now());
      expect(jobs[1]).toMatchObject({ class: 'MailWorker', function: 'chain', args: [0] });
      expect(flume.enqueued('other')).toEqual([]);
      expect(await client.jobCounts(['mail', 'other'])).toEqual({ mail: 2, other: 0 });
      expect(log.count()).toBe(before);
    });

    it('drains through the real worker instances, with their dependencies and the job context', async () => {
      flume.clear();
      const jid = await client.enqueue('mail', MailWorker, ['grace', { times: 1 }], {
        context: { requestId: 'r2' },
      });
      const result = await flume.drain('mail');
      expect(result.failed).toEqual([]);
      expect(result.performed.map((job) => job.jid)).toEqual([jid]);
      expect(log.performed.at(-1)).toMatchObject({
        worker: 'mail',
        args: ['hello grace', { times: 1 }, { requestId: 'r2' }],
      });
      expect(flume.enqueued()).toEqual([]);
    });

    it('runs the jobs enqueued while draining, and drains only the queue asked for', async () => {
      flume.clear();
      await client.enqueue('digest', 'DigestWorker', [1]);
      await client.enqueue('mail', MailWorker, 'chain', [3]);
      const result = await flume.drain('mail');
      expect(result.performed.map((job) => job.args)).toEqual([[3], [2], [1], [0]]);
      expect(
        log.performed
          .filter((p) => p.worker === 'chain')
          .slice(-4)
          .map((p) => p.args),
      ).toEqual([[3], [2], [1], [0]]);
      expect(flume.enqueued().map((job) => job.queue)).toEqual(['digest']);
      flume.clear('digest');
      expect(flume.enqueued()).toEqual([]);
    });

    it('drains higher priorities first, as Redis takes them, and keeps priority and group', async () => {
      flume.clear();
      await client.enqueue('mail', MailWorker, 'chain', [0]);
      await client.enqueue('mail', MailWorker, 'chain', [1], { priority: 7 });
      await client.enqueue('mail', MailWorker, 'chain', [2], { priority: 9 });
      await client.enqueue('mail', MailWorker, 'chain', [0], { group: 'tenant-1' });
      expect(flume.enqueued('mail').map((job) => [job.priority, job.group])).toEqual([
        [undefined, undefined],
        [7, undefined],
        [9, undefined],
        [undefined, 'tenant-1'],
      ]);
      await expect(
        client.enqueue('mail', MailWorker, 'chain', [1], { priority: 101 }),
      ).rejects.toBeInstanceOf(FlumePayloadError);
      const result = await flume.drain('mail');
      // chain(n) enqueues chain(n - 1), without a priority, while n > 0.
      const tag = (job: FlumeTestJob) =>
        `${String(job.args[0])}${job.priority ? `p${job.priority}` : ''}${job.group ? 'g' : ''}`;
      expect(result.performed.map(tag)).toEqual(['2p9', '1p7', '0', '0g', '1', '0', '0']);
    });

    it('reports a failing job once, without retrying it, and goes on', async () => {
      flume.clear();
      const failing = await client.enqueue('mail', MailWorker, 'fail', ['boom']);
      await client.enqueue('mail', 'NoSuchWorker', ['x']);
      const ok = await client.enqueue('mail', MailWorker, ['linus', { times: 1 }]);
      const fails = log.count('fail');

      const result = await flume.drain();
      expect(result.performed.map((job) => job.jid)).toEqual([ok]);
      expect(result.failed).toHaveLength(2);
      expect(result.failed[0].job.jid).toBe(failing);
      expect(result.failed[0].error.message).toBe('boom');
      expect(result.failed[1].error).toBeInstanceOf(FlumeWorkerError);
      expect(result.failed[1].error.message).toMatch(
        /no worker named "NoSuchWorker" is registered for queue "mail"/,
      );
      expect(log.count('fail')).toBe(fails + 1);
      expect(flume.enqueued()).toEqual([]);
    });

    it('keeps the due time of scheduled jobs; drain runs them last unless told not to', async () => {
      flume.clear();
      const at = new Date(Date.now() + 3_600_000);
      const later = await client.enqueueAt('mail', at, MailWorker, 'chain', [0]);
      const soon = await client.enqueueIn('mail', 60_000, MailWorker, 'chain', [0]);
      const now = await client.enqueue('mail', MailWorker, 'chain', [0]);

      const [first, second] = flume.enqueued('mail');
      expect(first).toMatchObject({ jid: later, scheduled_at: at.getTime() / 1000 });
      expect(second.scheduled_at! * 1000).toBeGreaterThan(Date.now() + 59_000);
      expect(await client.jobCounts(['mail'])).toEqual({ mail: 1 });

      const dueOnly = await flume.drain('mail', { withScheduled: false });
      expect(dueOnly.performed.map((job) => job.jid)).toEqual([now]);
      expect(flume.enqueued('mail').map((job) => job.jid)).toEqual([later, soon]);

      const all = await flume.drain({ withScheduled: true });
      expect(all.performed.map((job) => job.jid)).toEqual([soon, later]);
    });

    it('hands a batch worker arrays of up to its batch size', async () => {
      flume.clear();
      const jids = await client.bulkEnqueue(
        'digest',
        [1, 2, 3, 4].map((n) => ({ worker: 'DigestWorker', args: [n] })),
      );
      const result = await flume.drain('digest');
      expect(result.performed.map((job) => job.jid)).toEqual(jids);
      const batches = log.performed.filter((p) => p.worker === 'digest').slice(-2);
      expect(batches.map((p) => p.args)).toEqual([
        [[1, 2, 3], jids.slice(0, 3)],
        [[4], jids.slice(3)],
      ]);
    });

    it("fails a job that outlives its worker's timeout, and aborts its signal", async () => {
      flume.clear();
      await client.enqueue('slow', SlowWorker, []);
      const result = await flume.drain('slow');
      expect(result.failed.map((f) => f.error)).toEqual([expect.any(FlumeTimeoutError)]);
      expect(log.performed.at(-1)).toMatchObject({
        worker: 'slow aborted',
        args: ['FlumeTimeoutError'],
      });
    });

    it('sends args through JSON: what Redis would refuse is refused, the caller keeps its objects', async () => {
      flume.clear();
      await expect(
        client.enqueue('mail', MailWorker, ['ada', { times: new Date() as never }]),
      ).rejects.toThrow(FlumePayloadError);
      await expect(client.enqueue('mail', 'MailWorker', [undefined])).rejects.toThrow(
        /args\[0\] is undefined/,
      );
      expect(flume.enqueued()).toEqual([]);

      const data = { items: [1, 2] };
      await client.enqueue('mail', MailWorker, 'mutate', [data]);
      data.items.push(3);
      expect(flume.enqueued()[0].args).toEqual([{ items: [1, 2] }]);
      await flume.drain();
      expect(log.performed.at(-1)!.args).toEqual([{ items: [1, 2, 99] }]);
      expect(data).toEqual({ items: [1, 2, 3] });
    });

    it('stops a drain that never ends, and checks its arguments', async () => {
      flume.clear();
      await client.enqueue('mail', MailWorker, 'chain', [50]);
      await expect(flume.drain({ limit: 10 })).rejects.toThrow(FlumeConfigError);
      expect(flume.enqueued()).toHaveLength(1);
      flume.clear();
      await expect(flume.drain({ limit: 0 })).rejects.toThrow(/limit to be an integer >= 1/);
      await expect(flume.drain('a b')).rejects.toThrow(FlumeConfigError);
    });

    it('has pipeline handles, but no pipeline control, as no pipeline runs', async () => {
      const producer = app.get(FlumeProducer);
      expect(app.get(PipelineUser).pipeline).toBe(producer.pipeline('mail_pipeline'));
      expect(producer.pendingJobsCount('mail_pipeline')).toBe(0);
      await expect(producer.pause('mail_pipeline')).rejects.toThrow(
        /not available in the 'fake' and 'inline' test modes/,
      );
      await expect(app.get(PipelineUser).pipeline.resume()).rejects.toThrow(FlumeConfigError);
      expect(() => producer.pipeline('nope')).toThrow(
        'Unknown pipeline "nope". Configured pipelines: "mail_pipeline".',
      );
    });
  });

  describe('inline', () => {
    let client: FlumeClient;
    let log: JobLog;
    let app: INestApplicationContext;

    beforeAll(async () => {
      app = await boot(testMode('inline'));
      client = app.get(FlumeClient);
      log = app.get(JobLog);
    });

    it('runs the job through the real worker before enqueue resolves', async () => {
      const before = log.count('mail');
      await client.enqueue('mail', MailWorker, ['ada', { times: 3 }], { context: { a: 1 } });
      expect(log.count('mail')).toBe(before + 1);
      expect(log.performed.at(-1)!.args).toEqual(['hello ada', { times: 3 }, { a: 1 }]);
      expect(await client.jobCounts(['mail'])).toEqual({ mail: 0 });
    });

    it('runs scheduled jobs at once, and jobs enqueued by a job', async () => {
      const before = log.count('chain');
      await client.enqueueIn('mail', 3_600_000, MailWorker, 'chain', [2]);
      expect(log.count('chain')).toBe(before + 3);
    });

    it("rejects with the handler's error, and refuses what Redis would", async () => {
      await expect(client.enqueue('mail', MailWorker, 'fail', ['inline boom'])).rejects.toThrow(
        'inline boom',
      );
      await expect(client.enqueue('mail', 'Elsewhere', [1])).rejects.toThrow(FlumeWorkerError);
      const before = log.count('mail');
      await expect(
        client.enqueue('mail', MailWorker, ['ada', { times: Number.NaN }]),
      ).rejects.toThrow(FlumePayloadError);
      expect(log.count('mail')).toBe(before);
    });

    it('runs every job of a bulk enqueue, then reports the failures', async () => {
      const before = log.count('chain');
      const bulk = client.bulkEnqueue('mail', [
        { worker: MailWorker, function: 'fail', args: ['one'] },
        { worker: MailWorker, function: 'chain', args: [0] },
        { worker: MailWorker, function: 'fail', args: ['two'] },
      ]);
      await expect(bulk).rejects.toThrow(AggregateError);
      expect(log.count('chain')).toBe(before + 1);
    });

    it('has no FlumeTesting lists: they belong to the fake mode', () => {
      expect(() => app.get(FlumeTesting).enqueued()).toThrow(/in inline mode each job runs/);
    });
  });

  describe('errors are those of the Redis mode', () => {
    let redisApp: INestApplicationContext;
    let clients: Record<'redis' | 'fake' | 'inline', FlumeClient>;

    beforeAll(async () => {
      // Real Redis: every call below is refused before anything is sent.
      redisApp = await boot(
        FlumeModule.forRoot({ connection: { url: REDIS_URL }, namespace: uniqueNamespace('tm') }),
        WORKERS,
      );
      const fake = await boot(testMode('fake'));
      const inline = await boot(testMode('inline'));
      clients = {
        redis: redisApp.get(FlumeClient),
        fake: fake.get(FlumeClient),
        inline: inline.get(FlumeClient),
      };
    });

    const badCalls: [string, (client: FlumeClient) => Promise<unknown>][] = [
      ['a Date arg', (c) => c.enqueue('mail', 'MailWorker', [new Date(0)])],
      ['a BigInt arg', (c) => c.enqueue('mail', 'MailWorker', [1n])],
      ['a Map arg', (c) => c.enqueue('mail', 'MailWorker', [new Map()])],
      ['args not an array', (c) => c.enqueue('mail', 'MailWorker', 'x' as never)],
      ['a bad context', (c) => c.enqueue('mail', 'MailWorker', [], { context: [] as never })],
      ['a class that is not a worker', (c) => c.enqueue('mail', PlainClass, [])],
      ['the wrong queue', (c) => c.enqueue('digest', MailWorker, ['a', { times: 1 }])],
      ['a missing method', (c) => c.enqueue('mail', MailWorker, 'nope' as never, [])],
      ['a method that is not a @Handler()', (c) => c.enqueue('mail', 'MailWorker', 'helper', [])],
      [
        'a method of every object',
        (c) => c.enqueue('mail', MailWorker, 'toString' as never, [] as never),
      ],
      ['a bad queue name', (c) => c.enqueue('a b', 'MailWorker', [])],
      ['a negative delay', (c) => c.enqueueIn('mail', -1, 'MailWorker', [])],
      ['an invalid date', (c) => c.enqueueAt('mail', new Date(Number.NaN), 'MailWorker', [])],
      [
        'a bad job in a bulk',
        (c) =>
          c.bulkEnqueue('mail', [
            { worker: 'MailWorker', args: [] },
            { worker: 'MailWorker', args: [undefined] },
          ]),
      ],
      ['a bad queue in jobCounts', (c) => c.jobCounts(['ok', '{x}'])],
    ];

    it.each(badCalls)('refuses %s with the same error in every mode', async (_, call) => {
      const outcome = async (client: FlumeClient) => {
        try {
          await call(client);
        } catch (err) {
          return `${(err as Error).name}: ${(err as Error).message}`;
        }
        return 'accepted';
      };
      const redis = await outcome(clients.redis);
      expect(redis).not.toBe('accepted');
      expect(await outcome(clients.fake)).toBe(redis);
      expect(await outcome(clients.inline)).toBe(redis);
    });

    it('has no FlumeTesting lists outside test mode', async () => {
      const flume = redisApp.get(FlumeTesting);
      expect(() => flume.enqueued()).toThrow(/runs Flume on Redis/);
      await expect(flume.drain()).rejects.toThrow(FlumeConfigError);
    });
  });

  describe('how a test turns it on', () => {
    it('from the options a forRootAsync factory returns', async () => {
      const app = await boot(
        FlumeModule.forRootAsync({
          pipelines: ['mail_pipeline'],
          useFactory: async () => ({
            connection: { url: probeUrl },
            pipelines: PIPELINES,
            logger,
            testing: 'fake' as const,
          }),
        }),
      );
      await app.get(FlumeClient).enqueue('mail', MailWorker, ['async', { times: 1 }]);
      expect(app.get(FlumeTesting).enqueued()).toHaveLength(1);
      expect((await app.get(FlumeTesting).drain()).performed).toHaveLength(1);
    });

    it("by overriding FLUME_TEST_MODE, keeping the app's own FlumeModule and options", async () => {
      @Module({
        imports: [
          FlumeModule.forRoot({ connection: { url: probeUrl }, pipelines: PIPELINES, logger }),
        ],
        providers: PROVIDERS,
      })
      class AppModule {}

      const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
        .overrideProvider(FLUME_TEST_MODE)
        .useValue('inline')
        .compile();
      apps.push(moduleRef);
      const app = await moduleRef.init();
      await app.get(FlumeClient).enqueue('mail', MailWorker, ['token', { times: 1 }]);
      expect(app.get(JobLog).performed.at(-1)!.args[0]).toBe('hello token');
      expect(app.get(PipelineUser).pipeline.name).toBe('mail_pipeline');
    });

    it("by overriding the app's FlumeModule import with FlumeTestingModule", async () => {
      // The app keeps its forRoot() result in a constant: Nest's overrideModule finds
      // a dynamic module by identity.
      const appFlume = FlumeModule.forRoot({ connection: { url: probeUrl }, pipelines: PIPELINES });
      @Module({ imports: [appFlume], providers: PROVIDERS })
      class AppModule {}

      const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
        .overrideModule(appFlume)
        .useModule(FlumeTestingModule.forRoot({ mode: 'fake', pipelines: PIPELINES, logger }))
        .compile();
      apps.push(moduleRef);
      const app = await moduleRef.init();
      await app.get(FlumeClient).enqueue('mail', MailWorker, ['override', { times: 1 }]);
      const { performed } = await app.get(FlumeTesting).drain();
      expect(performed.map((job) => job.args)).toEqual([['override', { times: 1 }]]);
      expect(app.get(JobLog).performed.at(-1)!.args[0]).toBe('hello override');
    });

    it('refuses an unknown mode', () => {
      expect(() => FlumeTestingModule.forRoot({ mode: 'mock' as never })).toThrow(
        /expected mode to be 'fake', 'inline' or 'memory', got: "mock"/,
      );
    });
  });

  describe('Redis', () => {
    it('was never connected to in test mode, and nothing about it was logged', async () => {
      expect(probe.connections).toBe(0);
      expect(logger.lines.filter((line) => !line.startsWith('log:'))).toEqual([]);
    });

    it('(the probe sees the connection of an app that is not in test mode)', async () => {
      await boot(FlumeModule.forRoot({ connection: { url: probeUrl }, logger: false }), WORKERS);
      await probe.untilConnected();
      expect(probe.connections).toBeGreaterThan(0);
    });
  });
});
