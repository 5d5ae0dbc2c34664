import 'reflect-metadata';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeConfigError,
  FlumeEvents,
  OnFlumeEvent,
  Worker,
  type FlumeEvent,
  type FlumeEventOf,
  type FlumeEventType,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';

/** Events a listener received, with waits that resolve on the listener's own call. */
class Received {
  readonly events: FlumeEvent[] = [];
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  push(event: FlumeEvent): void {
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => !w.test() || (w.resolve(), false));
  }

  of(jobId: string): FlumeEventType[] {
    return this.events.filter((e) => 'jobId' in e && e.jobId === jobId).map((e) => e.type);
  }

  until(test: () => boolean, what: string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), 10_000);
      this.waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

@Worker('oe')
class OeWorker {
  constructor(private readonly log: JobLog) {}

  perform(mode: 'ok' | 'fail'): void {
    this.log.record('OeWorker', [mode]);
    if (mode === 'fail') throw new Error('boom');
  }
}

/** A base class's listener is inherited; stacked decorators listen to several types. */
class BaseListener {
  constructor(readonly received: Received) {}

  @OnFlumeEvent('job:success')
  @OnFlumeEvent('job:dead')
  onEnd(event: FlumeEventOf<'job:success'> | FlumeEventOf<'job:dead'>): void {
    this.received.push(event);
  }
}

@Injectable()
class Listener extends BaseListener {
  constructor() {
    super(new Received());
  }

  @OnFlumeEvent('enqueue')
  onEnqueue(event: FlumeEventOf<'enqueue'>): void {
    this.received.push(event);
  }

  @OnFlumeEvent('job:start')
  async onStart(event: FlumeEventOf<'job:start'>): Promise<void> {
    this.received.push(event);
  }
}

/** Listeners that fail: the jobs they hear about must not. */
@Injectable()
class FaultyListener {
  @OnFlumeEvent('job:start')
  throws(): void {
    throw new Error('listener threw');
  }

  @OnFlumeEvent('job:success')
  async rejects(): Promise<void> {
    throw new Error('listener rejected');
  }
}

/** A listener in a feature module, found as well as one of the root module. */
@Injectable()
class FeatureListener {
  readonly received = new Received();

  @OnFlumeEvent('job:success')
  onSuccess(event: FlumeEvent): void {
    this.received.push(event);
  }
}

@Module({ providers: [FeatureListener], exports: [FeatureListener] })
class FeatureModule {}

/** A CaptureLogger whose errors a test can wait for. */
class WaitingLogger extends CaptureLogger {
  private waiters: { pattern: RegExp; resolve: () => void }[] = [];

  override error(message: string): void {
    super.error(message);
    this.waiters = this.waiters.filter((w) => !w.pattern.test(message) || (w.resolve(), false));
  }

  untilLogged(pattern: RegExp): Promise<void> {
    if (this.find(pattern).length > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pattern, resolve }));
  }
}

describe('@OnFlumeEvent', () => {
  const namespace = uniqueNamespace('on-flume-event');
  const apps = new Apps();
  let redis: TestRedis;
  const base = (logger: CaptureLogger): FlumeModuleOptions => ({
    connection: testConnection(),
    namespace,
    logger,
    maxRetries: 0,
    pipelines: [{ name: 'oe', queue: 'oe', maxDemand: 1 }],
  });

  beforeAll(() => {
    redis = inspector();
  });

  afterEach(() => apps.closeAll());

  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('calls listener methods of any provider, inherited and stacked, with no instrument flag', async () => {
    const logger = new CaptureLogger();
    const app = await apps.boot(base(logger), [JobLog, OeWorker, Listener], [FeatureModule]);
    const { received } = app.get(Listener);
    const feature = app.get(FeatureListener).received;
    const client = app.get(FlumeClient);

    const ok = await client.enqueue('oe', OeWorker, ['ok']);
    const failed = await client.enqueue('oe', OeWorker, ['fail']);
    await received.until(() => received.of(ok).includes('job:success'), 'job:success');
    await received.until(() => received.of(failed).includes('job:dead'), 'job:dead');
    await feature.until(() => feature.of(ok).includes('job:success'), 'the feature listener');

    expect(received.of(ok)).toEqual(['job:start', 'job:success']);
    expect(received.of(failed)).toEqual(['job:start', 'job:dead']);
    expect(received.events.filter((e) => e.type === 'enqueue')).toHaveLength(2);
    const dead = received.events.find((e) => e.type === 'job:dead')!;
    expect(dead).toMatchObject({ queue: 'oe', worker: 'OeWorker', jobId: failed });
    expect(logger.find(/OnFlumeEvent/)).toEqual([]);
  });

  it('logs a listener that throws or rejects, and the job still succeeds', async () => {
    const logger = new WaitingLogger();
    const app = await apps.boot(base(logger), [JobLog, OeWorker, Listener, FaultyListener]);
    const { received } = app.get(Listener);
    const jid = await app.get(FlumeClient).enqueue('oe', OeWorker, ['ok']);
    await received.until(() => received.of(jid).includes('job:success'), 'job:success');
    await logger.untilLogged(/rejected/);
    expect(
      logger.find(/FaultyListener\.throws failed on "job:start": listener threw/, 'error'),
    ).toHaveLength(1);
    expect(
      logger.find(/FaultyListener\.rejects failed on "job:success": listener rejected/, 'error'),
    ).toHaveLength(1);
    expect(logger.find(/Moved to the dead set|failed:/)).toEqual([]);
  });

  it('leaves instrument: false alone, and says why the listeners hear nothing', async () => {
    const logger = new CaptureLogger();
    const app = await apps.boot({ ...base(logger), instrument: false }, [
      JobLog,
      OeWorker,
      Listener,
    ]);
    const seen: FlumeEvent[] = [];
    app.get(FlumeEvents).events$.subscribe((e) => seen.push(e));
    const { received } = app.get(Listener);
    const client = app.get(FlumeClient);
    await client.enqueue('oe', OeWorker, ['ok']);
    await client.enqueue('oe', OeWorker, ['ok']);
    // One job at a time (maxDemand 1): the second ran after the first was settled.
    await app.get(JobLog).untilCount(2);
    expect(received.events).toEqual([]);
    expect(seen).toEqual([]);
    expect(logger.find(/Listener\.onEnd.*"instrument" option is false/, 'warn')).toHaveLength(1);
  });

  it('warns about a listener built by a factory, whose class the engine could not see', async () => {
    const logger = new CaptureLogger();
    const app = await apps.boot(base(logger), [
      JobLog,
      OeWorker,
      // Built after the options (it needs FlumeClient): its class is unknown until then.
      { provide: 'LISTENER', useFactory: () => new FeatureListener(), inject: [FlumeClient] },
    ]);
    expect(app.get('LISTENER')).toBeInstanceOf(FeatureListener);
    expect(
      logger.find(/FeatureListener\.onSuccess.*built by a factory.*instrument: true/, 'warn'),
    ).toHaveLength(1);
  });

  it('refuses an unknown event type, naming the known ones', () => {
    expect(() => OnFlumeEvent('job:died' as FlumeEventType)).toThrow(FlumeConfigError);
    expect(() => OnFlumeEvent('job:died' as FlumeEventType)).toThrow(
      /no such event type.*'job:dead'/,
    );
  });
});
