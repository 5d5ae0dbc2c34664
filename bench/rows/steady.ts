import {
  delta,
  readCommandStats,
  redisCpuSeconds,
  resetCommandStats,
  withoutCost,
} from '../redis-stats.js';
import { percentile, rate } from '../stats.js';
import { perJob } from './bulk-drain.js';
import type { BenchSession } from '../libs/index.js';
import { epochMs, type RowContext } from './context.js';
import { RowWorkers } from './workers.js';

/**
 * Row 9: a steady `steadyRate` jobs/s. This process enqueues one job at a time on a
 * 1 ms timer (each tick enqueues the jobs due by then: two per tick at 2,000 jobs/s, as
 * Node's timers cannot tick faster), without waiting for earlier calls; a worker
 * process (concurrency C) runs them as they come. Over the whole run, until every job
 * is settled: Redis commands and redis-server CPU time per job, end to end (enqueue,
 * wake-ups, takes, acknowledgements and whatever the worker does in the background), and
 * the latency from the enqueue call to the handler's start (two processes, one clock).
 */
export async function steadyRate(ctx: RowContext): Promise<void> {
  const { config, redis, lib } = ctx;
  const n = config.steadyJobs;
  const admin = redis.admin;
  await redis.flush();
  await producerFloor(ctx);
  const namespace = ctx.namespace('steady');
  const producer = await lib.open({ port: redis.port, namespace });
  const workers = new RowWorkers(ctx, namespace, {
    jobs: n,
    recordStarts: true,
    label: `${lib.name}-row9-steady-r${ctx.round}`,
  });
  try {
    await workers.ready();
    await resetCommandStats(admin);
    const cpuBefore = await redisCpuSeconds(admin);
    const enqueuedAt = await paced(producer, n, config.steadyRate);
    const polls = await workers.untilDone(producer);

    const settled = await readCommandStats(admin);
    const cpuSpent = (await redisCpuSeconds(admin)) - cpuBefore;
    await producer.leftovers(admin);
    const pollCost = delta(await readCommandStats(admin), settled);
    const jobPath = withoutCost(settled, pollCost, polls);
    ctx.record('steady_commands_per_job', jobPath.total / n);
    ctx.record('steady_redis_cpu_us_per_job', (cpuSpent * 1e6) / n);
    ctx.detail('steady_commands_by_name', perJob(jobPath.calls, n));
    // Time inside commands, µs per job (EVALSHA: whole scripts): the rest of the
    // redis-server CPU is reading, parsing, replying and waking up.
    ctx.detail('steady_command_usec_by_name', perJob(jobPath.usec, n));

    const run = await workers.stop();
    const latencies = Array.from(run.starts!, (at, index) => at - enqueuedAt[index]);
    ctx.record('steady_latency_p50_ms', percentile(latencies, 50));
    ctx.record('steady_latency_p99_ms', percentile(latencies, 99));
    ctx.record('steady_worker_cpu_us_per_job', run.cpuUs / n);
    ctx.record('steady_jobs_per_s', rate(n - 1, run.lastAt - run.firstAt));
  } finally {
    workers.kill();
    await producer.close();
  }
}

/**
 * Enqueues jobs 0 .. n - 1 at `rate` jobs/s, one call each, on a 1 ms timer, without
 * waiting for earlier calls; resolves once all are stored, to when each call was made.
 */
async function paced(producer: BenchSession, n: number, rate: number): Promise<Float64Array> {
  const enqueuedAt = new Float64Array(n);
  const calls: Promise<void>[] = [];
  const start = epochMs();
  let sent = 0;
  while (sent < n) {
    const due = Math.min(n, Math.floor(((epochMs() - start) * rate) / 1000) + 1);
    while (sent < due) {
      const index = sent++;
      enqueuedAt[index] = epochMs();
      calls.push(producer.enqueueOne(index));
    }
    if (sent < n) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(calls);
  return enqueuedAt;
}

/**
 * The same producer alone (nothing consumes) for a quarter of the jobs: the
 * redis-server CPU per job that enqueuing alone costs at this rate. On a virtual machine
 * every wake-up of Redis costs tens of µs, and the producer wakes it every tick: the
 * row's figure less this one is what the consumer added.
 */
async function producerFloor(ctx: RowContext): Promise<void> {
  const { config, redis, lib } = ctx;
  const n = Math.max(1, Math.floor(config.steadyJobs / 4));
  const producer = await lib.open({ port: redis.port, namespace: ctx.namespace('floor') });
  try {
    const cpuBefore = await redisCpuSeconds(redis.admin);
    await paced(producer, n, config.steadyRate);
    const spent = (await redisCpuSeconds(redis.admin)) - cpuBefore;
    ctx.record('steady_producer_redis_cpu_us_per_job', (spent * 1e6) / n);
  } finally {
    await producer.close();
    await redis.flush();
  }
}
