import { Module } from '@nestjs/common';
import { FlumeDashboardModule } from '../lib/dashboard/index.js';
import { FlumeModule } from '../lib/index.js';
import { DemoService } from './demo.service.js';
import { LocalOnlyGuard } from './local-only.guard.js';
import { MailerService } from './mailer.service.js';
import { OutcomesService } from './outcomes.service.js';
import { RedisStatsService } from './redis-stats.service.js';
import { NAMESPACE, REDIS_URL } from './sample.config.js';
import { WorkloadService } from './workload.service.js';
import { EmailWorker } from './workers/email.worker.js';
import { ReportWorker } from './workers/report.worker.js';
import { WebhookWorker } from './workers/webhook.worker.js';

@Module({
  imports: [
    FlumeModule.forRoot({
      connection: { url: REDIS_URL },
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
    MailerService,
    OutcomesService,
    EmailWorker,
    WebhookWorker,
    ReportWorker,
    RedisStatsService,
    WorkloadService,
    DemoService,
  ],
})
export class AppModule {}
