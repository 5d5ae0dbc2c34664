import { Probe, timeoutFor } from '../probe.js';
import { rate } from '../stats.js';
import { untilSettled, type RowContext } from './context.js';

/** Size of a batch in row 8, as the issue sets it. */
export const BATCH_SIZE = 100;

/** Row 8: a @Batch({ size: 100 }) worker drains N waiting jobs (nestjs-flume only). */
export async function batchDrain(ctx: RowContext): Promise<void> {
  const { config, redis, lib, profiler } = ctx;
  const n = config.n;
  await redis.flush();
  const namespace = ctx.namespace('batch');
  const producer = await lib.open({ port: redis.port, namespace, batchSize: BATCH_SIZE });
  await producer.enqueueBulk(0, n, config.bulkChunk);
  await producer.close();
  const probe = new Probe(n);
  const consumer = await lib.open({
    port: redis.port,
    namespace,
    batchSize: BATCH_SIZE,
    consume: { concurrency: config.concurrency, probe },
  });
  try {
    await profiler.run(`${lib.name}-row8-batch-drain-r${ctx.round}`, () =>
      probe.until(n, `${lib.name} batch drain`, timeoutFor(n)),
    );
    ctx.record('batch_drain_jobs_per_s', rate(n - 1, probe.lastAt - probe.firstAt));
    await untilSettled(consumer, redis.admin, timeoutFor(n));
    if (probe.duplicates > 0) throw new Error(`${probe.duplicates} job(s) ran twice`);
  } finally {
    await consumer.close();
  }
}
