// Queue handles: FlumeClient's enqueue methods bound to one queue.
export { FlumeQueue } from './flume-queue.js';
export { InjectQueue } from './inject-queue.decorator.js';
export { getQueueToken } from './queue.constants.js';
