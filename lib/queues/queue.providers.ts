import type { FactoryProvider } from '@nestjs/common';
import { FlumeClient } from '../flume.client.js';
import { injectedQueues } from './injected-queues.js';
import { getQueueToken } from './queue.constants.js';

/** One provider per queue name @InjectQueue was used with. */
export function createQueueProviders(): FactoryProvider[] {
  return [...injectedQueues()].map((name) => ({
    provide: getQueueToken(name),
    useFactory: (client: FlumeClient) => client.queue(name),
    inject: [FlumeClient],
  }));
}
