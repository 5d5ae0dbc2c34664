import { Queue, Worker, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { sleep } from './sleep.js';
import type { BenchLib, BenchSession, SessionOptions } from './types.js';

const QUEUE = 'bench';
const NO_BATCHES = 'BullMQ OSS has no batches (compare with its row 2)';

/**
 * What BullMQ's docs advise for throughput ("Auto-removal of jobs"): finished jobs are
 * not kept in Redis. What a `@nestjs/bullmq` user sets in `defaultJobOptions`.
 */
const JOB_OPTIONS: JobsOptions = { removeOnComplete: true, removeOnFail: true };

/**
 * BullMQ used directly, as `@nestjs/bullmq` runs it (BullModule.forRoot({ connection })
 * and a `@Processor(queue, { concurrency })`, which become this Queue and Worker):
 * Queue.addBulk / add, and a Worker with `concurrency`, in a worker process of its own.
 * Every other setting is BullMQ's default: no metrics, no QueueEvents listener, the
 * stalled-job check and lock renewal as shipped. The connection sets
 * `maxRetriesPerRequest: null`, which BullMQ requires of a Worker's connection.
 */
export const bullmqLib: BenchLib = {
  name: 'bullmq',
  batchSupport: NO_BATCHES,

  async open(options: SessionOptions): Promise<BenchSession> {
    const connection: ConnectionOptions = {
      host: '127.0.0.1',
      port: options.port,
      maxRetriesPerRequest: null,
    };
    if (options.batchSize !== undefined) throw new Error(NO_BATCHES);
    const prefix = options.namespace;
    const queue = new Queue(QUEUE, { connection, prefix, defaultJobOptions: JOB_OPTIONS });
    await queue.waitUntilReady();
    let worker: Worker | undefined;
    if (options.consume) {
      const { probe, concurrency, handlerMs } = options.consume;
      worker = new Worker(
        QUEUE,
        async (job) => {
          probe.hit((job.data as { i: number }).i);
          if (handlerMs > 0) await sleep(handlerMs);
        },
        {
          connection,
          prefix,
          concurrency,
          removeOnComplete: { count: 0 },
          removeOnFail: { count: 0 },
        },
      );
      worker.on('error', () => undefined); // the probe reports lost jobs; no log noise
      await worker.waitUntilReady();
    }

    return {
      async enqueueBulk(from, count, chunk, groupOf) {
        if (groupOf) throw new Error('BullMQ (open source) has no job groups');
        for (let start = from; start < from + count; start += chunk) {
          const size = Math.min(chunk, from + count - start);
          const jobs = new Array(size);
          for (let k = 0; k < size; k++) {
            jobs[k] = { name: 'noop', data: { i: start + k }, opts: JOB_OPTIONS };
          }
          await queue.addBulk(jobs);
        }
      },
      async enqueueOne(index) {
        await queue.add('noop', { i: index }, JOB_OPTIONS);
      },
      async leftovers() {
        const counts = await queue.getJobCounts(
          'wait',
          'active',
          'prioritized',
          'delayed',
          'completed',
          'failed',
        );
        return counts;
      },
      async close() {
        await worker?.close();
        await queue.close();
      },
    };
  },
};
