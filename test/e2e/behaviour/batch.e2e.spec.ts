import 'reflect-metadata';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Batch,
  FlumeBatchError,
  FlumeClient,
  FlumeContext,
  FlumeInspector,
  Worker,
} from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { Gate } from '../../support/gate.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

/** One handler call of a batch worker. */
interface HandedOver {
  worker: string;
  jobs: unknown[][];
  jobIds: string[];
  retryCounts: number[];
  contexts: Record<string, unknown>[];
  /** FlumeContext.current() inside a batch: must be undefined (see FlumeContext.batch()). */
  current: unknown;
  at: number;
}

@Injectable()
class Batches {
  readonly calls: HandedOver[] = [];
  readonly log = new JobLog();

  record(worker: string, jobs: unknown[][]): HandedOver {
    const batch = FlumeContext.batch() ?? [];
    const call: HandedOver = {
      worker,
      jobs,
      jobIds: batch.map((c) => c.jobId),
      retryCounts: batch.map((c) => c.retryCount),
      contexts: batch.map((c) => ({ ...c.context })),
      current: FlumeContext.current(),
      at: Date.now(),
    };
    this.calls.push(call);
    // One log entry per job, so tests can wait for "n jobs handed over".
    for (const job of jobs) this.log.record(worker, job);
    return call;
  }

  of(worker: string): HandedOver[] {
    return this.calls.filter((c) => c.worker === worker);
  }

  sizes(worker: string): number[] {
    return this.of(worker).map((c) => c.jobs.length);
  }
}

@Worker('grouped')
@Batch({ size: 5 })
class FiveWorker {
  constructor(private readonly batches: Batches) {}

  perform(jobs: [number, string][]): void {
    this.batches.record('FiveWorker', jobs);
  }
}

@Worker('grouped')
@Batch({ size: 3 })
class ThreeWorker {
  constructor(private readonly batches: Batches) {}

  perform(jobs: [number][]): void {
    this.batches.record('ThreeWorker', jobs);
  }
}

@Worker('timed')
@Batch({ size: 10, timeout: 300 })
class TimedWorker {
  constructor(private readonly batches: Batches) {}

  perform(jobs: [number][]): void {
    this.batches.record('TimedWorker', jobs);
  }
}

/** No @Batch: the pipeline's batchSize makes it a batch worker. */
@Worker('sized')
class PlainWorker {
  constructor(private readonly batches: Batches) {}

  perform(jobs: [number][]): void {
    this.batches.record('PlainWorker', jobs);
  }
}

@Worker('failing', { maxRetries: 2 })
@Batch({ size: 5 })
class FailingWorker {
  constructor(private readonly batches: Batches) {}

  perform(jobs: [number][]): void {
    const call = this.batches.record('FailingWorker', jobs);
    if (call.retryCounts.some((n) => n === 0)) throw new Error('provider down');
  }
}

@Worker('partial', { maxRetries: 2 })
@Batch({ size: 6 })
class PartialWorker {
  constructor(private readonly batches: Batches) {}

  perform(jobs: [number][]): void {
    const call = this.batches.record('PartialWorker', jobs);
    const failures = jobs
      .map(([n], index) => ({ n, index }))
      .filter(({ n, index }) => n % 2 === 1 && call.retryCounts[index] === 0)
      .map(({ n, index }) => ({ index, error: new Error(`mailbox ${n} full`) }));
    if (failures.length > 0) throw new FlumeBatchError(failures);
  }
}

@Worker('demand')
@Batch({ size: 10, timeout: 100 })
class DemandWorker {
  constructor(
    private readonly batches: Batches,
    private readonly gate: Gate,
  ) {}

  async perform(jobs: [number][]): Promise<void> {
    this.batches.record('DemandWorker', jobs);
    await this.gate.wait();
  }
}

