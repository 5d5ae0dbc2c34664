import 'reflect-metadata';
import type { OnModuleDestroy } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeConfigError,
  FlumeWorkerError,
  Handler,
  Worker,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { FlumeMetadataAccessor } from '../../lib/flume-metadata.accessor.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  jobKeys,
  rawJob,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';

/** Every member a job must not reach writes here when it runs (or is read). */
const touched: string[] = [];

class BaseWorker {
  baseMethod(): void {
    touched.push('baseMethod');
  }

  /** A handler declared on a base class stays one in its subclasses. */
  @Handler()
  inheritedHandler(value: unknown): void {
    touched.push(`inheritedHandler:${String(value)}`);
  }
}

@Worker('guarded')
class GuardedWorker extends BaseWorker implements OnModuleDestroy {
  arrow = (): void => {
    touched.push('arrow');
  };

  constructor(private readonly log: JobLog) {
    super();
  }

  perform(value: unknown): void {
    this.log.record('perform', [value]);
  }

  @Handler()
  archive(value: unknown): void {
    this.log.record('archive', [value]);
  }

  _save(): void {
    touched.push('_save');
  }

  get getter(): () => void {
    touched.push('getter');
    return () => touched.push('getter()');
  }

  override toString(): string {
    touched.push('toString');
    return 'GuardedWorker';
  }

  onModuleDestroy(): void {
    touched.push('onModuleDestroy');
  }
}

const NOT_HANDLERS = [
  '_save',
  'baseMethod',
  'onModuleDestroy',
  'arrow',
  'getter',
  'constructor',
  '__proto__',
  'toString',
];

describe('only handlers run', () => {
  const namespace = uniqueNamespace('handlers');
  const keys = keysOf(namespace, 'guarded');
  const apps = new Apps();
  const options: FlumeModuleOptions = {
    connection: testConnection(),
    namespace,
    logger: new CaptureLogger(),
  };
  let redis: TestRedis;

  beforeAll(() => {
    redis = inspector();
  });

  afterAll(async () => {
    await apps.closeAll();
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('refuses at enqueue a method that is not a handler, by class or by name, writing nothing', async () => {
    const app = await apps.boot(options, [JobLog, GuardedWorker]);
    const client = app.get(FlumeClient);
    for (const method of NOT_HANDLERS) {
      const byClass = await client
        .enqueue('guarded', GuardedWorker, method as never, [] as never)
        .catch((err: unknown) => err);
      expect(byClass).toBeInstanceOf(FlumeWorkerError);
      expect((byClass as Error).message).toBe(
        `Worker "GuardedWorker" has no handler "${method}" (its handlers: perform, archive, inheritedHandler); ` +
          "a job can call only the worker's default method (@Worker({ method }), 'perform' by default) " +
          'and its methods marked @Handler().',
      );
      await expect(client.enqueue('guarded', 'GuardedWorker', method, [])).rejects.toThrow(
        FlumeWorkerError,
      );
      await expect(
        client.bulkEnqueue('guarded', [{ worker: GuardedWorker, function: method, args: [] }]),
      ).rejects.toThrow(`has no handler "${method}"`);
    }
    expect(await jobKeys(redis, namespace)).toEqual([]);
    expect(touched).toEqual([]);
    await apps.close(app);
    touched.length = 0;
  });

  it('buries jobs from Redis naming anything but a handler, with the reason, without running it', async () => {
    const app = await apps.boot(
      { ...options, pipelines: [{ name: 'guarded_pipeline', queue: 'guarded', maxDemand: 1 }] },
      [JobLog, GuardedWorker],
    );
    const log = app.get(JobLog);
    await redis.rpush(
      keys.waiting,
      ...NOT_HANDLERS.map((method) =>
        rawJob({
          jid: `bad-${method}`,
          queue: 'guarded',
          class: 'GuardedWorker',
          function: method,
        }),
      ),
      rawJob({ queue: 'guarded', class: 'GuardedWorker', args: ['default'] }),
      rawJob({ queue: 'guarded', class: 'GuardedWorker', function: 'archive', args: ['declared'] }),
      rawJob({
        queue: 'guarded',
        class: 'GuardedWorker',
        function: 'inheritedHandler',
        args: ['inherited'],
      }),
    );

    await log.untilCount(1, 'archive');
    expect(log.performed.map((p) => [p.worker, p.args])).toEqual([
      ['perform', ['default']],
      ['archive', ['declared']],
    ]);
    await expect.poll(() => redis.zcard(keys.dead)).toBe(NOT_HANDLERS.length);
    await expect.poll(() => touched).toEqual(['inheritedHandler:inherited']);
    const dead = (await redis.zrange(keys.dead, '0', '-1')).map((m) => JSON.parse(m));
    for (const method of NOT_HANDLERS) {
      const job = dead.find((d) => d.jid === `bad-${method}`);
      expect(job, method).toMatchObject({ class: 'GuardedWorker', function: method });
      expect(job.error_message).toBe(
        `worker "GuardedWorker" has no handler "${method}" (its handlers: perform, archive, inheritedHandler); ` +
          "a job can call only the worker's default method (@Worker({ method }), 'perform' by default) " +
          'and its methods marked @Handler()',
      );
    }
    // Nothing but the one declared handler touched anything, not even the getter.
    expect(touched).toEqual(['inheritedHandler:inherited']);
    await apps.close(app);
    touched.length = 0;
  });

  it('finds handlers on the class and its bases; an override without @Handler() is none', () => {
    class Overriding extends GuardedWorker {
      override inheritedHandler(): void {}
    }
    const accessor = new FlumeMetadataAccessor(new Reflector());
    expect([...accessor.getHandlers(GuardedWorker, 'perform')]).toEqual([
      'perform',
      'archive',
      'inheritedHandler',
    ]);
    expect([...accessor.getHandlers(Overriding, 'perform')]).toEqual(['perform', 'archive']);
    // Finding them reads no getter.
    expect(touched).toEqual([]);
  });

  it('refuses @Handler() where no job could call it, where the class is declared', () => {
    const declare = (member: 'static' | 'getter' | 'symbol') => () => {
      const sym = Symbol('handler');
      class Misplaced {
        static run(): void {}
        get value(): number {
          return 1;
        }
        [sym](): void {}
      }
      const on = member === 'static' ? Misplaced : Misplaced.prototype;
      const key = member === 'static' ? 'run' : member === 'getter' ? 'value' : sym;
      Handler()(on, key, Object.getOwnPropertyDescriptor(on, key)!);
    };
    expect(declare('static')).toThrow(
      new FlumeConfigError(
        '@Handler() on Misplaced.run: a static method cannot be a handler: jobs run on the worker instance.',
      ),
    );
    expect(declare('getter')).toThrow(/^@Handler\(\) on Misplaced\.value: only a method/);
    expect(declare('symbol')).toThrow(/needs a string name/);
  });
});
