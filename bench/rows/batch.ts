import { rate } from '../stats.js';
import type { RowContext } from './context.js';
import { RowWorkers } from './workers.js';

/** Size of a batch in row 8, as the issue sets it. */
export const BATCH_SIZE = 100;

/** Row 8: a worker process with a @Batch({ size: 100 }) worker drains N waiting jobs (nestjs-flume only). */
export async function batchDrain(ctx: RowContext): Promise<void> {
  const { config, redis, lib } = ctx;
  const n = config.n;
  await redis.flush();
  const namespace = ctx.namespace('batch');
  const producer = await lib.open({ port: redis.port, namespace, batchSize: BATCH_SIZE });
  try {
    await producer.enqueueBulk(0, n, config.bulkChunk);
    const workers = new RowWorkers(ctx, namespace, {
      jobs: n,
      batchSize: BATCH_SIZE,
      label: `${lib.name}-row8-batch-drain-r${ctx.round}`,
    });
    try {
      await workers.untilDone(producer);
      const run = await workers.stop();
      ctx.record('batch_drain_jobs_per_s', rate(n - 1, run.lastAt - run.firstAt));
    } finally {
      workers.kill();
    }
  } finally {
    await producer.close();
  }
}
