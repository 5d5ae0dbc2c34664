import { blockedClients } from '../redis-stats.js';
import { percentile } from '../stats.js';
import { epochMs, untilSettled, type RowContext } from './context.js';
import { RowWorkers } from './workers.js';

/** Longest wait for the consumer to park in its blocking command before the next job. */
const IDLE_WAIT_MS = 200;

/**
 * Row 5: jobs enqueued one at a time into an idle queue by this process; latency is
 * from the enqueue call to the handler's start in the worker process (both read the
 * system clock). Before each job the bench waits until Redis reports a client blocked
 * (the consumer parked waiting for work), so every job meets an idle queue rather than
 * a fetch loop still spinning.
 */
export async function idleLatency(ctx: RowContext): Promise<void> {
  const { config, redis, lib } = ctx;
  await redis.flush();
  const n = config.latencyN;
  const namespace = ctx.namespace('latency');
  const session = await lib.open({ port: redis.port, namespace });
  const workers = new RowWorkers(ctx, namespace, {
    jobs: n,
    milestones: Array.from({ length: n }, (_, k) => k + 1),
    label: `${lib.name}-row5-latency-r${ctx.round}`,
  });
  const worker = workers.processes[0];
  const latencies: number[] = [];
  let notIdle = 0;
  try {
    await workers.ready();
    for (let i = 0; i < n; i++) {
      if (!(await untilBlocked(ctx, IDLE_WAIT_MS))) notIdle++;
      const t0 = epochMs();
      await session.enqueueOne(i);
      const started = await worker.next('milestone', 10_000);
      latencies.push(started.at - t0);
    }
    await untilSettled(session, redis.admin, 10_000);
    await workers.stop();
  } finally {
    workers.kill();
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
