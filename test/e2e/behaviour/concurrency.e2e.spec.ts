import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlumeClient, FlumeProducer, Worker, type FlumeModuleOptions } from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { Gate } from '../../support/gate.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

/** Counts handlers running at once, and holds each one until the test releases it. */
@Injectable()
class Meter {
  running = 0;
  peak = 0;
  private gates: Gate[] = [];
  private open = false;

  async enter(): Promise<void> {
    this.running++;
    this.peak = Math.max(this.peak, this.running);
    if (!this.open) {
      const gate = new Gate();
      this.gates.push(gate);
      await gate.wait();
    } else {
      await Promise.resolve();
    }
    this.running--;
  }

  /** Lets the oldest held handler finish. */
  releaseOne(): void {
    this.gates.shift()?.open();
  }

  /** Lets every held handler finish, and every later one run through. */
  releaseAll(): void {
    this.open = true;
    for (const gate of this.gates.splice(0)) gate.open();
  }
}

@Worker('narrow')
class NarrowWorker {
  constructor(
    private readonly meter: Meter,
    private readonly log: JobLog,
  ) {}

  async perform(index: number): Promise<void> {
    this.log.record('start', [index]);
    await this.meter.enter();
    this.log.record('end', [index]);
  }
}

@Worker('shared')
class SharedWorker extends NarrowWorker {}

@Worker('ahead')
class AheadWorker extends NarrowWorker {}

@Worker('fast')
class FastWorker {
  constructor(
    private readonly meter: Meter,
    private readonly log: JobLog,
  ) {}

  async perform(index: number): Promise<void> {
    this.meter.running++;
    this.meter.peak = Math.max(this.meter.peak, this.meter.running);
    await new Promise((resolve) => setTimeout(resolve, 1 + (index % 7)));
    this.meter.running--;
    this.log.record('fast', [index]);
  }
}

