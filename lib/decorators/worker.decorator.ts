import { SetMetadata } from '@nestjs/common';
import { backoffOptionProblem, FlumeConfigError, keyNameProblemFor } from '../engine/index.js';
import { FLUME_WORKER_METADATA } from '../flume.constants.js';
import type { WorkerMetadata, WorkerOptions } from '../interfaces/worker-options.interface.js';
import { recordWorkerClass } from './declared-workers.js';

/**
 * Marks a provider class as the worker of jobs from `queue`. List the class in a
 * module's providers as usual: it gets constructor injection like any provider.
 * Jobs run its default method (`perform`, or `options.method`) or, when they name
 * one, a method marked `@Handler()`; no other method is reachable from a job.
 *
 * ```ts
 * @Worker('default')
 * export class EmailWorker {
 *   constructor(private readonly mailer: Mailer) {}
 *   async perform(to: string, subject: string) { ... }
 *   @Handler() async resend(id: string) { ... }
 * }
 * ```
 */
export function Worker(queue: string, options: WorkerOptions = {}): ClassDecorator {
  const problem = keyNameProblemFor(queue);
  if (problem) throw new FlumeConfigError(`@Worker(queue): ${problem}`);
  return (target) => {
    const metadata: WorkerMetadata = {
      queue,
      name: options.name ?? target.name,
      method: options.method ?? 'perform',
      maxRetries: options.maxRetries,
      backoff: options.backoff,
      timeout: options.timeout,
    };
    const backoffProblem = backoffOptionProblem(metadata.backoff);
    if (backoffProblem) {
      throw new FlumeConfigError(`@Worker on class ${target.name}: "backoff": ${backoffProblem}`);
    }
    if (
      metadata.timeout !== undefined &&
      !(Number.isSafeInteger(metadata.timeout) && metadata.timeout > 0)
    ) {
      throw new FlumeConfigError(
        `@Worker on class ${target.name}: "timeout" must be a positive integer of ms, got: ${metadata.timeout}`,
      );
    }
    if (typeof metadata.name !== 'string' || metadata.name === '') {
      throw new FlumeConfigError(
        `@Worker on class ${target.name}: "name" must be a non-empty string.`,
      );
    }
    if (
      metadata.maxRetries !== undefined &&
      !(Number.isSafeInteger(metadata.maxRetries) && metadata.maxRetries >= 0)
    ) {
      throw new FlumeConfigError(
        `@Worker on class ${target.name}: "maxRetries" must be a non-negative integer, got: ${metadata.maxRetries}`,
      );
    }
    SetMetadata(FLUME_WORKER_METADATA, metadata)(target);
    recordWorkerClass(target);
  };
}
