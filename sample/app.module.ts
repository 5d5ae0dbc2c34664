import { Module, type DynamicModule } from '@nestjs/common';
import { FlumeDashboardModule } from '../lib/dashboard/index.js';
import { FlumeModule } from '../lib/index.js';
import { DemoService } from './demo.service.js';
import { LocalOnlyGuard } from './local-only.guard.js';
import { MailerService } from './mailer.service.js';
import { OutcomesService } from './outcomes.service.js';
import { NAMESPACE, SAMPLE_STORE } from './sample.config.js';
import type { SampleStore } from './sample-store.js';
import { StoreStatsService } from './store-stats.service.js';
import { WorkloadService } from './workload.service.js';
import { EmailWorker } from './workers/email.worker.js';
import { ReportWorker } from './workers/report.worker.js';
import { WebhookWorker } from './workers/webhook.worker.js';

@Module({})
export class AppModule {
  /** The sample on `store`: Redis, or Flume's memory store (see chooseStore). */
  static register(store: SampleStore): DynamicModule {
    return {
      module: AppModule,
      imports: [
        FlumeModule.forRoot({
          connection: store.connection,
          namespace: NAMESPACE,
          pipelines: [
            { name: 'default_pipeline', queue: 'default', maxDemand: 4 },
            { name: 'reports_pipeline', queue: 'reports', maxDemand: 2 },
          ],
          // Short backoff so the demo's retries happen within a few seconds.
          backoffInitial: 200,
          backoffMax: 2_000,
          shutdownTimeout: 5_000,
        }),
        // The dashboard at http://127.0.0.1:3000/flume; its guard allows actions from this machine.
        FlumeDashboardModule.forRoot({ path: '/flume', guards: [LocalOnlyGuard] }),
      ],
      providers: [
        { provide: SAMPLE_STORE, useValue: store },
        MailerService,
        OutcomesService,
        EmailWorker,
        WebhookWorker,
        ReportWorker,
        StoreStatsService,
        WorkloadService,
        DemoService,
      ],
    };
  }
}
