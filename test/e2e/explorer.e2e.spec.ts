import 'reflect-metadata';
import { afterEach, describe, expect, it } from 'vitest';
import { Batch, Worker } from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { testConnection, uniqueNamespace } from '../support/redis.js';

@Batch({ size: 10 })
class ForgotTheWorkerDecorator {
  perform(): void {}
}

@Worker('declared')
@Batch({ size: 10 })
class ProperBatchWorker {
  perform(): void {}
}

describe('worker discovery', () => {
  const apps = new Apps();
  afterEach(() => apps.closeAll());

  it('warns about a @Batch class that is no @Worker, and says nothing of a proper one', async () => {
    const logger = new CaptureLogger();
    await apps.boot(
      {
        connection: testConnection(),
        namespace: uniqueNamespace('explorer'),
        pipelines: [{ name: 'declared_pipeline', queue: 'declared' }],
        runPipelines: [],
        logger,
      },
      [ForgotTheWorkerDecorator, ProperBatchWorker],
    );
    expect(logger.find(/@Batch/, 'warn').map((entry) => entry.message)).toEqual([
      "ForgotTheWorkerDecorator has @Batch but no @Worker('queue'), so no job runs it. Add @Worker.",
    ]);
  });
});
