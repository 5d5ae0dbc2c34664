import 'reflect-metadata';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeConfigError,
  FlumeProducer,
  FlumeTimeoutError,
  getPipelineToken,
  Worker,
  type FlumeModuleOptions,
  type FlumePipeline,
  type PauseOptions,
} from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { Gate, within } from '../../support/gate.js';
import { JobLog } from '../../support/job-log.js';
import { RedisServer } from '../../support/redis-server.js';
import {
  keysOf,
  ON_CLUSTER,
  ON_MEMORY,
  testConnection,
  uniqueNamespace,
} from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

/** Which app ran a job, and the gates jobs wait on (by tag) until the test opens them. */
@Injectable()
class Shared {
  readonly log = new JobLog();
  readonly gates = new Map<string, Gate>();

  gate(tag: string): Gate {
    let gate = this.gates.get(tag);
    if (!gate) this.gates.set(tag, (gate = new Gate()));
    return gate;
  }
}

class AppName {
  constructor(readonly name: string) {}
}

@Worker('work')
class WorkWorker {
  constructor(
    private readonly shared: Shared,
    private readonly app: AppName,
  ) {}

  /** Starts, then waits for its gate when `gated`. */
  async perform(tag: string, gated = false): Promise<void> {
    this.shared.log.record('work', [tag, this.app.name]);
    if (gated) await this.shared.gate(tag).wait();
    this.shared.log.record('work:done', [tag, this.app.name]);
  }
}

/** A second pipeline that is never paused: when its job ran, a paused pipeline had its chance too. */
@Worker('clock')
class ClockWorker {
  constructor(
    private readonly shared: Shared,
    private readonly app: AppName,
  ) {}

  perform(tag: string): void {
    this.shared.log.record('clock', [tag, this.app.name]);
  }
}

