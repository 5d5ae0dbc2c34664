import { performance } from 'node:perf_hooks';
import { delta, readCommandStats } from '../redis-stats.js';
import { rate } from '../stats.js';
import type { RowContext } from './context.js';

/** Row 4: single enqueues, each awaited before the next, as a request handler does. */
export async function sequentialEnqueue(ctx: RowContext): Promise<void> {
  const { config, redis, lib, profiler } = ctx;
  await redis.flush();
  const producer = await lib.open({ port: redis.port, namespace: ctx.namespace('sequential') });
  try {
    const before = await readCommandStats(redis.admin);
    const start = performance.now();
    await profiler.run(`${lib.name}-row4-sequential-enqueue-r${ctx.round}`, async () => {
      for (let i = 0; i < config.seqN; i++) await producer.enqueueOne(i);
    });
    ctx.record('sequential_enqueue_jobs_per_s', rate(config.seqN, performance.now() - start));
    const spent = delta(await readCommandStats(redis.admin), before);
    ctx.record('redis_commands_per_single_enqueue', spent.total / config.seqN);
  } finally {
    await producer.close();
  }
}
