import { setTimeout as sleep } from 'node:timers/promises';
import { Handler, Worker } from '../../lib/index.js';
import { OutcomesService } from '../outcomes.service.js';

/**
 * Jobs that name no method run `build`; `archive`, a @Handler(), is enqueued by method name. A
 * report whose id starts with "corrupt" always fails: after 1 + maxRetries attempts
 * it ends in the dead set of the "reports" queue.
 */
@Worker('reports', { method: 'build', maxRetries: 2 })
export class ReportWorker {
  constructor(private readonly outcomes: OutcomesService) {}

  async build(reportId: string): Promise<void> {
    await sleep(150);
    if (reportId.startsWith('corrupt')) {
      this.outcomes.failure();
      throw new Error(`report ${reportId}: source data fails its checksum`);
    }
    this.outcomes.success();
  }

  @Handler()
  async archive(reportId: string): Promise<void> {
    await sleep(20);
    this.outcomes.success();
  }
}