describe('pause and resume', () => {
  const namespace = uniqueNamespace('pause');
  const keys = keysOf(namespace, 'work');
  const pausedKey = `${namespace}:pipelines:paused`;
  const apps = new Apps();
  let store: TestStore;

  const pipelines = [
    { name: 'work', queue: 'work', maxDemand: 5 },
    { name: 'clock', queue: 'clock', maxDemand: 5 },
  ];

  function boot(
    shared: Shared,
    name = 'app1',
    extra: Partial<FlumeModuleOptions> = {},
  ): Promise<INestApplicationContext> {
    return apps.boot(
      {
        connection: testConnection(),
        namespace,
        pipelines,
        logger: new CaptureLogger(),
        ...extra,
      },
      [
        { provide: Shared, useValue: shared },
        { provide: AppName, useValue: new AppName(name) },
        WorkWorker,
        ClockWorker,
      ],
    );
  }

  /** Enqueues a clock job and waits for it: the other pipelines had a chance to take jobs meanwhile. */
  async function tick(app: INestApplicationContext, shared: Shared, tag: string): Promise<void> {
    await app.get(FlumeClient).enqueue('clock', ClockWorker, [tag]);
    await shared.log.until(
      () => shared.log.performed.some((p) => p.worker === 'clock' && p.args[0] === tag),
      `clock job ${tag}`,
    );
  }

  function started(shared: Shared, tag: string): string[] {
    return shared.log.performed
      .filter((p) => p.worker === 'work' && p.args[0] === tag)
      .map((p) => p.args[1] as string);
  }

  function untilStarted(shared: Shared, tag: string): Promise<void> {
    return shared.log.until(() => started(shared, tag).length > 0, `work job ${tag} to start`);
  }

  beforeAll(() => {
    store = testStore();
  });

  afterEach(async () => {
    await apps.closeAll();
    await store.del(pausedKey);
  });

  afterAll(async () => {
    await apps.closeAll();
    await store.deleteNamespace(namespace);
    store.close();
  });

  it('a paused pipeline finishes the job it runs, takes nothing new, and picks up on resume', async () => {
    const shared = new Shared();
    const app = await boot(shared);
    const producer = app.get(FlumeProducer);
    const client = app.get(FlumeClient);

    await client.enqueue('work', WorkWorker, ['running', true]);
    await untilStarted(shared, 'running');
    await producer.pause('work');
    expect(producer.pipeline('work').isPaused).toBe(true);
    expect(producer.pendingJobsCount('work')).toBe(1);

    await client.enqueue('work', WorkWorker, ['waiting']);
    await tick(app, shared, 't1');
    expect(started(shared, 'waiting')).toEqual([]);
    expect(await store.llen(keys.waiting)).toBe(1);

    // The running job finishes and is acknowledged while paused.
    shared.gate('running').open();
    await shared.log.until(
      () => shared.log.performed.some((p) => p.worker === 'work:done' && p.args[0] === 'running'),
      'the running job to finish',
    );
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    expect(producer.pendingJobsCount('work')).toBe(0);

    await producer.resume('work');
    expect(producer.pipeline('work').isPaused).toBe(false);
    await untilStarted(shared, 'waiting');
    expect(await store.llen(keys.waiting)).toBe(0);
  });

  it('pauses and resumes through the pipeline handle, and every pipeline with pauseAll/resumeAll', async () => {
    const shared = new Shared();
    const app = await boot(shared);
    const producer = app.get(FlumeProducer);
    const client = app.get(FlumeClient);
    const work = app.get<FlumePipeline>(getPipelineToken('work'));
    const clock = app.get<FlumePipeline>(getPipelineToken('clock'));

    await work.pause();
    expect(work.isPaused).toBe(true);
    await client.enqueue('work', WorkWorker, ['w1']);
    await tick(app, shared, 't1');
    expect(started(shared, 'w1')).toEqual([]);
    await work.resume();
    await untilStarted(shared, 'w1');

    await producer.pauseAll();
    expect([work.isPaused, clock.isPaused]).toEqual([true, true]);
    await client.enqueue('work', WorkWorker, ['w2']);
    await client.enqueue('clock', ClockWorker, ['t2']);
    // Resuming one pipeline leaves the other paused.
    await clock.resume();
    await shared.log.until(
      () => shared.log.performed.some((p) => p.worker === 'clock' && p.args[0] === 't2'),
      'clock job t2',
    );
    expect(started(shared, 'w2')).toEqual([]);
    await producer.pauseAll();
    await producer.resumeAll();
    expect([work.isPaused, clock.isPaused]).toEqual([false, false]);
    await untilStarted(shared, 'w2');
  });

  it('temporary: false is stored in the store; other instances follow, both ways, and a restart stays paused', async () => {
    const shared = new Shared();
    const appA = await boot(shared, 'A');
    const appB = await boot(shared, 'B');
    const producerA = appA.get(FlumeProducer);
    const producerB = appB.get(FlumeProducer);

    const pausedAt = Date.now();
    await producerA.pause('work', { temporary: false });
    expect(await store.hgetall(pausedKey)).toEqual({ work: '1' });
    await expect
      .poll(() => producerB.pipeline('work').isPaused, { timeout: 2_500, interval: 20 })
      .toBe(true);
    const followedIn = Date.now() - pausedAt;

    await appA.get(FlumeClient).enqueue('work', WorkWorker, ['held']);
    await tick(appA, shared, 'tA');
    await tick(appB, shared, 'tB');
    expect(started(shared, 'held')).toEqual([]);
    expect(await store.llen(keys.waiting)).toBe(1);

    // B lifts the pause for everyone: A, which paused, follows too.
    const resumedAt = Date.now();
    await producerB.resume('work', { temporary: false });
    expect(await store.exists(pausedKey)).toBe(0);
    await expect
      .poll(() => producerA.pipeline('work').isPaused, { timeout: 2_500, interval: 20 })
      .toBe(false);
    const resumeFollowedIn = Date.now() - resumedAt;
    await untilStarted(shared, 'held');
    console.log(
      `[pause] temporary: false: the other instance followed a pause in ${followedIn} ms and a resume in ${resumeFollowedIn} ms`,
    );
    // A takes jobs again: with B paused here only, a job can only run on A.
    await producerB.pause('work');
    await appB.get(FlumeClient).enqueue('work', WorkWorker, ['on-a']);
    await untilStarted(shared, 'on-a');
    expect(started(shared, 'on-a')).toEqual(['A']);

    // Stored pauses survive restarts: a new instance starts paused.
    await producerA.pause('work', { temporary: false });
    await apps.closeAll();
    const loggerC = new CaptureLogger();
    const appC = await boot(shared, 'C', { logger: loggerC });
    const producerC = appC.get(FlumeProducer);
    // Known once the stored pauses are read; no job is taken before that read.
    await expect.poll(() => producerC.pipeline('work').isPaused).toBe(true);
    await appC.get(FlumeClient).enqueue('work', WorkWorker, ['after-restart']);
    await tick(appC, shared, 'tC');
    expect(started(shared, 'after-restart')).toEqual([]);
    // A temporary resume cannot lift a stored pause, and says so.
    await producerC.resume('work');
    expect(producerC.pipeline('work').isPaused).toBe(true);
    expect(
      loggerC.find(/"work" stays paused: it is paused for every instance/, 'warn'),
    ).toHaveLength(1);
    await producerC.resume('work', { temporary: false });
    await untilStarted(shared, 'after-restart');
    expect(started(shared, 'after-restart')).toEqual(['C']);
  });

  it('rejects unknown pipelines and ill-typed options with clear messages, and changes nothing', async () => {
    const shared = new Shared();
    const app = await boot(shared);
    const producer = app.get(FlumeProducer);
    const work = producer.pipeline('work');

    /** The call must return a rejected promise, not throw: callers use .catch() on it. */
    async function rejection(call: () => Promise<void>): Promise<unknown> {
      let result: Promise<void> | undefined;
      expect(() => (result = call())).not.toThrow();
      return result!.then(
        () => undefined,
        (err: unknown) => err,
      );
    }

    const unknown = await rejection(() => producer.pause('nope'));
    expect(unknown).toBeInstanceOf(FlumeConfigError);
    expect((unknown as Error).message).toBe(
      'Unknown pipeline "nope". Configured pipelines: "work", "clock".',
    );
    expect(await rejection(() => producer.resume('nope'))).toBeInstanceOf(FlumeConfigError);

    const cases: [unknown, string][] = [
      [{ timeout: -1 }, 'expected timeout to be a non-negative integer or Infinity, got: -1'],
      [{ timeout: 1.5 }, 'expected timeout to be a non-negative integer or Infinity, got: 1.5'],
      [{ timeout: '100' }, 'expected timeout to be a non-negative integer or Infinity, got: "100"'],
      [{ temporary: 'no' }, 'expected temporary to be a boolean, got: "no"'],
      [{ async: 1 }, 'expected async to be a boolean, got: 1'],
      [{ temprary: false }, 'unknown option "temprary"; known options: temporary, async, timeout'],
      ['fast', 'expected options to be an object, got: "fast"'],
    ];
    for (const [opts, message] of cases) {
      for (const call of [
        () => producer.pause('work', opts as PauseOptions),
        () => producer.pauseAll(opts as PauseOptions),
        () => work.pause(opts as PauseOptions),
        () => producer.resume('work', opts as PauseOptions),
      ]) {
        const err = await rejection(call);
        expect(err).toBeInstanceOf(FlumeConfigError);
        expect((err as Error).message).toBe(message);
      }
    }
    expect(work.isPaused).toBe(false);
    expect(await store.exists(pausedKey)).toBe(0);

    // Well-typed options pass, Infinity included.
    await producer.pause('work', { timeout: Infinity, temporary: true, async: false });
    expect(work.isPaused).toBe(true);
    await producer.resume('work', { timeout: 0 });
    expect(work.isPaused).toBe(false);
  });
});

