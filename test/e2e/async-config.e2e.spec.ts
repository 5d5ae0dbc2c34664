import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeConfigError,
  FlumeModule,
  FlumePipeline,
  InjectPipeline,
  Worker,
  type FlumeConnectionOptions,
  type FlumeModuleOptions,
  type FlumeOptionsFactory,
} from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { Gate } from '../support/gate.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';

const namespace = uniqueNamespace('async-config');

/** Stands in for @nestjs/config's ConfigService. */
@Injectable()
class ConfigService {
  private readonly values: Record<string, unknown> = {
    FLUME_CONNECTION: testConnection(),
    FLUME_NAMESPACE: namespace,
    FLUME_MAX_DEMAND: 7,
  };

  get<T>(key: string): T {
    return this.values[key] as T;
  }
}

function optionsFrom(config: ConfigService): FlumeModuleOptions {
  return {
    connection: config.get<FlumeConnectionOptions>('FLUME_CONNECTION'),
    namespace: config.get<string>('FLUME_NAMESPACE'),
    pipelines: [
      { name: 'emails', queue: 'mail', maxDemand: config.get<number>('FLUME_MAX_DEMAND') },
    ],
    shutdownTimeout: 200,
    logger: new CaptureLogger(),
  };
}

@Injectable()
class FlumeConfig implements FlumeOptionsFactory {
  constructor(private readonly config: ConfigService) {}

  async createFlumeOptions(): Promise<FlumeModuleOptions> {
    return optionsFrom(this.config);
  }
}

@Module({
  providers: [ConfigService, FlumeConfig],
  exports: [ConfigService, FlumeConfig],
})
class ConfigModule {}

/** Lets the test hold a running job. */
@Injectable()
class Hold {
  gate = new Gate();
}

@Worker('mail')
class MailWorker {
  constructor(
    private readonly log: JobLog,
    private readonly hold: Hold,
  ) {}

  async perform(to: string): Promise<void> {
    this.log.record('MailWorker', [to]);
    await this.hold.gate.wait();
  }
}

/** A service that gets the pipeline's handle injected. */
@Injectable()
class MailStatus {
  constructor(@InjectPipeline('emails') readonly pipeline: FlumePipeline) {}
}

/** Injects the handle into a property rather than the constructor. */
@Injectable()
class PropertyStatus {
  @InjectPipeline('emails') readonly pipeline!: FlumePipeline;
}

