import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutcomesService } from './outcomes.service.js';
import { StoreStatsService, type StoreCounts } from './store-stats.service.js';
import { DEMO_TIMEOUT_MS, NAMESPACE, QUEUES } from './sample.config.js';
import { WorkloadService, type Expectation } from './workload.service.js';

/** ok: every job settled as expected; failed: not settled in time, or not as expected. */
export type DemoResult = 'ok' | 'failed' | 'interrupted';

/**
 * Runs the demo: enqueues the workload, prints one line a second while Flume works
 * through it, and a summary once every job has succeeded or is dead.
 */
@Injectable()
export class DemoService implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('Demo');
  private readonly stopping = new AbortController();

  constructor(
    private readonly workload: WorkloadService,
    private readonly outcomes: OutcomesService,
    private readonly stats: StoreStatsService,
  ) {}

  async run(): Promise<DemoResult> {
    const started = Date.now();
    const expect = await this.workload.enqueue();
    let last = 0;
    while (!this.stopping.signal.aborted) {
      await sleep(1_000, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      if (this.stopping.signal.aborted) break;
      const counts = await this.stats.counts().catch((err: Error) => {
        this.logger.warn(`Could not read the counts: ${err.message}`);
        return undefined;
      });
      if (!counts) continue;
      const elapsed = Date.now() - started;
      this.logger.log(this.progressLine(elapsed, counts, last));
      last = this.outcomes.succeeded;
      if (this.settled(counts, expect)) {
        return (await this.summarize(elapsed, counts, expect)) ? 'ok' : 'failed';
      }
      if (elapsed > DEMO_TIMEOUT_MS) {
        this.logger.error(`The workload is not settled after ${elapsed} ms: giving up.`);
        await this.summarize(elapsed, counts, expect);
        return 'failed';
      }
    }
    return 'interrupted';
  }

  /** Ctrl-C (or app.close()): stop printing before Flume drains its pipelines. */
  onModuleDestroy(): void {
    this.stopping.abort();
  }

  /** After a signal, once Flume has drained: say what is left in Redis (lost, in memory). */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    if (!signal) return;
    let left = 'lost with this process (the memory store keeps nothing)';
    if (this.stats.where === 'Redis') {
      const counts = await this.stats.leftAfterShutdown().catch(() => undefined);
      left = counts ? this.countsText(counts) : 'unknown (Redis did not answer)';
    }
    this.logger.warn(
      `Stopped by ${signal}: running jobs finished or were handed back. Left in ${this.stats.where}: ${left}. ` +
        `Processed here: ${this.outcomes.succeeded} succeeded, ${this.outcomes.failedAttempts} failed attempts.`,
    );
  }

  /** Done when every job succeeded or is dead and nothing else is left in the store. */
  private settled(counts: StoreCounts, expect: Expectation): boolean {
    const { waiting, running, scheduled, retry, dead } = counts;
    return (
      this.outcomes.succeeded >= expect.succeed &&
      dead >= expect.dead &&
      waiting + running + scheduled + retry === 0
    );
  }

  private progressLine(elapsedMs: number, counts: StoreCounts, lastSucceeded: number): string {
    const { succeeded, failedAttempts } = this.outcomes;
    const seconds = Math.round(elapsedMs / 1000);
    return (
      `${String(seconds).padStart(3)}s | succeeded ${String(succeeded).padStart(3)} ` +
      `(+${succeeded - lastSucceeded}) | failed attempts ${failedAttempts} | ${this.countsText(counts)}`
    );
  }

  private countsText(c: StoreCounts): string {
    return `waiting ${c.waiting}, running ${c.running}, scheduled ${c.scheduled}, retry ${c.retry}, dead ${c.dead}`;
  }

  private async summarize(
    elapsedMs: number,
    counts: StoreCounts,
    expect: Expectation,
  ): Promise<boolean> {
    const { succeeded, failedAttempts } = this.outcomes;
    const retried = failedAttempts - counts.dead;
    const ok =
      succeeded === expect.succeed && counts.dead === expect.dead && retried === expect.retries;
    const log = (line: string) => (ok ? this.logger.log(line) : this.logger.error(line));
    log(
      `Summary after ${(elapsedMs / 1000).toFixed(1)} s (${ok ? 'as expected' : 'NOT as expected'}):`,
    );
    log(`  enqueued ${expect.enqueued}; succeeded ${succeeded} of ${expect.succeed} expected`);
    log(
      `  failed attempts ${failedAttempts}: ${retried} retried (expected ${expect.retries}), ` +
        `${counts.dead} ended in the dead set (expected ${expect.dead})`,
    );
    log(`  left in ${this.stats.where}: ${this.countsText(counts)}`);
    for (const queue of QUEUES) {
      const dead = await this.stats.deadJobs(queue);
      for (const job of dead) {
        log(
          `  dead in "${queue}": ${job.class}(${JSON.stringify(job.args).slice(1, -1)}) ` +
            `after ${job.retry_count} retries: ${job.error_message}`,
        );
      }
      if (dead.length > 0 && this.stats.where === 'Redis') {
        log(`  see them with: redis-cli ZRANGE '${NAMESPACE}:queue:{${queue}}:dead' 0 -1`);
      }
    }
    return ok;
  }
}
