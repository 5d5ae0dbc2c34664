import { WorkerProcess } from '../child/spawn.js';
import { timeoutFor } from '../probe.js';
import { rate } from '../stats.js';
import { epochMs, untilSettled, type RowContext } from './context.js';

/**
 * Row 3: one producer (this process: single enqueues, `steadyInflight` in flight) while
 * one worker process consumes (concurrency C). The sustained rate is taken between the
 * 10% and the 90% job, leaving out ramp-up and tail: it is the slower of the two sides.
 */
export async function steadyState(ctx: RowContext): Promise<void> {
  const { config, redis, lib } = ctx;
  await redis.flush();
  const n = config.steadyN;
  const namespace = ctx.namespace('steady');
  const marks = [Math.ceil(n * 0.1), Math.floor(n * 0.9), n];
  const worker = WorkerProcess.start({
    lib: lib.name,
    port: redis.port,
    namespace,
    concurrency: config.concurrency,
    expected: n,
    milestones: marks,
    gcSamples: false,
  });
  const producer = await lib.open({ port: redis.port, namespace });
  try {
    await worker.next('ready', 30_000);
    const start = epochMs();
    let next = 0;
    const lanes = Array.from({ length: Math.min(config.steadyInflight, n) }, async () => {
      while (next < n) await producer.enqueueOne(next++);
    });
    await Promise.all(lanes);
    const produced = epochMs();
    const [m10, m90, m100] = [
      await worker.next('milestone', timeoutFor(n)),
      await worker.next('milestone', timeoutFor(n)),
      await worker.next('milestone', timeoutFor(n)),
    ];
    ctx.record('steady_jobs_per_s', rate(m90.count - m10.count, m90.at - m10.at));
    ctx.record('steady_overall_jobs_per_s', rate(n, m100.at - start));
    ctx.record('steady_producer_jobs_per_s', rate(n, produced - start));
    await untilSettled(producer, redis.admin, timeoutFor(n));
    const report = await worker.stop();
    if (report.duplicates > 0) throw new Error(`${report.duplicates} job(s) ran twice`);
  } finally {
    worker.kill();
    await producer.close();
  }
}