describe('FlumeModule.forRootAsync and @InjectPipeline', () => {
  const apps = new Apps();
  let redis: TestRedis;

  beforeAll(() => {
    redis = inspector();
  });

  afterEach(async () => {
    await apps.closeAll();
  });

  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  const workerProviders = [JobLog, Hold, MailWorker, MailStatus];

  /** Boots `flume`, runs one job through it, and checks the injected pipeline handle. */
  async function expectWorking(flume: ReturnType<typeof FlumeModule.forRootAsync>, to: string) {
    const app = await apps.bootModule([flume], workerProviders);
    const log = app.get(JobLog);
    const status = app.get(MailStatus);
    expect(status.pipeline).toBeInstanceOf(FlumePipeline);
    expect(status.pipeline).toMatchObject({ name: 'emails', queue: 'mail', maxDemand: 7 });
    expect(status.pipeline.pendingJobsCount).toBe(0);

    await app.get(FlumeClient).enqueue('mail', MailWorker, [to]);
    await log.untilCount(1, 'MailWorker');
    expect(log.performed[0].args).toEqual([to]);
    // The factory's namespace and pipeline are the ones in use.
    expect(status.pipeline.pendingJobsCount).toBe(1);
    expect(await redis.zcard(keysOf(namespace, 'mail').processing)).toBe(1);
    app.get(Hold).gate.open();
    await expect.poll(() => status.pipeline.pendingJobsCount).toBe(0);
    await expect.poll(() => redis.zcard(keysOf(namespace, 'mail').processing)).toBe(0);
    await apps.close(app);
  }

  it('takes options from useFactory with inject', async () => {
    await expectWorking(
      FlumeModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => optionsFrom(config),
        pipelines: ['emails'],
      }),
      'factory@example.com',
    );
  });

  it('takes options from an async useFactory', async () => {
    await expectWorking(
      FlumeModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: async (config: ConfigService) => {
          await new Promise((resolve) => setImmediate(resolve));
          return optionsFrom(config);
        },
        pipelines: ['emails'],
      }),
      'async@example.com',
    );
  });

  it('takes options from useClass, with the class getting its own dependencies', async () => {
    await expectWorking(
      FlumeModule.forRootAsync({
        imports: [ConfigModule],
        useClass: FlumeConfig,
        pipelines: ['emails'],
      }),
      'class@example.com',
    );
  });

  it('takes options from useExisting, reusing a provider of an imported module', async () => {
    await expectWorking(
      FlumeModule.forRootAsync({
        imports: [ConfigModule],
        useExisting: FlumeConfig,
        pipelines: ['emails'],
      }),
      'existing@example.com',
    );
  });

  it('gives @InjectPipeline handles with forRoot too', async () => {
    const app = await apps.boot(optionsFrom(new ConfigService()), workerProviders);
    expect(app.get(MailStatus).pipeline).toMatchObject({ name: 'emails', queue: 'mail' });
  });

  it('takes an ioredis client as the connection, and leaves it open for its owner', async () => {
    // The same kind of client the run goes to: a Cluster on the cluster run.
    const own = inspector();
    try {
      const app = await apps.bootModule(
        [
          FlumeModule.forRootAsync({
            imports: [ConfigModule],
            inject: [ConfigService],
            useFactory: (config: ConfigService) => ({ ...optionsFrom(config), connection: own }),
            pipelines: ['emails'],
          }),
        ],
        workerProviders,
      );
      app.get(Hold).gate.open();
      await app.get(FlumeClient).enqueue('mail', MailWorker, ['client@example.com']);
      await app.get(JobLog).untilCount(1, 'MailWorker');
      await apps.close(app);
      expect(await own.ping()).toBe('PONG');
    } finally {
      own.disconnect();
    }
  });

  it('fails the boot for a pipeline name the factory does not configure', async () => {
    const error = await apps
      .bootModule(
        [
          FlumeModule.forRootAsync({
            imports: [ConfigModule],
            useClass: FlumeConfig,
            pipelines: ['emails', 'sms'],
          }),
        ],
        [JobLog, Hold, MailWorker],
      )
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(FlumeConfigError);
    expect((error as Error).message).toBe(
      'Unknown pipeline "sms". Configured pipelines: "emails".',
    );
  });

  it('names the fix when forRootAsync does not list an injected pipeline', async () => {
    const error = await apps
      .bootModule(
        [FlumeModule.forRootAsync({ imports: [ConfigModule], useClass: FlumeConfig })],
        [...workerProviders, PropertyStatus],
      )
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(FlumeConfigError);
    expect((error as Error).message).toBe(
      "MailStatus, PropertyStatus inject @InjectPipeline('emails'), but FlumeModule.forRootAsync provides " +
        'no pipeline "emails": under forRootAsync the pipeline names must be listed in its "pipelines" ' +
        'option, since they are needed before the factory runs. Add it: FlumeModule.forRootAsync({ ..., ' +
        "pipelines: ['emails'] }) (listed now: none).",
    );
  });

  it('names the fix when forRoot does not configure an injected pipeline', async () => {
    const error = await apps
      .boot({ ...optionsFrom(new ConfigService()), pipelines: [] }, [PropertyStatus])
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(FlumeConfigError);
    expect((error as Error).message).toBe(
      "PropertyStatus injects @InjectPipeline('emails'), but FlumeModule.forRoot configures no " +
        "pipeline \"emails\" (configured: none). Add { name: 'emails', queue: '...' } to its " +
        '"pipelines" option, or to the FlumeModule.forFeature({ pipelines }) of the module that ' +
        'owns its workers.',
    );
  });

  it('says nothing of an injected pipeline no class of the app injects', async () => {
    // MailStatus injects "emails" in this process, but is not part of this app.
    const app = await apps.bootModule(
      [FlumeModule.forRootAsync({ imports: [ConfigModule], useClass: FlumeConfig })],
      [JobLog, Hold, MailWorker],
    );
    expect(app.get(FlumeClient)).toBeInstanceOf(FlumeClient);
  });

  it('fails the boot when the factory returns invalid options', async () => {
    const error = await apps
      .bootModule([
        FlumeModule.forRootAsync({
          useFactory: () => ({ namespace, maxRetries: 'five' }) as unknown as FlumeModuleOptions,
        }),
      ])
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(FlumeConfigError);
    expect((error as Error).message).toBe(
      'Invalid option "maxRetries": expected a non-negative integer, got: "five"',
    );
  });

  it('refuses forRootAsync without a factory', () => {
    expect(() => FlumeModule.forRootAsync({ imports: [ConfigModule] })).toThrow(
      new FlumeConfigError(
        'FlumeModule.forRootAsync needs one of useFactory, useClass or useExisting.',
      ),
    );
  });
});
