import 'reflect-metadata';
import { Injectable, Scope } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Batch, FlumeClient, Worker } from '../../lib/index.js';
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

@Injectable({ scope: Scope.TRANSIENT })
@Worker('declared')
class TransientWorker {
  perform(): void {}
}

@Injectable({ scope: Scope.REQUEST })
@Worker('declared')
class RequestWorker {
  perform(): void {}
}

@Worker('declared')
class AliasedWorker {
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

  it('skips request-scoped and transient workers with a warning, and registers an alias once', async () => {
    const logger = new CaptureLogger();
    const app = await apps.boot(
      {
        connection: testConnection(),
        namespace: uniqueNamespace('explorer'),
        pipelines: [{ name: 'declared_pipeline', queue: 'declared' }],
        runPipelines: [],
        logger,
      },
      [
        TransientWorker,
        RequestWorker,
        AliasedWorker,
        { provide: 'ALIAS', useExisting: AliasedWorker },
      ],
    );
    const skipped = logger.find(/is request-scoped or transient/, 'warn').map((e) => e.message);
    expect(skipped).toHaveLength(2);
    expect(skipped.some((m) => m.startsWith('Worker TransientWorker '))).toBe(true);
    expect(skipped.some((m) => m.startsWith('Worker RequestWorker '))).toBe(true);
    // The alias did not fail the boot as a second worker of the same name, and the
    // worker is known: enqueueing it by name to the wrong queue is refused.
    await expect(app.get(FlumeClient).enqueue('other', 'AliasedWorker', [])).rejects.toThrow(
      /handles queue "declared"/,
    );
  });
});
