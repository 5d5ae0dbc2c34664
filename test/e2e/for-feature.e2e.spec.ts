import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeConfigError,
  FlumeModule,
  FlumePipeline,
  FlumeProducer,
  InjectPipeline,
  Worker,
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

@Worker('ff-mail')
class FfMailer {
  constructor(private readonly log: JobLog) {}

  perform(to: string): void {
    this.log.record('FfMailer', [to]);
  }
}

@Worker('ff-report')
class FfReporter {
  constructor(private readonly log: JobLog) {}

  perform(id: number): void {
    this.log.record('FfReporter', [id]);
  }
}

/** Injects a pipeline a feature module declares, from the module itself. */
@Injectable()
class MailAdmin {
  constructor(@InjectPipeline('ff_mail') readonly pipeline: FlumePipeline) {}
}

/** Injects the same pipeline from a module that does not import the feature module. */
@Injectable()
class Dashboard {
  constructor(@InjectPipeline('ff_mail') readonly pipeline: FlumePipeline) {}
}

@Module({
  imports: [FlumeModule.forFeature({ pipelines: [{ name: 'ff_mail', queue: 'ff-mail' }] })],
  providers: [FfMailer, MailAdmin],
})
class MailModule {}

@Module({
  imports: [
    FlumeModule.forFeature({
      pipelines: [{ name: 'ff_report', queue: 'ff-report', maxDemand: 2 }],
    }),
  ],
  providers: [FfReporter],
})
class ReportModule {}

@Module({ providers: [JobLog], exports: [JobLog] })
class LogModule {}

@Module({ providers: [Dashboard] })
class DashboardModule {}

describe('FlumeModule.forFeature', () => {
  const namespace = uniqueNamespace('for-feature');
  const apps = new Apps();
  let redis: TestRedis;
  const options = (logger = new CaptureLogger()): FlumeModuleOptions => ({
    connection: testConnection(),
    namespace,
    logger,
  });

  beforeAll(() => {
    redis = inspector();
  });

  afterEach(() => apps.closeAll());

  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it("runs the pipelines feature modules declare, beside forRoot's, injectable anywhere", async () => {
    const logger = new CaptureLogger();
    const app = await apps.bootModule([
      FlumeModule.forRoot({
        ...options(logger),
        pipelines: [{ name: 'ff_main', queue: 'ff-main' }],
      }),
      { module: LogModule, global: true },
      MailModule,
      ReportModule,
      DashboardModule,
    ]);
    const client = app.get(FlumeClient);
    await client.enqueue('ff-mail', FfMailer, ['ada@example.com']);
    await client.enqueue('ff-report', FfReporter, [7]);
    await app.get(JobLog).untilCount(2);

    const producer = app.get(FlumeProducer);
    expect(producer.pipeline('ff_report').maxDemand).toBe(2);
    expect(producer.pipeline('ff_main').queue).toBe('ff-main');
    expect(app.get(MailAdmin).pipeline).toBe(producer.pipeline('ff_mail'));
    expect(app.get(Dashboard).pipeline).toBe(producer.pipeline('ff_mail'));
    expect(logger.find(/no pipeline of this app consumes/)).toEqual([]);
  });

  it('works with forRootAsync, and with runPipelines naming a feature pipeline', async () => {
    const app = await apps.bootModule([
      FlumeModule.forRootAsync({ useFactory: () => ({ ...options(), runPipelines: ['ff_mail'] }) }),
      { module: LogModule, global: true },
      MailModule,
      ReportModule,
    ]);
    await app.get(FlumeClient).enqueue('ff-mail', FfMailer, ['bob@example.com']);
    await app.get(JobLog).untilCount(1, 'FfMailer');
    expect(app.get(FlumeProducer).pipeline('ff_report').queue).toBe('ff-report');
  });

  it('refuses a pipeline name declared twice, and options that are not { pipelines }', async () => {
    const twice = await apps
      .bootModule([
        FlumeModule.forRoot({ ...options(), pipelines: [{ name: 'ff_mail', queue: 'other' }] }),
        { module: LogModule, global: true },
        MailModule,
      ])
      .catch((err: unknown) => err);
    expect(twice).toBeInstanceOf(FlumeConfigError);
    expect((twice as Error).message).toMatch(/Two pipelines are named "ff_mail"/);
    expect(() => FlumeModule.forFeature(undefined as never)).toThrow(FlumeConfigError);
    expect(() => FlumeModule.forFeature({ pipelines: 'ff' } as never)).toThrow(
      /expects \{ pipelines/,
    );
  });
});