describe('batch workers', () => {
  const namespace = uniqueNamespace('batch');
  const apps = new Apps();
  const gate = new Gate();
  let app: INestApplicationContext;
  let client: FlumeClient;
  let batches: Batches;
  let store: TestStore;

  beforeAll(async () => {
    store = testStore();
    app = await apps.boot(
      {
        connection: testConnection(),
        namespace,
        logger: new CaptureLogger(),
        backoffInitial: 50,
        backoffMax: 100,
        schedulerPollInterval: 50,
        pipelines: [
          { name: 'grouped', queue: 'grouped', maxDemand: 50 },
          { name: 'timed', queue: 'timed', maxDemand: 50 },
          { name: 'sized', queue: 'sized', maxDemand: 50, batchSize: 4 },
          { name: 'failing', queue: 'failing', maxDemand: 50 },
          { name: 'partial', queue: 'partial', maxDemand: 50 },
          { name: 'demand', queue: 'demand', maxDemand: 3 },
        ],
      },
      [
        Batches,
        { provide: Gate, useValue: gate },
        FiveWorker,
        ThreeWorker,
        TimedWorker,
        PlainWorker,
        FailingWorker,
        PartialWorker,
        DemandWorker,
      ],
    );
    client = app.get(FlumeClient);
    batches = app.get(Batches);
  });

  afterAll(async () => {
    gate.open();
    await apps.closeAll();
    await store.deleteNamespace(namespace);
    store.close();
  });

  it('hands over arrays of job args, at most size, grouped by worker, with each job context', async () => {
    const jobs = Array.from({ length: 23 }, (_, i) =>
      i % 2 === 0
        ? { worker: FiveWorker, args: [i, `five-${i}`], context: { requestId: `r${i}` } }
        : { worker: ThreeWorker, args: [i], context: { requestId: `r${i}` } },
    );
    const ids = await client.bulkEnqueue('grouped', jobs);
    await batches.log.untilCount(12, 'FiveWorker');
    await batches.log.untilCount(11, 'ThreeWorker');
    console.log(
      `[batch] one take of 23 jobs: FiveWorker (size 5) got ${JSON.stringify(batches.sizes('FiveWorker'))}, ` +
        `ThreeWorker (size 3) got ${JSON.stringify(batches.sizes('ThreeWorker'))}`,
    );

    expect(Math.max(...batches.sizes('FiveWorker'))).toBeLessThanOrEqual(5);
    expect(Math.max(...batches.sizes('ThreeWorker'))).toBeLessThanOrEqual(3);
    // Flume's shape: one array per job, in queue order; each worker gets only its own jobs.
    const five = batches.of('FiveWorker').flatMap((c) => c.jobs);
    expect(five).toEqual(Array.from({ length: 12 }, (_, k) => [2 * k, `five-${2 * k}`]));
    expect(batches.of('ThreeWorker').flatMap((c) => c.jobs)).toEqual(
      Array.from({ length: 11 }, (_, k) => [2 * k + 1]),
    );
    // FlumeContext.batch() lists each job's context, in the order of the args.
    for (const call of batches.calls) {
      expect(call.current).toBeUndefined();
      expect(call.contexts).toEqual(call.jobs.map((job) => ({ requestId: `r${job[0]}` })));
      expect(call.jobIds).toEqual(call.jobs.map((job) => ids[job[0] as number]));
    }
    await expect.poll(() => store.zcard(keysOf(namespace, 'grouped').processing)).toBe(0);
  });

  it('without a timeout, hands over what a take brought at once; with one, waits for the batch to fill', async () => {
    // Timed (size 10, timeout 300): three jobs make a partial batch, handed over after the timeout.
    const first = Date.now();
    // By name: a batch worker's perform takes the batch, not one job's args.
    for (const n of [1, 2, 3]) await client.enqueue('timed', 'TimedWorker', [n]);
    await batches.log.untilCount(3, 'TimedWorker');
    const partial = batches.of('TimedWorker');
    expect(partial.map((c) => c.jobs)).toEqual([[[1], [2], [3]]]);
    expect(partial[0].at - first).toBeGreaterThanOrEqual(290);

    // Ten jobs fill a batch: handed over when full, not after the timeout.
    await client.bulkEnqueue(
      'timed',
      Array.from({ length: 10 }, (_, i) => ({ worker: TimedWorker, args: [i] })),
    );
    await batches.log.untilCount(13, 'TimedWorker');
    expect(batches.sizes('TimedWorker')).toEqual([3, 10]);
    // The full batch may not have waited for the timer, or it would have come with a 300 ms lag.
    const full = batches.of('TimedWorker')[1];
    console.log(
      `[batch] timeout 300 ms: partial batch of 3 handed over ${partial[0].at - first} ms after the first enqueue; ` +
        `batch sizes ${JSON.stringify(batches.sizes('TimedWorker'))}`,
    );
    expect(full.jobs).toEqual(Array.from({ length: 10 }, (_, i) => [i]));
  });

  it('makes every worker of a pipeline with batchSize a batch worker', async () => {
    await client.bulkEnqueue(
      'sized',
      Array.from({ length: 10 }, (_, i) => ({ worker: PlainWorker, args: [i] })),
    );
    await batches.log.untilCount(10, 'PlainWorker');
    console.log(
      `[batch] pipeline batchSize 4, 10 jobs: ${JSON.stringify(batches.sizes('PlainWorker'))}`,
    );
    expect(batches.sizes('PlainWorker')).toEqual([4, 4, 2]);
    expect(batches.of('PlainWorker').flatMap((c) => c.jobs)).toEqual(
      Array.from({ length: 10 }, (_, i) => [i]),
    );
  });

  it('retries every job of a batch that throws', async () => {
    const ids = await client.bulkEnqueue(
      'failing',
      Array.from({ length: 5 }, (_, i) => ({ worker: FailingWorker, args: [i] })),
    );
    // Attempt 1 (all fail), attempt 2 (all succeed): 10 job runs.
    await batches.log.untilCount(10, 'FailingWorker');
    const calls = batches.of('FailingWorker');
    const attempts = new Map<string, number[]>();
    for (const call of calls) {
      call.jobIds.forEach((id, k) =>
        attempts.set(id, [...(attempts.get(id) ?? []), call.retryCounts[k]]),
      );
    }
    expect([...attempts.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) expect(attempts.get(id)).toEqual([0, 1]);
    const keys = keysOf(namespace, 'failing');
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    expect(await store.zcard(keys.retry)).toBe(0);
    expect(await store.zcard(keys.dead)).toBe(0);
  });

  it('retries only the items a FlumeBatchError names; the others are done', async () => {
    const keys = keysOf(namespace, 'partial');
    const ids = await client.bulkEnqueue(
      'partial',
      Array.from({ length: 6 }, (_, i) => ({ worker: PartialWorker, args: [i] })),
    );
    // Catch the retry payloads before they are promoted: filed with the item's own error.
    const filed = new Map<string, string>();
    await expect
      .poll(async () => {
        for (const raw of await store.zrange(keys.retry, '0', '-1')) {
          const job = JSON.parse(raw);
          filed.set(job.jid, job.error_message);
        }
        return batches.log.count('PartialWorker') >= 9 || filed.size === 3;
      })
      .toBe(true);
    await batches.log.untilCount(9, 'PartialWorker');
    const runs = (id: string) =>
      batches.of('PartialWorker').flatMap((c) => c.jobIds.filter((j) => j === id)).length;
    ids.forEach((id, n) => expect(runs(id)).toBe(n % 2 === 1 ? 2 : 1));
    // Whatever was caught in the retry set is one of the odd jobs, with its own error.
    for (const [jid, message] of filed) {
      const n = ids.indexOf(jid);
      expect(n % 2).toBe(1);
      expect(message).toBe(`mailbox ${n} full`);
    }
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    expect(await store.zcard(keys.retry)).toBe(0);
    expect(await store.zcard(keys.dead)).toBe(0);
  });

  it('counts batch jobs against maxDemand', async () => {
    const inspect = app.get(FlumeInspector);
    await client.bulkEnqueue(
      'demand',
      Array.from({ length: 10 }, (_, i) => ({ worker: DemandWorker, args: [i] })),
    );
    // maxDemand 3, batch size 10 with a 100 ms timeout: a batch of 3 after the timeout,
    // and nothing more taken while it runs.
    await batches.log.untilCount(3, 'DemandWorker');
    expect(batches.sizes('DemandWorker')).toEqual([3]);
    expect(await inspect.queueStats('demand')).toMatchObject({ waiting: 7, processing: 3 });
    gate.open();
    await batches.log.untilCount(10, 'DemandWorker');
    console.log(`[batch] maxDemand 3, size 10: ${JSON.stringify(batches.sizes('DemandWorker'))}`);
    expect(Math.max(...batches.sizes('DemandWorker'))).toBeLessThanOrEqual(3);
  });
});
