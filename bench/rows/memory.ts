import { timeoutFor } from '../probe.js';
import { untilSettled, type RowContext } from './context.js';
import { RowWorkers } from './workers.js';

const MB = 1024 * 1024;

/**
 * Row 7: a worker process (concurrency C) drains `rssBatches` batches of `rssBatch`
 * jobs, each bulk-enqueued by this process once the previous one is done (Redis holds
 * one batch at a time). The worker reports its memory after each batch, raw and after a
 * full GC: the figure is RSS after the last batch (1,000,000 jobs in full mode) against
 * RSS after the first, both after GC. Peak RSS is the raw high-water mark.
 */
export async function workerMemory(ctx: RowContext): Promise<void> {
  const { config, redis, lib } = ctx;
  await redis.flush();
  const { rssBatch: batch, rssBatches: batches } = config;
  const total = batch * batches;
  const namespace = ctx.namespace('memory');
  const producer = await lib.open({ port: redis.port, namespace });
  const workers = new RowWorkers(ctx, namespace, {
    jobs: total,
    milestones: Array.from({ length: batches }, (_, k) => (k + 1) * batch),
    gcSamples: true,
    label: `${lib.name}-row7-memory`,
  });
  const worker = workers.processes[0];
  try {
    const ready = await worker.next('ready', 30_000);
    const samples = [];
    for (let k = 0; k < batches; k++) {
      await producer.enqueueBulk(k * batch, batch, config.bulkChunk);
      samples.push(await worker.next('milestone', timeoutFor(batch)));
    }
    await untilSettled(producer, redis.admin, timeoutFor(batch));
    const stopped = await worker.stop();
    const { report } = stopped;
    if (report.duplicates > 0) throw new Error(`${report.duplicates} job(s) ran twice`);
    if (report.distinct < total) throw new Error(`${total - report.distinct} job(s) never ran`);
    // After a full GC: a raw sample mostly says where the collector was at that moment.
    const first = samples[0].rssAfterGc;
    const last = samples[samples.length - 1].rssAfterGc;
    ctx.record('worker_rss_idle_mb', ready.rssAfterGc / MB);
    ctx.record('worker_rss_first_batch_mb', first / MB);
    ctx.record('worker_rss_last_batch_mb', last / MB);
    ctx.record('worker_rss_growth_pct', ((last - first) / first) * 100);
    ctx.record(
      'worker_heap_growth_pct',
      ((samples[samples.length - 1].heapAfterGc - samples[0].heapAfterGc) /
        samples[0].heapAfterGc) *
        100,
    );
    ctx.record(
      'worker_peak_rss_mb',
      Math.max(stopped.maxRss, ...samples.map((s) => s.maxRss)) / MB,
    );
    ctx.detail(
      'worker_rss_by_batch_mb',
      samples.map((s) => ({
        jobs: s.count,
        rss: +(s.rss / MB).toFixed(1),
        heapUsed: +(s.heapUsed / MB).toFixed(1),
        rssAfterGc: +(s.rssAfterGc / MB).toFixed(1),
        heapAfterGc: +(s.heapAfterGc / MB).toFixed(1),
      })),
    );
  } finally {
    workers.kill();
    await producer.close();
  }
}
