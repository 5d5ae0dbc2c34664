import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlumeClient, FlumeWorkerError, Worker, type FlumeModuleOptions } from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  jobKeys,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';

@Worker('forgot')
class ProvidedWorker {
  constructor(private readonly log: JobLog) {}

  perform(): void {
    this.log.record('ProvidedWorker', []);
  }
}

/** Declared, but listed in no module's providers. */
@Worker('forgot', { name: 'forgotten' })
class ForgottenWorker {
  perform(): void {}
}

/** Not provided either, but its queue runs nowhere in these apps: nothing to say. */
@Worker('elsewhere')
class ElsewhereWorker {
  perform(): void {}
}

describe('a @Worker class missing from providers', () => {
  const namespace = uniqueNamespace('worker-providers');
  const apps = new Apps();
  const options = (logger: CaptureLogger, extra: Partial<FlumeModuleOptions> = {}) => ({
    connection: testConnection(),
    namespace,
    logger,
    pipelines: [{ name: 'forgot_pipeline', queue: 'forgot' }],
    ...extra,
  });
  let redis: TestRedis;

  beforeAll(() => {
    redis = inspector();
  });

  afterEach(async () => {
    await apps.closeAll();
    await deleteNamespace(redis, namespace);
  });

  afterAll(() => {
    redis.disconnect();
  });

  it('is named at boot where this process runs its queue, with the fix', async () => {
    const logger = new CaptureLogger();
    await apps.boot(options(logger), [JobLog, ProvidedWorker]);
    expect(logger.find(/providers/, 'warn').map((e) => e.message)).toEqual([
      "Worker class ForgottenWorker has @Worker('forgot') but no module lists it in its providers, " +
        'so this process runs queue "forgot" without it: its jobs (worker "forgotten") would go to the ' +
        "dead set. Add ForgottenWorker to a module's providers.",
    ]);
  });

  it('is refused at enqueue where this process runs its queue, writing nothing', async () => {
    const app = await apps.boot(options(new CaptureLogger()), [JobLog, ProvidedWorker]);
    const client = app.get(FlumeClient);
    const error = await client.enqueue('forgot', ForgottenWorker, []).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(FlumeWorkerError);
    expect((error as Error).message).toBe(
      'Worker class ForgottenWorker is not registered: no module lists it in its providers. ' +
        'This process runs queue "forgot", where the job would go to the dead set. ' +
        "Add ForgottenWorker to a module's providers.",
    );
    await expect(
      client.bulkEnqueue('forgot', [{ worker: ForgottenWorker, args: [] }]),
    ).rejects.toThrow(FlumeWorkerError);
    expect(await jobKeys(redis, namespace)).toEqual([]);
    // A provided worker of the same queue is enqueued and runs as ever.
    await client.enqueue('forgot', ProvidedWorker, []);
    await app.get(JobLog).untilCount(1, 'ProvidedWorker');
  });

  it('is fine in a process that only enqueues: the class need not be provided there', async () => {
    const logger = new CaptureLogger();
    const app = await apps.boot(options(logger, { runPipelines: [] }), [JobLog]);
    expect(logger.find(/providers/, 'warn')).toEqual([]);
    await app.get(FlumeClient).enqueue('forgot', ForgottenWorker, []);
    await app.get(FlumeClient).enqueue('elsewhere', ElsewhereWorker, []);
    expect(await redis.llen(keysOf(namespace, 'forgot').waiting)).toBe(1);
  });
});
