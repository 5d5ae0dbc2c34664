import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { FlumeClient } from '../../lib/index.js';
import {
  BATCH_QUEUE,
  batchDecorator,
  BenchBatchWorker,
  BenchWorker,
  benchAppModule,
  QUEUE,
} from './flume-app.js';
import type { BenchLib, BenchSession, SessionOptions } from './types.js';

/** nestjs-flume through its Nest module, in an application context with Nest's logger off. */
export const flumeLib: BenchLib = {
  name: 'flume',
  batchSupport: batchDecorator ? true : 'lib/index.ts exports no `Batch` yet',

  async open(options: SessionOptions): Promise<BenchSession> {
    const batch = options.batchSize !== undefined;
    const app = await NestFactory.createApplicationContext(
      benchAppModule({
        port: options.port,
        namespace: options.namespace,
        probe: options.consume?.probe,
        concurrency: options.consume?.concurrency,
        handlerMs: options.consume?.handlerMs,
        groupConcurrency: options.consume?.groupConcurrency,
        prefetch: options.consume?.prefetch,
        batchSize: options.batchSize,
      }),
      { logger: false },
    );
    const client = app.get(FlumeClient);
    const queue = batch ? BATCH_QUEUE : QUEUE;
    const worker = batch ? BenchBatchWorker : BenchWorker;
    // Connected before any timing starts, as BullMQ's waitUntilReady is.
    await client.jobCounts([queue]);
    const ns = options.namespace;

    return {
      async enqueueBulk(from, count, chunk, groupOf) {
        for (let start = from; start < from + count; start += chunk) {
          const size = Math.min(chunk, from + count - start);
          const jobs = new Array(size);
          for (let k = 0; k < size; k++) {
            jobs[k] = groupOf
              ? { worker, args: [start + k], group: groupOf(start + k) }
              : { worker, args: [start + k] };
          }
          await client.bulkEnqueue(queue, jobs);
        }
      },
      async enqueueOne(index) {
        await client.enqueue(queue, worker as typeof BenchWorker, [index]);
      },
      async leftovers(admin: Redis) {
        // Key layout of lib/engine/keys.ts, read here only to check that nothing is left.
        const base = `${ns}:queue:{${queue}}`;
        const [waiting, processing, retry, dead] = await Promise.all([
          admin.llen(base),
          admin.zcard(`${base}:processing`),
          admin.zcard(`${base}:retry`),
          admin.zcard(`${base}:dead`),
        ]);
        return { waiting, processing, retry, dead };
      },
      close: () => app.close(),
    };
  },
};
