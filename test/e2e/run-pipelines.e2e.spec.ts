import 'reflect-metadata';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FlumeClient, FlumeConfigError, FlumeProducer, Worker } from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';

@Worker('alpha')
class AlphaWorker {
  constructor(private readonly log: JobLog) {}
  perform(n: number): void {
    this.log.record('alpha', [n]);
  }
}

@Worker('beta')
class BetaWorker {
  constructor(private readonly log: JobLog) {}
  perform(n: number): void {
    this.log.record('beta', [n]);
  }
}

describe('runPipelines: which declared pipelines a process runs', () => {
  const namespace = uniqueNamespace('run-pipelines');
  const apps = new Apps();
  const redis: TestRedis = inspector();
  const pipelines = [
    { name: 'alpha_pipeline', queue: 'alpha' },
    { name: 'beta_pipeline', queue: 'beta' },
  ];

  afterEach(() => apps.closeAll());
  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('runs only the named pipelines; the others stay declared for handles and stored pauses', async () => {
    const providers = [JobLog, AlphaWorker, BetaWorker];
    const alphaOnly = await apps.boot(
      { connection: testConnection(), namespace, pipelines, runPipelines: ['alpha_pipeline'] },
      providers,
    );
    const log = alphaOnly.get(JobLog);
    const client = alphaOnly.get(FlumeClient);
    await client.enqueue('beta', BetaWorker, [1]);
    await client.enqueue('alpha', AlphaWorker, [2]);
    await log.untilCount(1, 'alpha');
    // The beta job waits for a process that runs beta_pipeline: this one does not take it.
    expect(await client.jobCounts(['beta'])).toEqual({ beta: 1 });
    expect(log.count('beta')).toBe(0);
    expect(alphaOnly.get(FlumeProducer).pipeline('beta_pipeline').queue).toBe('beta');

    const betaRunner = await apps.boot(
      { connection: testConnection(), namespace, pipelines, runPipelines: ['beta_pipeline'] },
      providers,
    );
    await betaRunner.get(JobLog).untilCount(1, 'beta');
    expect(betaRunner.get(JobLog).count('alpha')).toBe(0);
  });

  it('runs none with [], and refuses names that are not declared', async () => {
    const api = await apps.boot(
      { connection: testConnection(), namespace, pipelines, runPipelines: [] },
      [JobLog, AlphaWorker],
    );
    await api.get(FlumeClient).enqueue('alpha', AlphaWorker, [3]);
    expect(await api.get(FlumeClient).jobCounts(['alpha'])).toEqual({ alpha: 1 });
    expect(api.get(FlumeProducer).pendingJobsCount('alpha_pipeline')).toBe(0);
    await redis.del(`${namespace}:queue:{alpha}`);

    await expect(
      apps.boot({ connection: testConnection(), namespace, pipelines, runPipelines: ['gamma'] }),
    ).rejects.toThrow(
      new FlumeConfigError(
        'Invalid option "runPipelines": no pipeline is named "gamma". Declared pipelines: "alpha_pipeline", "beta_pipeline".',
      ),
    );
  });
});
