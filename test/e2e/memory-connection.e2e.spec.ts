import 'reflect-metadata';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FlumeClient,
  FlumeConnectionError,
  FlumeTesting,
  Worker,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import { uniqueNamespace } from '../support/redis.js';

@Worker('work')
class WorkWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('work', [tag]);
  }
}

// What `connection: { memory: true }` means for an app, beyond the behaviour the
// shared e2e specs (test/e2e/behaviour/) check on both stores.
describe('connection: { memory: true }', () => {
  const apps = new Apps();
  const connects: unknown[] = [];

  beforeAll(() => {
    for (const client of [Redis, Cluster]) {
      vi.spyOn(client.prototype, 'connect').mockImplementation(function (this: unknown) {
        connects.push(this);
        return Promise.resolve();
      });
    }
  });

  afterEach(() => apps.closeAll());

  afterAll(() => {
    vi.restoreAllMocks();
  });

  function options(namespace: string, extra: Partial<FlumeModuleOptions> = {}) {
    const logger = new CaptureLogger();
    return {
      logger,
      options: { connection: { memory: true }, namespace, logger, ...extra } as FlumeModuleOptions,
    };
  }

  it('says at boot that jobs live in this process only, and connects to no Redis', async () => {
    const { logger, options: opts } = options(uniqueNamespace('memory-boot'), {
      pipelines: [{ name: 'work', queue: 'work' }],
    });
    const app = await apps.boot(opts, [JobLog, WorkWorker]);
    await app.get(FlumeClient).enqueue('work', WorkWorker, ['w1']);
    await app.get(JobLog).untilCount(1, 'work');
    expect(logger.entries.map(({ level, message }) => ({ level, message }))).toEqual([
      {
        level: 'warn',
        message:
          'Flume keeps its jobs in the memory of this process (connection: { memory: true }): ' +
          'one process only, nothing is durable, and jobs not done when the process exits are lost. ' +
          'Use Redis to keep jobs across restarts or to share queues between processes.',
      },
    ]);
    expect(connects).toEqual([]);
  });

  it('is one store for the process: apps share it by namespace, and it outlives them', async () => {
    const namespace = uniqueNamespace('memory-shared');
    const enqueuer = await apps.boot(options(namespace).options);
    const client = enqueuer.get(FlumeClient);
    await client.enqueue('work', WorkWorker, ['before-restart']);
    await apps.close(enqueuer);
    await expect(client.enqueue('work', WorkWorker, ['after-close'])).rejects.toThrow(
      new FlumeConnectionError(
        "Flume's memory store did not take the job: the Flume module has shut down.",
      ),
    );

    // Another namespace sees nothing of it.
    const other = await apps.boot(options(uniqueNamespace('memory-other')).options);
    expect(await other.get(FlumeClient).jobCounts(['work'])).toEqual({ work: 0 });

    // An app booted later in the same process, in the same namespace, runs the job.
    const worker = await apps.boot(
      options(namespace, { pipelines: [{ name: 'work', queue: 'work' }] }).options,
      [JobLog, WorkWorker],
    );
    await worker.get(FlumeTesting).untilIdle();
    expect(worker.get(JobLog).performed.map((p) => p.args)).toEqual([['before-restart']]);
  });
});
