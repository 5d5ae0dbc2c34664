import 'reflect-metadata';
import { Logger, type INestApplicationContext, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeModule,
  FlumeProducer,
  Worker,
  type FlumeModuleOptions,
} from '../../lib/index.js';
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

/** Nest's own logger for the test module: what `new Logger('Flume')` writes to. */
class NestCapture implements LoggerService {
  readonly entries: { level: string; message: string; context?: string }[] = [];

  log(message: string, context?: string): void {
    this.entries.push({ level: 'log', message, context });
  }
  warn(message: string, context?: string): void {
    this.entries.push({ level: 'warn', message, context });
  }
  error(message: string, _stack?: string, context?: string): void {
    this.entries.push({ level: 'error', message, context: context ?? _stack });
  }
  debug(message: string, context?: string): void {
    this.entries.push({ level: 'debug', message, context });
  }

  flume(): string[] {
    return this.entries.filter((e) => e.context === 'Flume').map((e) => `${e.level}: ${e.message}`);
  }
}

@Worker('logged', { maxRetries: 1 })
class LoggedWorker {
  constructor(private readonly log: JobLog) {}

  perform(mode: 'ok' | 'fail'): void {
    this.log.record('LoggedWorker', [mode]);
    if (mode === 'fail') throw new Error('logged failure');
  }
}

/** No pipeline of the app consumes its queue: the module warns about it at boot. */
@Worker('orphan')
class OrphanWorker {
  perform(): void {}
}

describe('logging', () => {
  const namespace = uniqueNamespace('logging');
  const keys = keysOf(namespace, 'logged');
  const open: INestApplicationContext[] = [];
  const nestLoggerBefore = (Logger as unknown as { staticInstanceRef: LoggerService })
    .staticInstanceRef;
  let redis: TestRedis;

  const base: FlumeModuleOptions = {
    connection: testConnection(),
    namespace,
    backoffInitial: 20,
    backoffMax: 20,
    schedulerPollInterval: 20,
    pipelines: [{ name: 'logged', queue: 'logged', maxDemand: 5 }],
  };

  async function boot(options: FlumeModuleOptions, nest: NestCapture, orphan = false) {
    const moduleRef = await Test.createTestingModule({
      imports: [FlumeModule.forRoot(options)],
      providers: [JobLog, LoggedWorker, ...(orphan ? [OrphanWorker] : [])],
    })
      .setLogger(nest)
      .compile();
    open.push(moduleRef);
    await moduleRef.init();
    return moduleRef;
  }

  /** A job that succeeds, one that fails until dead, and a pause and resume. */
  async function exercise(app: INestApplicationContext): Promise<string[]> {
    const client = app.get(FlumeClient);
    const ok = await client.enqueue('logged', LoggedWorker, ['ok']);
    const failed = await client.enqueue('logged', LoggedWorker, ['fail']);
    const log = app.get(JobLog);
    await log.until(() => log.count('LoggedWorker') >= 3, 'ok once, fail twice');
    await expect.poll(() => redis.zcard(keys.dead)).toBeGreaterThan(0);
    await app.get(FlumeProducer).pause('logged');
    await app.get(FlumeProducer).resume('logged');
    await redis.del(keys.dead);
    return [ok, failed];
  }

  beforeAll(() => {
    redis = inspector();
  });

  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((app) => app.close()));
  });

  afterAll(async () => {
    Logger.overrideLogger(nestLoggerBefore);
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('by default logs through Nest Logger, in context "Flume"', async () => {
    const nest = new NestCapture();
    const app = await boot(base, nest, true);
    await exercise(app);
    const lines = nest.flume();
    expect(lines).toContainEqual(
      expect.stringMatching(/^warn: Worker OrphanWorker handles queue "orphan"/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^warn: Job .* \(LoggedWorker\) failed: logged failure\. Retry 1 of 1/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^error: Job .*dead set/));
    expect(lines).toContainEqual('log: Pipeline "logged" paused in this process.');
  });

  it('takes any LoggerService, and Nest Logger then gets nothing from Flume', async () => {
    const nest = new NestCapture();
    const logger = new CaptureLogger();
    const app = await boot({ ...base, logger }, nest, true);
    const [, failed] = await exercise(app);
    expect(nest.flume()).toEqual([]);
    expect(logger.find(/^Worker OrphanWorker handles queue "orphan"/, 'warn')).toHaveLength(1);
    expect(
      logger.find(new RegExp(`^Job ${failed} \\(LoggedWorker\\) failed`), 'warn'),
    ).toHaveLength(1);
    expect(logger.find(new RegExp(`^Job ${failed} .*dead set`), 'error')).toHaveLength(1);
    expect(
      logger.find(/^Pipeline "logged" (paused|resumed) in this process\.$/, 'log'),
    ).toHaveLength(2);
    // Debug logging is off by default.
    expect(logger.find(/./, 'debug')).toEqual([]);
  });

  it('logs nothing at all with logger: false', async () => {
    const nest = new NestCapture();
    const app = await boot({ ...base, logger: false }, nest, true);
    await exercise(app);
    expect(nest.flume()).toEqual([]);
  });

  it('a clean boot and a job that succeeds log no warning or error', async () => {
    const nest = new NestCapture();
    const logger = new CaptureLogger();
    const app = await boot({ ...base, logger }, nest);
    await app.get(FlumeClient).enqueue('logged', LoggedWorker, ['ok']);
    await app.get(JobLog).untilCount(1);
    await expect.poll(() => redis.zcard(keys.processing)).toBe(0);
    expect(logger.entries.filter((e) => e.level === 'warn' || e.level === 'error')).toEqual([]);
  });

  it('with debug: true, logs each job start and end at debug level', async () => {
    const nest = new NestCapture();
    const logger = new CaptureLogger();
    const app = await boot({ ...base, logger, debug: true }, nest);
    const jid = await app.get(FlumeClient).enqueue('logged', LoggedWorker, ['ok']);
    await app.get(JobLog).untilCount(1);
    await expect.poll(() => logger.find(/succeeded/, 'debug').length).toBe(1);
    expect(logger.find(/./, 'debug').map((e) => e.message)).toEqual([
      `Job ${jid} (LoggedWorker) started.`,
      expect.stringMatching(new RegExp(`^Job ${jid} \\(LoggedWorker\\) succeeded in \\d+ ms\\.$`)),
    ]);
  });
});
