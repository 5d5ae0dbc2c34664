import { performance } from 'node:perf_hooks';
import { delta, readCommandStats } from '../redis-stats.js';
import { rate } from '../stats.js';
import type { RowContext } from './context.js';

/**
 * Row 3: single enqueues with `inflight` calls in flight (as concurrent request
 * handlers make them), from this process, nothing consuming: each call resolves once
 * Redis has its job.
 */
export async function inflightEnqueue(ctx: RowContext): Promise<void> {
  const { config, redis, lib, profiler } = ctx;
  await redis.flush();
  const n = config.inflightN;
  const producer = await lib.open({ port: redis.port, namespace: ctx.namespace('inflight') });
  try {
    const before = await readCommandStats(redis.admin);
    const start = performance.now();
    const cpu = process.cpuUsage();
    let next = 0;
    await profiler.run(`${lib.name}-row3-inflight-enqueue-r${ctx.round}`, () =>
      Promise.all(
        Array.from({ length: Math.min(config.inflight, n) }, async () => {
          while (next < n) await producer.enqueueOne(next++);
        }),
      ),
    );
    ctx.record('inflight_enqueue_jobs_per_s', rate(n, performance.now() - start));
    const { user, system } = process.cpuUsage(cpu);
    ctx.record('inflight_enqueue_cpu_us_per_job', (user + system) / n);
    const spent = delta(await readCommandStats(redis.admin), before);
    ctx.record('inflight_enqueue_commands_per_job', spent.total / n);
  } finally {
    await producer.close();
  }
}
