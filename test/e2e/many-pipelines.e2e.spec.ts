import 'reflect-metadata';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FlumeClient, Worker, type FlumePipelineOptions } from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  ON_CLUSTER,
  REDIS_URL,
  uniqueNamespace,
} from '../support/redis.js';

@Worker('many')
class ManyWorker {
  constructor(private readonly log: JobLog) {}

  perform(i: number): void {
    this.log.record('ManyWorker', [i]);
  }
}

const PIPELINES = 12;

/** On the single Redis (skipped in the cluster run): the test drops one of its app's connections by name. */
describe.skipIf(ON_CLUSTER)('more than ten pipelines in one process', () => {
  const namespace = uniqueNamespace('many-pipelines');
  const apps = new Apps();
  const redis = inspector(REDIS_URL);

  afterEach(() => apps.closeAll());
  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('wait for their shared worker connection without a MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const pipelines: FlumePipelineOptions[] = Array.from({ length: PIPELINES }, (_, i) => ({
        name: `many_${i}`,
        queue: 'many',
        maxDemand: 1,
      }));
      const logger = new CaptureLogger();
      const app = await apps.boot(
        { connection: { url: REDIS_URL }, namespace, pipelines, logger },
        [JobLog, ManyWorker],
      );
      const log = app.get(JobLog);
      const client = app.get(FlumeClient);
      const jobs = (from: number) =>
        Array.from({ length: PIPELINES }, (_, i) => ({ worker: ManyWorker, args: [from + i] }));
      await client.bulkEnqueue('many', jobs(0));
      await log.untilCount(PIPELINES);

      // Drop the pipelines' shared connection, then wake them all with jobs: each take
      // fails at once (no offline queue) and every pipeline waits for the reconnection.
      const clients = (await redis.client('LIST')) as string;
      const id = /id=(\d+) .*name=flume:\S+:worker\b/.exec(
        clients.split('\n').find((line) => line.includes(`name=flume:${namespace}:worker`))!,
      )![1];
      await redis.client('KILL', 'ID', id);
      await client.bulkEnqueue('many', jobs(PIPELINES));
      await log.untilCount(2 * PIPELINES);
      await apps.closeAll();
      // Node emits warnings on the next tick: let any be delivered before looking.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
