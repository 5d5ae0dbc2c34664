import { Injectable, Logger } from '@nestjs/common';
import { FlumeClient } from '../lib/index.js';
import { EmailWorker } from './workers/email.worker.js';
import { ReportWorker } from './workers/report.worker.js';

/** What the workload should come to once every job is settled. */
export interface Expectation {
  enqueued: number;
  succeed: number;
  dead: number;
  /** Failed attempts filed for a retry. */
  retries: number;
}

/** Enqueues the demo's jobs, one of each enqueue form, and says what should happen. */
@Injectable()
export class WorkloadService {
  private readonly logger = new Logger('Workload');

  constructor(private readonly flume: FlumeClient) {}

  async enqueue(): Promise<Expectation> {
    const expect: Expectation = { enqueued: 0, succeed: 0, dead: 0, retries: 0 };

    // The class and its args: args are type-checked against EmailWorker.perform.
    for (let i = 1; i <= 12; i++) {
      await this.flume.enqueue('default', EmailWorker, [`user${i}@example.com`, 'Welcome']);
    }
    expect.succeed += 12;

    // Many jobs in one round trip.
    const ids = await this.flume.bulkEnqueue(
      'default',
      Array.from({ length: 40 }, (_, i) => ({
        worker: EmailWorker,
        args: [`subscriber${i + 1}@example.com`, 'Newsletter'],
      })),
    );
    expect.succeed += ids.length;

    // By registered name, as code that cannot import the class would: each delivery
    // fails `failFirst` times, then succeeds (WebhookWorker allows 4 retries).
    const failFirst = [1, 2, 1, 2, 1, 2];
    for (const [i, failures] of failFirst.entries()) {
      await this.flume.enqueue('default', 'webhook', [`hook-${i + 1}`, failures]);
      expect.retries += failures;
    }
    expect.succeed += failFirst.length;

    // Reports: the worker's default method (build), and a named method (archive).
    for (const id of ['r-1', 'r-2', 'r-3', 'r-4']) {
      await this.flume.enqueue('reports', ReportWorker, [id]);
    }
    await this.flume.enqueue('reports', ReportWorker, 'archive', ['r-0']);
    expect.succeed += 5;

    // Always fail: 1 attempt + 2 retries (ReportWorker's maxRetries), then dead.
    for (const id of ['corrupt-7', 'corrupt-9']) {
      await this.flume.enqueue('reports', ReportWorker, [id]);
    }
    expect.dead += 2;
    expect.retries += 2 * 2;

    // Later: in 3 s, and at a given time 5 s from now.
    for (let i = 1; i <= 3; i++) {
      await this.flume.enqueueIn('default', 3_000, EmailWorker, [
        `late${i}@example.com`,
        'Reminder',
      ]);
    }
    const at = new Date(Date.now() + 5_000);
    await this.flume.enqueueAt('reports', at, ReportWorker, ['weekly']);
    await this.flume.enqueueAt('default', at, EmailWorker, ['boss@example.com', 'Weekly report']);
    expect.succeed += 5;

    expect.enqueued = expect.succeed + expect.dead;
    this.logger.log(
      `Enqueued ${expect.enqueued} jobs: 12 emails one by one, 40 by bulkEnqueue, 6 flaky webhooks by name, ` +
        `7 reports (2 of them always fail), 3 emails in 3 s, 2 jobs at ${at.toISOString().slice(11, 19)} UTC (in 5 s).`,
    );
    this.logger.log(
      `Expected: ${expect.succeed} succeed, ${expect.retries} retries on the way, ${expect.dead} end in the dead set.`,
    );
    return expect;
  }
}
