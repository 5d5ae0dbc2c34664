import { performance } from 'node:perf_hooks';
import { Probe, timeoutFor } from '../probe.js';
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
import { untilSettled, type RowContext } from './context.js';

/**
 * Rows 1, 2 and 6 in one pass, from an empty Redis:
 *  1. bulk-enqueue N jobs (bulkChunk per call, one call at a time), timed;
 *  2. a fresh consumer (concurrency C) drains them, timed from the first handler start
 *     to the last (boot and connection left out, for both libraries alike);
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
  await producer.close();

  const probe = new Probe(n);
  const bootStart = performance.now();
  const drainCpu = process.cpuUsage();
  const consumer = await lib.open({
    port: redis.port,
    namespace,
    consume: { concurrency: config.concurrency, probe },
  });
  let polls = 0;
  try {
    await profiler.run(`${lib.name}-row2-drain-r${ctx.round}`, () =>
      probe.until(n, `${lib.name} drain`, timeoutFor(n)),
    );
    ctx.record('drain_jobs_per_s', rate(n - 1, probe.lastAt - probe.firstAt));
    ctx.record('drain_with_boot_jobs_per_s', rate(n, probe.lastAt - bootStart));
    ctx.record('drain_cpu_us_per_job', cpuMicros(drainCpu) / n);
    polls = await untilSettled(consumer, admin, timeoutFor(n));
    if (probe.duplicates > 0) throw new Error(`${probe.duplicates} job(s) ran twice`);

    // Row 6: what the settle polls themselves cost is measured and taken off.
    const settled = await readCommandStats(admin);
    const cpuSpent = (await redisCpuSeconds(admin)) - cpuBefore;
    await consumer.leftovers(admin);
    const pollCost = delta(await readCommandStats(admin), settled);
    const jobPath = withoutCost(settled, pollCost, polls);
    ctx.record('redis_commands_per_job', jobPath.total / n);
    ctx.record('redis_commands_per_job_enqueue', afterEnqueue.total / n);
    ctx.record('redis_cpu_us_per_job', (cpuSpent * 1e6) / n);
    ctx.detail('redis_commands_per_job_rows_1_2', perJob(jobPath.calls, n));
  } finally {
    await consumer.close();
  }
}

/**
 * CPU time this process used since `since` (user + system), µs. Less disturbed than
 * wall time when other work shares the cores: what a job costs the client, boot included.
 */
function cpuMicros(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return user + system;
}

function perJob(calls: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(calls)
      .filter(([name, count]) => count > 0 && !isHarnessCommand(name))
      .sort(([, a], [, b]) => b - a)
      .map(([name, count]) => [name, Number((count / n).toFixed(4))]),
  );
}
