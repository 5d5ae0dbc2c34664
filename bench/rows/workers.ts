import { mergeReports, WorkerProcess, type MergedReport } from '../child/spawn.js';
import type { WorkerProcessSpec } from '../child/protocol.js';
import type { BenchSession } from '../libs/index.js';
import { timeoutFor } from '../probe.js';
import { untilSettled, type RowContext } from './context.js';

export interface WorkerRowOptions {
  /** Jobs of the row: indexes 0 .. jobs - 1. */
  jobs: number;
  /** Worker processes started together (default 1). */
  processes?: number;
  concurrency?: number;
  handlerMs?: number;
  batchSize?: number;
  /** Row 12: the pipeline's groupConcurrency (nestjs-flume only). */
  groupConcurrency?: number;
  /** The pipeline's `prefetch` (nestjs-flume only; default 0, the library's default). */
  prefetch?: number;
  recordStarts?: boolean;
  gcSamples?: boolean;
  /** Milestones of each process (default: the last job, when there is one process). */
  milestones?: number[];
  /** Start the consumers together once every process has loaded (see WorkerProcessSpec). */
  together?: boolean;
  /** Names the profile files of BENCH_PROFILE. */
  label: string;
}

/** Worker processes of one row, on the row's namespace, each running `ctx.lib`'s consumer. */
export class RowWorkers {
  readonly processes: WorkerProcess[];

  constructor(
    private readonly ctx: RowContext,
    namespace: string,
    private readonly options: WorkerRowOptions,
  ) {
    const { config, redis, lib } = ctx;
    const count = options.processes ?? 1;
    this.processes = Array.from({ length: count }, (_, k) => {
      const spec: WorkerProcessSpec = {
        lib: lib.name,
        port: redis.port,
        namespace,
        concurrency: options.concurrency ?? config.concurrency,
        expected: options.jobs,
        milestones: options.milestones ?? (count === 1 ? [options.jobs] : []),
        gcSamples: options.gcSamples ?? false,
        handlerMs: options.handlerMs ?? 0,
        batchSize: options.batchSize,
        groupConcurrency: options.groupConcurrency,
        prefetch: options.prefetch,
        recordStarts: options.recordStarts ?? false,
        profileFile: ctx.profileFile(`${options.label}-p${k + 1}`),
        waitForGo: options.together ?? false,
      };
      return WorkerProcess.start(spec);
    });
  }

  /** With `together`: resolves once every process has loaded, then starts them all. */
  async start(): Promise<void> {
    await Promise.all(this.processes.map((worker) => worker.next('loaded', 30_000)));
    for (const worker of this.processes) worker.go();
  }

  /** Resolves once every process has booted and started its consumer. */
  async ready(): Promise<void> {
    await Promise.all(this.processes.map((worker) => worker.next('ready', 30_000)));
  }

  /**
   * Resolves once every job ran and nothing of the row is left in Redis (acknowledged):
   * one process reports its last job; with more, Redis is polled. Resolves to the
   * number of polls, whose own cost the command counts take off.
   */
  async untilDone(session: BenchSession): Promise<number> {
    const { jobs } = this.options;
    if (this.processes.length === 1) {
      await this.processes[0].next('milestone', timeoutFor(jobs));
    }
    return untilSettled(session, this.ctx.redis.admin, timeoutFor(jobs));
  }

  /** Stops every process; throws when a job was lost or ran twice. */
  async stop(): Promise<MergedReport> {
    try {
      const stopped = await Promise.all(this.processes.map((worker) => worker.stop()));
      const merged = mergeReports(
        stopped.map((message) => message.report),
        this.options.jobs,
      );
      if (merged.lost > 0) throw new Error(`${merged.lost} job(s) never ran`);
      if (merged.duplicates > 0) throw new Error(`${merged.duplicates} job(s) ran twice`);
      return merged;
    } finally {
      this.kill();
    }
  }

  kill(): void {
    for (const worker of this.processes) worker.kill();
  }
}

/**
 * Bulk-enqueues jobs 0 .. `options.jobs` - 1 in a fresh namespace of the row, drains them
 * in worker processes, and resolves to their merged report (throws when a job was lost
 * or ran twice): a drain timed from the first handler start to the last.
 */
export async function timedDrain(
  ctx: RowContext,
  row: string,
  options: WorkerRowOptions,
): Promise<MergedReport> {
  const { config, redis, lib } = ctx;
  const namespace = ctx.namespace(row);
  const producer = await lib.open({ port: redis.port, namespace });
  try {
    await producer.enqueueBulk(0, options.jobs, config.bulkChunk);
    const workers = new RowWorkers(ctx, namespace, options);
    try {
      await workers.untilDone(producer);
      return await workers.stop();
    } finally {
      workers.kill();
    }
  } finally {
    await producer.close();
  }
}