// Holds every write of its own single redis-server (CLIENT PAUSE): runs in the single-Redis
// run only (a take on the memory store completes before anything else runs: none is in flight).
describe.skipIf(ON_CLUSTER || ON_MEMORY)(
  'pause while a take is in flight (own redis-server)',
  () => {
    const namespace = uniqueNamespace('pause-inflight');
    const apps = new Apps();
    let server: RedisServer;
    let admin: Redis;

    beforeAll(async () => {
      server = await RedisServer.start();
      admin = new Redis(server.url);
    });

    afterAll(async () => {
      await apps.closeAll();
      admin?.disconnect();
      await server?.dispose();
    });

    it('async: true resolves at once; the synchronous form waits for the take, and times out with FlumeTimeoutError', async () => {
      const shared = new Shared();
      // A job is waiting, and Redis holds every write: the pipeline's first take is stuck in flight.
      await admin.rpush(
        `${namespace}:queue:{work}`,
        JSON.stringify({
          jid: 'inflight-1',
          queue: 'work',
          class: 'WorkWorker',
          args: ['taken-before-pause'],
          retry_count: 0,
          enqueued_at: Date.now() / 1000,
        }),
      );
      await admin.client('PAUSE', 10_000, 'WRITE');
      const app = await apps.boot(
        {
          connection: { url: server.url },
          namespace,
          pipelines: [{ name: 'work', queue: 'work', maxDemand: 5 }],
          logger: new CaptureLogger(),
        },
        [
          { provide: Shared, useValue: shared },
          { provide: AppName, useValue: new AppName('inflight') },
          WorkWorker,
        ],
      );
      const producer = app.get(FlumeProducer);
      // The take is sent once the stored pauses are read (a read: not held).
      await expect
        .poll(async () => {
          const clients = (await admin.client('LIST')) as string;
          return /cmd=evalsha|cmd=eval /.test(clients);
        })
        .toBe(true);

      let syncDone = false;
      const sync = producer.pause('work', { timeout: Infinity }).then(() => (syncDone = true));
      await within(producer.pause('work', { async: true }), 1_000, 'pause with async: true');
      const timedOut = await producer.pause('work', { timeout: 50 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(timedOut).toBeInstanceOf(FlumeTimeoutError);
      expect((timedOut as Error).message).toMatch(/took longer than 50 ms/);
      expect(syncDone).toBe(false);
      expect(producer.pipeline('work').isPaused).toBe(true);

      await admin.client('UNPAUSE');
      await within(sync, 5_000, 'the synchronous pause once the take is done');
      // The take in flight had the job: it runs, as a job taken before the pause.
      await untilStarted(shared, 'taken-before-pause');
      await producer.resume('work');
    });

    function untilStarted(shared: Shared, tag: string): Promise<void> {
      return shared.log.until(
        () => shared.log.performed.some((p) => p.worker === 'work' && p.args[0] === tag),
        `work job ${tag} to start`,
      );
    }
  },
);
