import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeContext,
  FlumeEvents,
  FlumeProducer,
  Worker,
  type FlumeEvent,
  type FlumeModuleOptions,
} from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { Gate } from '../../support/gate.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

/** Lets a test hold the jobs of one app instance running. */
class Hold {
  gate = new Gate();
}

@Worker('busy', { name: 'BusyWorker' })
class BusyWorker {
  constructor(private readonly log: JobLog) {}

  async perform(index: number, workMs: number): Promise<void> {
    this.log.record('start', [index]);
    await new Promise((resolve) => setTimeout(resolve, workMs));
    this.log.record('end', [index]);
  }
}

@Worker('stuck', { name: 'StuckWorker' })
class StuckWorker {
  constructor(
    private readonly log: JobLog,
    private readonly hold: Hold,
  ) {}

  async perform(index: number): Promise<void> {
    this.log.record('start', [index]);
    await this.hold.gate.wait();
    this.log.record('end', [index]);
  }
}

/** Stops as soon as its job's signal aborts, as a well-behaved handler does. */
@Worker('aborting', { name: 'AbortingWorker' })
class AbortingWorker {
  constructor(private readonly log: JobLog) {}

  async perform(index: number): Promise<void> {
    const { signal } = FlumeContext.current()!;
    this.log.record('start', [index]);
    await new Promise((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
    );
  }
}

@Worker('quick')
class QuickWorker {
  constructor(private readonly log: JobLog) {}

  async perform(index: number): Promise<void> {
    this.log.record('start', [index]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    this.log.record('end', [index]);
  }
}

/** Same registered name as StuckWorker, but it finishes: the app that picks up the pieces. */
@Worker('stuck', { name: 'StuckWorker' })
class UnstuckWorker {
  constructor(private readonly log: JobLog) {}

