import 'reflect-metadata';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { filter, take, toArray } from 'rxjs/operators';
import {
  FlumeClient,
  FlumeConfigError,
  FlumeEvents,
  FlumeUnrecoverableError,
  Worker,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  testConnection,
  uniqueNamespace,
} from '../support/redis.js';

/** Its own backoff: 30 ms, 60 ms, then dead. */
@Worker('policy', { maxRetries: 2, backoff: (attempt) => attempt * 30 })
class StepWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('StepWorker', [tag]);
    throw new Error(`step ${tag}`);
  }
}

/** Gives up at once: retrying cannot help. */
@Worker('policy', { maxRetries: 5 })
class GoneWorker {
  constructor(private readonly log: JobLog) {}

  perform(id: string): void {
    this.log.record('GoneWorker', [id]);
    throw new FlumeUnrecoverableError(`account ${id} no longer exists`);
  }
}

describe('retry policy per worker', () => {
  const namespace = uniqueNamespace('retry-policy');
  const keys = keysOf(namespace, 'policy');
  const apps = new Apps();
  const redis = inspector();
  const options: FlumeModuleOptions = {
    connection: testConnection(),
    namespace,
    pipelines: [{ name: 'policy', queue: 'policy', maxDemand: 5 }],
    instrument: true,
    logger: false,
  };

  afterEach(async () => {
    await apps.closeAll();
    await redis.del(keys.dead);
  });
  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('waits what the worker’s backoff function says, then buries', async () => {
    const app = await apps.boot(options, [JobLog, StepWorker, GoneWorker]);
    const events = app.get(FlumeEvents).events$;
    const retries = firstValueFrom(
      events.pipe(
        filter((e) => e.type === 'job:retry' && e.worker === 'StepWorker'),
        take(2),
        toArray(),
      ),
    );
    const dead = firstValueFrom(app.get(FlumeEvents).ofType('job:dead'));
    await app.get(FlumeClient).enqueue('policy', StepWorker, ['s']);

    expect((await retries).map((e) => e.type === 'job:retry' && e.delayMs)).toEqual([30, 60]);
    expect(await dead).toMatchObject({
      worker: 'StepWorker',
      reason: 'failed 3 time(s), out of retries: step s',
    });
    expect(app.get(JobLog).count('StepWorker')).toBe(3);
  });

  it('sends a job that throws FlumeUnrecoverableError straight to the dead set', async () => {
    const app = await apps.boot(options, [JobLog, StepWorker, GoneWorker]);
    const events: string[] = [];
    app.get(FlumeEvents).events$.subscribe((e) => events.push(e.type));
    const dead = firstValueFrom(app.get(FlumeEvents).ofType('job:dead'));
    await app.get(FlumeClient).enqueue('policy', GoneWorker, ['7']);

    expect((await dead).reason).toBe('unrecoverable: account 7 no longer exists');
    expect(events).not.toContain('job:retry');
    expect(app.get(JobLog).count('GoneWorker')).toBe(1);
    const [document] = await redis.zrange(keys.dead, '0', '-1');
    expect(JSON.parse(document)).toMatchObject({
      class: 'GoneWorker',
      retry_count: 0,
      error_message: 'account 7 no longer exists',
    });
  });

  it('refuses a backoff option that is neither bounds nor a function, where the class is declared', () => {
    expect(() => Worker('policy', { backoff: { initial: 100, max: 10 } })(class Bad {})).toThrow(
      new FlumeConfigError(
        '@Worker on class Bad: "backoff": "max" (10) must not be less than "initial" (100)',
      ),
    );
  });
});
