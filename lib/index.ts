// The public API of nestjs-flume: everything a user may import, and nothing else.
export { FlumeModule } from './flume.module.js';
export { FlumeClient } from './flume.client.js';
export { FlumeProducer } from './flume.producer.js';
export { FlumePipeline } from './flume-pipeline.js';
export { Worker } from './decorators/worker.decorator.js';
export { InjectPipeline } from './decorators/inject-pipeline.decorator.js';
export { getPipelineToken } from './flume.constants.js';
export type {
  FlumeModuleOptions,
  FlumeModuleAsyncOptions,
  FlumeOptionsFactory,
} from './interfaces/flume-module-options.interface.js';
export type { WorkerOptions } from './interfaces/worker-options.interface.js';
export type {
  BulkJob,
  EnqueueOptions,
  HandlerArgs,
  HandlerName,
  PerformArgs,
} from './interfaces/enqueue.interface.js';
export {
  FlumeError,
  FlumeConfigError,
  FlumeConnectionError,
  FlumePayloadError,
  FlumeWorkerError,
  type FlumeConnectionOptions,
  type FlumePipelineOptions,
  type FlumeLogger,
  type Job,
} from './engine/index.js';
