import 'reflect-metadata';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeConfigError,
  FlumePayloadError,
  FlumeQueue,
  FlumeTesting,
  FlumeTestingModule,
  FlumeWorkerError,
  Handler,
  InjectQueue,
  Worker,
  getQueueToken,
} from '../../lib/index.js';
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

@Worker('qh-mail')
class QhMailer {
  constructor(private readonly log: JobLog) {}

  perform(to: string): void {
    this.log.record('perform', [to]);
  }

  @Handler()
  digest(to: string, count: number): void {
    this.log.record('digest', [to, count]);
  }
}

@Worker('qh-other')
class QhOther {
  perform(): void {}
}

/** Injects handles as constructor parameter and as property. */
@Injectable()
class Notifier {
  @InjectQueue('qh-remote') readonly remote!: FlumeQueue;

  constructor(@InjectQueue('qh-mail') readonly mail: FlumeQueue) {}
}

describe('FlumeQueue (@InjectQueue)', () => {
  const namespace = uniqueNamespace('queue-handle');
  const apps = new Apps();
  let redis: TestRedis;
  let app: INestApplicationContext;
  let notifier: Notifier;

  beforeAll(async () => {
    redis = inspector();
    app = await apps.boot(
      {
        connection: testConnection(),
        namespace,
        logger: new CaptureLogger(),
        pipelines: [{ name: 'qh', queue: 'qh-mail' }],
      },
      [JobLog, QhMailer, Notifier],
    );
    notifier = app.get(Notifier);
  });

  afterAll(async () => {
    await apps.closeAll();
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('injects a handle bound to the queue, as parameter and as property', () => {
    expect(notifier.mail).toBeInstanceOf(FlumeQueue);
    expect(notifier.mail.name).toBe('qh-mail');
    expect(notifier.remote.name).toBe('qh-remote');
    expect(app.get(getQueueToken('qh-mail'))).toBe(notifier.mail);
  });

  it('enqueues for the default method and for a handler, checked like FlumeClient', async () => {
    const log = app.get(JobLog);
    await notifier.mail.enqueue(QhMailer, ['ada@example.com']);
    await notifier.mail.enqueue(QhMailer, 'digest', ['bob@example.com', 3]);
    await log.untilCount(2);
    expect(log.performed.map((p) => [p.worker, p.args])).toEqual([
      ['perform', ['ada@example.com']],
      ['digest', ['bob@example.com', 3]],
    ]);
    await expect(notifier.mail.enqueue(QhOther, [])).rejects.toThrow(FlumeWorkerError);
    await expect(notifier.mail.enqueue(QhMailer, 'nope' as 'digest', ['x', 1])).rejects.toThrow(
      FlumeWorkerError,
    );
  });

  it('schedules, bulk-enqueues and counts on its queue', async () => {
    const remote = notifier.remote;
    const keys = keysOf(namespace, 'qh-remote');
    const at = new Date(Date.now() + 3_600_000);
    await remote.enqueueIn(3_600_000, 'RemoteWorker', ['later']);
    await remote.enqueueAt(at, 'RemoteWorker', 'other', ['at']);
    expect(await redis.zcard(keys.scheduled)).toBe(2);

    const ids = await remote.bulkEnqueue([
      { worker: 'RemoteWorker', args: [1] },
      { worker: 'RemoteWorker', args: [2] },
    ]);
    expect(ids).toHaveLength(2);
    await remote.enqueue('RemoteWorker', [3], { context: { requestId: 'r1' } });
    expect(await remote.jobCounts()).toBe(3);
    const last = JSON.parse((await redis.lindex(keys.waiting, -1))!);
    expect(last).toMatchObject({ queue: 'qh-remote', class: 'RemoteWorker', args: [3] });
    expect(last.context).toEqual({ requestId: 'r1' });
  });

  it('is also made by FlumeClient.queue, which refuses a name Redis keys cannot carry', () => {
    const client = app.get(FlumeClient);
    expect(client.queue('qh-remote').name).toBe('qh-remote');
    expect(() => client.queue('bad {name}')).toThrow(FlumePayloadError);
  });

  it('refuses an invalid name at decoration', () => {
    expect(() => InjectQueue('has space')).toThrow(FlumeConfigError);
  });

  it('works in test mode', async () => {
    const testApp = await apps.bootModule(
      [FlumeTestingModule.forRoot({ mode: 'fake' })],
      [JobLog, QhMailer, Notifier],
    );
    await testApp.get(Notifier).mail.enqueue(QhMailer, ['test@example.com']);
    expect(testApp.get(FlumeTesting).enqueued('qh-mail')).toMatchObject([
      { class: 'QhMailer', args: ['test@example.com'] },
    ]);
    expect(await testApp.get(Notifier).mail.jobCounts()).toBe(1);
  });
});
