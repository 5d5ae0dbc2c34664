import { performance } from 'node:perf_hooks';
import {
  delta,
  isHarnessCommand,
  readCommandStats,
  redisCpuSeconds,
  resetCommandStats,
  usedMemory,
  withoutCost,
} from '../redis-stats.js';
import { rate } from '../stats.js';
import type { RowContext } from './context.js';
import { RowWorkers, timedDrain } from './workers.js';

/**
 * Rows 1, 2 and 6 in one pass, from an empty Redis:
 *  1. this process bulk-enqueues N jobs (bulkChunk per call, one call at a time), timed;
 *  2. a worker process (concurrency C), started once they wait, drains them, timed from
 *     the first handler start to the last (its boot and connection left out);
 *  6. Redis' own command counts over 1 + 2, until every job is settled, per job, and
 *     the CPU time the redis-server process spent meanwhile (the settle polls included).
 * Also records Redis memory per waiting job, measured between 1 and 2.
 */
export async function bulkAndDrain(ctx: RowContext, n = ctx.config.n): Promise<void> {
  const { config, redis, lib, profiler } = ctx;
  const admin = redis.admin;
  const namespace = ctx.namespace('bulk-drain');
  await redis.flush();
  const memoryBefore = await usedMemory(admin);

  const producer = await lib.open({ port: redis.port, namespace });
  try {
    await resetCommandStats(admin);
    const cpuBefore = await redisCpuSeconds(admin);
    const enqueueStart = performance.now();
    const enqueueCpu = process.cpuUsage();
    await profiler.run(`${lib.name}-row1-bulk-enqueue-r${ctx.round}`, () =>
      producer.enqueueBulk(0, n, config.bulkChunk),
    );
    const enqueueMs = performance.now() - enqueueStart;
    ctx.record('bulk_enqueue_jobs_per_s', rate(n, enqueueMs));
    ctx.record('bulk_enqueue_cpu_us_per_job', cpuMicros(enqueueCpu) / n);
    const afterEnqueue = await readCommandStats(admin);
    ctx.record('redis_bytes_per_waiting_job', ((await usedMemory(admin)) - memoryBefore) / n);

    const drainCpuBefore = await redisCpuSeconds(admin);
    const workers = new RowWorkers(ctx, namespace, {
      jobs: n,
      label: `${lib.name}-row2-drain-r${ctx.round}`,
    });
    try {
      const polls = await workers.untilDone(producer);
      // Row 6: what the settle polls themselves cost is measured and taken off.
      const settled = await readCommandStats(admin);
      const cpuNow = await redisCpuSeconds(admin);
      await producer.leftovers(admin);
      const pollCost = delta(await readCommandStats(admin), settled);
      const jobPath = withoutCost(settled, pollCost, polls);
      ctx.record('redis_commands_per_job', jobPath.total / n);
      ctx.record('redis_commands_per_job_enqueue', afterEnqueue.total / n);
      ctx.record('redis_cpu_us_per_job', ((cpuNow - cpuBefore) * 1e6) / n);
      ctx.record('drain_redis_cpu_us_per_job', ((cpuNow - drainCpuBefore) * 1e6) / n);
      ctx.detail('redis_commands_per_job_rows_1_2', perJob(jobPath.calls, n));

      const run = await workers.stop();
      ctx.record('drain_jobs_per_s', rate(n - 1, run.lastAt - run.firstAt));
      ctx.record('drain_cpu_us_per_job', run.cpuUs / n);
    } finally {
      workers.kill();
    }
  } finally {
    await producer.close();
  }
}

/**
 * Row 2 again, nestjs-flume only, with `prefetch` equal to the concurrency (its
 * documented setting for short jobs): N jobs bulk-enqueued, then drained by a worker
 * process, timed from the first handler start to the last.
 */
export async function drainWithPrefetch(ctx: RowContext): Promise<void> {
  const { config, redis, lib } = ctx;
  const n = config.n;
  await redis.flush();
  const run = await timedDrain(ctx, 'drain-prefetch', {
    jobs: n,
    prefetch: config.concurrency,
    label: `${lib.name}-row2-drain-prefetch-r${ctx.round}`,
  });
  ctx.record('drain_prefetch_jobs_per_s', rate(n - 1, run.lastAt - run.firstAt));
  ctx.record('drain_prefetch_cpu_us_per_job', run.cpuUs / n);
}

/**
 * CPU time this process used since `since` (user + system), µs. Less disturbed than
 * wall time when other work shares the cores.
 */
export function cpuMicros(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return user + system;
}

/** Calls per job of each command on the job path, most frequent first. */
export function perJob(calls: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(calls)
      .filter(([name, count]) => count > 0 && !isHarnessCommand(name))
      .sort(([, a], [, b]) => b - a)
      .map(([name, count]) => [name, Number((count / n).toFixed(4))]),
  );
}
