import { SetMetadata } from '@nestjs/common';
import { FlumeConfigError } from '../engine/index.js';
import { FLUME_BATCH_METADATA } from '../flume.constants.js';
import type { BatchWorkerOptions } from '../interfaces/worker-options.interface.js';

/**
 * Makes a `@Worker` a batch worker: its handler gets the args of up to `size` jobs
 * at once, as an array with one entry per job (`[[job1 args], [job2 args], ...]`).
 * Without `timeout`, each take's jobs are handed over at once in chunks of `size`;
 * with it, a partial batch waits up to `timeout` ms for more jobs.
 *
 * Throwing fails (and retries) every job of the batch; throw a `FlumeBatchError`
 * naming the failed indexes to retry only those.
 *
 * ```ts
 * @Worker('emails')
 * @Batch({ size: 100, timeout: 50 })
 * export class DigestWorker {
 *   async perform(jobs: [string, string][]) { ... }
 * }
 * ```
 */
export function Batch(options: BatchWorkerOptions): ClassDecorator {
  return (target) => {
    const { size, timeout = 0 } = options ?? ({} as BatchWorkerOptions);
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new FlumeConfigError(
        `@Batch on class ${target.name}: "size" must be a positive integer, got: ${String(size)}`,
      );
    }
    if (!Number.isSafeInteger(timeout) || timeout < 0) {
      throw new FlumeConfigError(
        `@Batch on class ${target.name}: "timeout" must be a non-negative integer of ms, got: ${String(timeout)}`,
      );
    }
    SetMetadata(FLUME_BATCH_METADATA, { size, timeout })(target);
  };
}
