import { performance } from 'node:perf_hooks';
import { Probe } from '../probe.js';
import { blockedClients } from '../redis-stats.js';
import { percentile } from '../stats.js';
import type { RowContext } from './context.js';

/** Longest wait for the consumer to park in its blocking command before the next job. */
const IDLE_WAIT_MS = 200;
/** The same before the first job: the consumer may still be starting. */
const FIRST_IDLE_WAIT_MS = 5_000;

/**
 * Row 5: jobs enqueued one at a time into an idle queue; latency is from the enqueue
 * call to the handler's start, in one process (one clock). Before each job the bench
 * waits until Redis reports a client blocked (the consumer parked waiting for work),
 * so every job meets an idle queue rather than a fetch loop still spinning.
 */
export async function idleLatency(ctx: RowContext): Promise<void> {
  const { config, redis, lib } = ctx;
  await redis.flush();
  const n = config.latencyN;
  const probe = new Probe(n);
  const startedAt = new Float64Array(n);
  probe.onHit = (index, at) => {
    if (index >= 0 && index < n) startedAt[index] = at;
  };
  const session = await lib.open({
    port: redis.port,
    namespace: ctx.namespace('latency'),
    consume: { concurrency: config.concurrency, probe },
  });
  const latencies: number[] = [];
  let notIdle = 0;
  try {
    for (let i = 0; i < n; i++) {
      if (!(await untilBlocked(ctx, i === 0 ? FIRST_IDLE_WAIT_MS : IDLE_WAIT_MS))) notIdle++;
      const t0 = performance.now();
      await Promise.all([
        session.enqueueOne(i),
        probe.until(i + 1, `${lib.name} latency job ${i}`, 10_000),
      ]);
      latencies.push(startedAt[i] - t0);
    }
  } finally {
    await session.close();
  }
  ctx.record('idle_latency_p50_ms', percentile(latencies, 50));
  ctx.record('idle_latency_p99_ms', percentile(latencies, 99));
  ctx.record('idle_latency_max_ms', Math.max(...latencies));
  ctx.detail('idle_latency_not_idle', notIdle);
  ctx.detail(
    'idle_latency_worst_ms',
    latencies
      .map((ms, job) => ({ job, ms: +ms.toFixed(2) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5),
  );
}

async function untilBlocked(ctx: RowContext, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await blockedClients(ctx.redis.admin)) > 0) return true;
  }
  return false;
}