describe('concurrency and back-pressure', () => {
  const namespace = uniqueNamespace('concurrency');
  const apps = new Apps();
  let store: TestStore;

  const options = (queue: string, maxDemand: number, prefetch?: number): FlumeModuleOptions => ({
    connection: testConnection(),
    namespace,
    pipelines: [{ name: `${queue}_pipeline`, queue, maxDemand, prefetch }],
    shutdownTimeout: 100,
    logger: new CaptureLogger(),
  });

  beforeAll(() => {
    store = testStore();
  });

  afterEach(async () => {
    await apps.closeAll();
  });

  afterAll(async () => {
    await store.deleteNamespace(namespace);
    store.close();
  });

  it('runs at most maxDemand jobs at once and leases no more than it runs', async () => {
    const maxDemand = 3;
    const total = 12;
    const keys = keysOf(namespace, 'narrow');
    const app = await apps.boot(options('narrow', maxDemand), [Meter, JobLog, NarrowWorker]);
    const meter = app.get(Meter);
    const log = app.get(JobLog);
    await app.get(FlumeClient).bulkEnqueue(
      'narrow',
      Array.from({ length: total }, (_, i) => ({ worker: NarrowWorker, args: [i] })),
    );

    for (let done = 0; done < total; done++) {
      const expectedRunning = Math.min(maxDemand, total - done);
      await log.untilCount(done + expectedRunning, 'start');
      // Every free slot is filled, and the loop took nothing more than it can start:
      // what is not running still waits in the queue. (The lease of a job that just
      // finished may linger until its batched acknowledgement lands.)
      expect(meter.running).toBe(expectedRunning);
      expect(await store.llen(keys.waiting)).toBe(total - done - expectedRunning);
      const leased = await store.zcard(keys.processing);
      expect(leased).toBeGreaterThanOrEqual(expectedRunning);
      expect(leased).toBeLessThanOrEqual(maxDemand);
      meter.releaseOne();
      await log.untilCount(done + 1, 'end');
    }
    expect(meter.peak).toBe(maxDemand);
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    // Jobs start in queue order.
    expect(log.performed.filter((p) => p.worker === 'start').map((p) => p.args[0])).toEqual(
      Array.from({ length: total }, (_, i) => i),
    );
  });

  it('keeps each instance within its own maxDemand when several share a queue', async () => {
    const keys = keysOf(namespace, 'shared');
    const log = new JobLog();
    const meters = [new Meter(), new Meter()];
    for (const meter of meters) {
      await apps.boot(options('shared', 2), [
        { provide: Meter, useValue: meter },
        { provide: JobLog, useValue: log },
        SharedWorker,
      ]);
    }
    const client = (await apps.boot({ ...options('unused', 1), pipelines: [] })).get(FlumeClient);
    await client.bulkEnqueue(
      'shared',
      Array.from({ length: 10 }, (_, i) => ({ worker: 'SharedWorker', args: [i] })),
    );
    await log.untilCount(4, 'start');
    expect(meters.map((m) => m.running)).toEqual([2, 2]);
    expect(await store.zcard(keys.processing)).toBe(4);
    expect(await store.llen(keys.waiting)).toBe(6);
    for (const meter of meters) meter.releaseAll();
    await log.untilCount(10, 'end');
    expect(meters.map((m) => m.peak)).toEqual([2, 2]);
  });

  it('with prefetch, runs at most maxDemand and leases at most maxDemand + prefetch ahead', async () => {
    const maxDemand = 2;
    const prefetch = 3;
    const total = 12;
    const keys = keysOf(namespace, 'ahead');
    const app = await apps.boot(options('ahead', maxDemand, prefetch), [
      Meter,
      JobLog,
      AheadWorker,
    ]);
    const meter = app.get(Meter);
    const log = app.get(JobLog);
    await app.get(FlumeClient).bulkEnqueue(
      'ahead',
      Array.from({ length: total }, (_, i) => ({ worker: AheadWorker, args: [i] })),
    );
    // The first take leases every place: 2 jobs run, 3 wait here, leased.
    await log.untilCount(maxDemand, 'start');
    await expect.poll(() => store.zcard(keys.processing)).toBe(maxDemand + prefetch);
    expect(await store.llen(keys.waiting)).toBe(total - maxDemand - prefetch);
    for (let done = 0; done < total; done++) {
      const expectedRunning = Math.min(maxDemand, total - done);
      await log.untilCount(done + expectedRunning, 'start');
      expect(meter.running).toBe(expectedRunning);
      const leased = await store.zcard(keys.processing);
      expect(leased).toBeGreaterThanOrEqual(expectedRunning);
      expect(leased).toBeLessThanOrEqual(maxDemand + prefetch);
      meter.releaseOne();
      await log.untilCount(done + 1, 'end');
    }
    expect(meter.peak).toBe(maxDemand);
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    expect(log.performed.filter((p) => p.worker === 'start').map((p) => p.args[0])).toEqual(
      Array.from({ length: total }, (_, i) => i),
    );
  });

  it('hands prefetched jobs back at pause and at shutdown; none is lost, each ends once', async () => {
    const keys = keysOf(namespace, 'ahead');
    const log = new JobLog();
    const meter = new Meter();
    const providers = [
      { provide: Meter, useValue: meter },
      { provide: JobLog, useValue: log },
      AheadWorker,
    ];
    const app = await apps.boot(options('ahead', 2, 3), providers);
    await app.get(FlumeClient).bulkEnqueue(
      'ahead',
      Array.from({ length: 8 }, (_, i) => ({ worker: AheadWorker, args: [i] })),
    );
    await log.untilCount(2, 'start');
    await expect.poll(() => store.zcard(keys.processing)).toBe(5);

    // Paused: the two running jobs go on, the three prefetched are back in the queue
    // once the pause resolves.
    await app.get(FlumeProducer).pause('ahead_pipeline');
    expect(await store.zcard(keys.processing)).toBe(2);
    expect(await store.llen(keys.waiting)).toBe(6);
    meter.releaseOne();
    meter.releaseOne();
    await log.untilCount(2, 'end');
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    expect(log.count('start')).toBe(2);

    // Resumed, then shut down with two running and three prefetched: all five go back.
    await app.get(FlumeProducer).resume('ahead_pipeline');
    await log.untilCount(4, 'start');
    await expect.poll(() => store.zcard(keys.processing)).toBe(5);
    await apps.closeAll();
    expect(await store.zcard(keys.processing)).toBe(0);
    expect(await store.llen(keys.waiting)).toBe(6);

    // Another instance runs them: each of the 8 jobs ends once.
    const second = new Meter();
    second.releaseAll();
    await apps.boot(options('ahead', 2, 3), [
      { provide: Meter, useValue: second },
      { provide: JobLog, useValue: log },
      AheadWorker,
    ]);
    await log.untilCount(8, 'end');
    const ended = log.performed.filter((p) => p.worker === 'end').map((p) => p.args[0]);
    expect([...ended].sort((a, b) => (a as number) - (b as number))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
  });

  it('never exceeds maxDemand with many short jobs', async () => {
    const app = await apps.boot(options('fast', 8), [Meter, JobLog, FastWorker]);
    const meter = app.get(Meter);
    const log = app.get(JobLog);
    await app.get(FlumeClient).bulkEnqueue(
      'fast',
      Array.from({ length: 400 }, (_, i) => ({ worker: FastWorker, args: [i] })),
    );
    await log.untilCount(400, 'fast');
    expect(meter.peak).toBe(8);
    expect(new Set(log.performed.map((p) => p.args[0])).size).toBe(400);
  });
});
