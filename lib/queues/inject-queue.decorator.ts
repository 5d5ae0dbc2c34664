import { Inject } from '@nestjs/common';
import { FlumeConfigError, keyNameProblemFor } from '../engine/index.js';
import { recordQueueInjection } from './injected-queues.js';
import { getQueueToken } from './queue.constants.js';

/**
 * Injects the `FlumeQueue` handle of queue `name`: `FlumeClient`'s enqueue methods
 * bound to it. Any queue name works; no pipeline needs to consume it here.
 *
 * ```ts
 * constructor(@InjectQueue('emails') private readonly emails: FlumeQueue) {}
 * ```
 */
export const InjectQueue = (name: string): ParameterDecorator & PropertyDecorator => {
  const problem = keyNameProblemFor(name);
  if (problem) throw new FlumeConfigError(`@InjectQueue: invalid queue name: ${problem}`);
  recordQueueInjection(name);
  const inject = Inject(getQueueToken(name));
  return (target: object, key: string | symbol | undefined, index?: number) => {
    if (index === undefined) inject(target, key!);
    else inject(target, key, index);
  };
};
