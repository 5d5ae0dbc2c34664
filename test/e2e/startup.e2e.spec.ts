import 'reflect-metadata';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlumeClient, Worker, type FlumeModuleOptions } from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';

@Worker('boot')
class BootWorker {
  constructor(private readonly log: JobLog) {}

  perform(index: number): void {
    this.log.record('BootWorker', [index]);
  }
}

describe('startup', () => {
  const namespace = uniqueNamespace('startup');
  const apps = new Apps();
  let redis: TestRedis;
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);

  const options = (logger: CaptureLogger): FlumeModuleOptions => ({
    connection: testConnection(),
    namespace,
    pipelines: [{ name: 'boot_pipeline', queue: 'boot', maxDemand: 20 }],
    logger,
  });

  beforeAll(() => {
    redis = inspector();
    process.on('warning', onWarning);
  });

  afterEach(async () => {
    await apps.closeAll();
  });

  afterAll(async () => {
    process.off('warning', onWarning);
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('boots quietly when Redis is up: no warning or error logged', async () => {
    const logger = new CaptureLogger();
    const app = await apps.boot(options(logger), [JobLog, BootWorker]);
    await app.get(FlumeClient).enqueue('boot', BootWorker, [0]);
    await app.get(JobLog).untilCount(1);
    await apps.close(app);
    expect(logger.entries.filter((e) => e.level === 'warn' || e.level === 'error')).toEqual([]);
  });

  it('takes a burst of enqueues sent before the connection is ready, without leaking listeners', async () => {
    const app = await apps.boot(options(new CaptureLogger()), [JobLog, BootWorker]);
    const client = app.get(FlumeClient);
    const log = app.get(JobLog);
    // Not awaited one by one: all are in flight while the connection may still be coming up.
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.enqueue('boot', BootWorker, [i])),
    );
    expect(new Set(ids).size).toBe(50);
    await log.untilCount(50);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    await expect.poll(() => redis.zcard(keysOf(namespace, 'boot').processing)).toBe(0);
  });
});