  perform(index: number): void {
    this.log.record('rerun', [index]);
  }
}

describe('graceful shutdown', () => {
  const namespace = uniqueNamespace('shutdown');
  const apps = new Apps();
  const logger = new CaptureLogger();
  let store: TestStore;

  const options = (
    queue: string,
    maxDemand: number,
    shutdownTimeout: number,
  ): FlumeModuleOptions => ({
    connection: testConnection(),
    namespace,
    pipelines: [{ name: `${queue}_pipeline`, queue, maxDemand }],
    visibilityTimeout: 60_000,
    shutdownTimeout,
    logger,
  });

  /** Every list, set and lease of `queue`, parsed. */
  async function stateOf(queue: string) {
    const keys = keysOf(namespace, queue);
    const waiting = (await store.lrange(keys.waiting, 0, -1)).map((raw) => JSON.parse(raw));
    return {
      waiting,
      waitingIndexes: waiting.map((job) => job.args[0] as number),
      processing: await store.zcard(keys.processing),
      retry: await store.zcard(keys.retry),
      dead: await store.zcard(keys.dead),
      scheduled: await store.zcard(keys.scheduled),
    };
  }

  const indexesOf = (log: JobLog, worker: string) =>
    log.performed.filter((p) => p.worker === worker).map((p) => p.args[0] as number);

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

  it('under load: every job is either done once or back in the queue once, none half-way', async () => {
    const total = 300;
    const app = await apps.boot(options('busy', 10, 5_000), [JobLog, BusyWorker]);
    const log = app.get(JobLog);
    await app.get(FlumeClient).bulkEnqueue(
      'busy',
      Array.from({ length: total }, (_, i) => ({
        worker: BusyWorker,
        args: [i, 10 + (i % 5) * 10],
      })),
    );
    await log.untilCount(40, 'end');
    const producer = app.get(FlumeProducer);
    expect(producer.pendingJobsCount('busy_pipeline')).toBeGreaterThan(0);

    await apps.close(app);
    const startedAfterClose = log.count('start');

    const started = indexesOf(log, 'start');
    const ended = indexesOf(log, 'end');
    const state = await stateOf('busy');
    // Jobs running at close finished within shutdownTimeout...
    expect(ended.sort((a, b) => a - b)).toEqual(started.sort((a, b) => a - b));
    expect(new Set(ended).size).toBe(ended.length);
    // ...and the others are back, each exactly once, untouched.
    expect(state.processing).toBe(0);
    expect(state.retry + state.dead + state.scheduled).toBe(0);
    expect(new Set(state.waitingIndexes).size).toBe(state.waitingIndexes.length);
    expect(state.waiting.every((job) => job.retry_count === 0)).toBe(true);
    const all = [...ended, ...state.waitingIndexes].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(state.waitingIndexes.length).toBeGreaterThan(0);
    // Closed means closed: nothing starts afterwards.
    expect(log.count('start')).toBe(startedAfterClose);
  });

  it('reports a job handed back at shutdown as handed back, not as a failure', async () => {
    const log = new JobLog();
    const app = await apps.boot({ ...options('aborting', 2, 200), instrument: true }, [
      { provide: JobLog, useValue: log },
      AbortingWorker,
    ]);
    const events: FlumeEvent[] = [];
    app.get(FlumeEvents).events$.subscribe((event) => events.push(event));
    await app.get(FlumeClient).enqueue('aborting', AbortingWorker, [1]);
    await log.untilCount(1, 'start');
    await apps.close(app);

    const types = events.map((event) => event.type);
    expect(types).toContain('job:handed-back');
    expect(types).not.toContain('job:failure');
    expect(types).not.toContain('job:retry');
    expect(
      logger.find(/AbortingWorker.*was handed back to queue "aborting" unfinished/, 'log'),
    ).toHaveLength(1);
    expect(logger.find(/AbortingWorker.*failed/)).toHaveLength(0);
    const state = await stateOf('aborting');
    expect(state.waiting).toHaveLength(1);
    expect(state.waiting[0].retry_count).toBe(0);
  });

  it('hands jobs still running after shutdownTimeout back to the queue, without using a retry', async () => {
    const shutdownTimeout = 300;
    const hold = new Hold();
    const log = new JobLog();
    const app = await apps.boot(options('stuck', 4, shutdownTimeout), [
      { provide: JobLog, useValue: log },
      { provide: Hold, useValue: hold },
      StuckWorker,
    ]);
    await app.get(FlumeClient).bulkEnqueue(
      'stuck',
      Array.from({ length: 10 }, (_, i) => ({ worker: StuckWorker, args: [i] })),
    );
    await log.untilCount(4, 'start');
    expect(await store.zcard(keysOf(namespace, 'stuck').processing)).toBe(4);

    const closing = Date.now();
    await apps.close(app);
    expect(Date.now() - closing).toBeGreaterThanOrEqual(shutdownTimeout - 5);

    let state = await stateOf('stuck');
    expect(state.processing).toBe(0);
    expect(state.retry + state.dead).toBe(0);
    expect([...state.waitingIndexes].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The jobs handed back run first next time, in their original order.
    expect(state.waitingIndexes.slice(0, 4).sort()).toEqual(indexesOf(log, 'start').sort());
    expect(state.waiting.every((job) => job.retry_count === 0 && !job.error_message)).toBe(true);
    expect(
      logger.find(/4 job\(s\) still running after 300 ms were handed back/, 'warn'),
    ).toHaveLength(1);

    // The abandoned handlers finish late: their acknowledgement must not remove anything.
    hold.gate.open();
    await log.untilCount(4, 'end');
    await new Promise((resolve) => setImmediate(resolve));
    state = await stateOf('stuck');
    expect(state.waiting).toHaveLength(10);

    // A new instance runs every job exactly once: nothing was lost.
    const next = await apps.boot(options('stuck', 4, shutdownTimeout), [
      { provide: JobLog, useValue: log },
      UnstuckWorker,
    ]);
    await log.untilCount(10, 'rerun');
    expect(indexesOf(log, 'rerun').sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await expect.poll(() => store.zcard(keysOf(namespace, 'stuck').processing)).toBe(0);
    await apps.close(next);
  });

  it('can be closed twice, or concurrently, and through the producer first', async () => {
    const app = await apps.boot(options('quick', 2, 1_000), [JobLog, QuickWorker]);
    const log = app.get(JobLog);
    await app.get(FlumeClient).enqueue('quick', QuickWorker, [1]);
    await log.untilCount(1, 'start');
    await Promise.all([app.get(FlumeProducer).close(), app.close(), app.close()]);
    await app.close();
    expect(log.count('end')).toBe(1);
    expect(await store.zcard(keysOf(namespace, 'quick').processing)).toBe(0);
    await expect(app.get(FlumeClient).enqueue('quick', QuickWorker, [2])).rejects.toThrow(
      /closed|shut down/i,
    );
  });
});
