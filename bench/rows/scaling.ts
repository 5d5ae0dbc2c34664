import { redisCpuSeconds } from '../redis-stats.js';
import type { RowContext } from './context.js';
import { RowWorkers } from './workers.js';

/**
 * Row 11: N waiting jobs drained by `processes` worker processes (concurrency C each)
 * on one Redis, which load first and then start their consumers together; the rate is
 * taken while every process runs jobs (from the last process' first job to the first
 * process' last), so no process' start-up counts. Also Redis' CPU time per job meanwhile: with row 2 (one process), what
 * bench/README.md works out how many worker processes one Redis can feed from.
 */
export async function scaling(ctx: RowContext): Promise<void> {
  const { config, redis, lib } = ctx;
  const n = config.n;
  await redis.flush();
  const namespace = ctx.namespace('scaling');
  const producer = await lib.open({ port: redis.port, namespace });
  try {
    await producer.enqueueBulk(0, n, config.bulkChunk);
    const cpuBefore = await redisCpuSeconds(redis.admin);
    const workers = new RowWorkers(ctx, namespace, {
      jobs: n,
      processes: config.processes,
      together: true,
      recordStarts: true,
      label: `${lib.name}-row11-scaling-r${ctx.round}`,
    });
    try {
      await workers.start();
      await workers.untilDone(producer);
      const redisUs = ((await redisCpuSeconds(redis.admin)) - cpuBefore) * 1e6;
      const run = await workers.stop();
      const jobsPerS = run.overlapRate;
      ctx.record('scale_drain_jobs_per_s', jobsPerS);
      ctx.record('scale_redis_cpu_us_per_job', redisUs / n);
      // Share of one core Redis was busy, at that rate and cost per job.
      ctx.record('scale_redis_busy_pct', ((redisUs / n) * jobsPerS) / 1e4);
      ctx.record('scale_cpu_us_per_job', run.cpuUs / n);
      ctx.detail(
        'scale_jobs_per_process',
        run.reports.map((report) => report.distinct),
      );
    } finally {
      workers.kill();
    }
  } finally {
    await producer.close();
  }
}
