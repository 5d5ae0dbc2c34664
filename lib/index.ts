// The public API of nestjs-flume: everything a user may import, and nothing else.
export { FlumeModule } from './flume.module.js';
export { FlumeClient } from './flume.client.js';
export { FlumeProducer } from './flume.producer.js';
export { FlumePipeline } from './flume-pipeline.js';
export { Worker } from './decorators/worker.decorator.js';
export { Handler } from './decorators/handler.decorator.js';
export { Batch } from './decorators/batch.decorator.js';
export { Periodic, type PeriodicOptions } from './decorators/periodic.decorator.js';
export { InjectPipeline } from './decorators/inject-pipeline.decorator.js';
export { FlumeEvents } from './flume.events.js';
export { OnFlumeEvent, type FlumeEventOf } from './events/index.js';
export { FlumeQueue, InjectQueue, getQueueToken } from './queues/index.js';
export { FlumeInspector } from './flume.inspector.js';
export { getPipelineToken } from './flume.constants.js';
export { FlumeTestingModule } from './testing/flume-testing.module.js';
export { FlumeTesting } from './testing/flume-testing.js';
export { FLUME_TEST_MODE } from './testing/test-mode.provider.js';
export type {
  FlumeDrainFailure,
  FlumeDrainOptions,
  FlumeDrainResult,
  FlumeTestingModuleOptions,
  FlumeTestJob,
} from './testing/testing.interfaces.js';
export type { FlumeFeatureOptions } from './features/feature.interfaces.js';
export type {
  FlumeModuleOptions,
  FlumeModuleAsyncOptions,
  FlumeOptionsFactory,
} from './interfaces/flume-module-options.interface.js';
export type { BatchWorkerOptions, WorkerOptions } from './interfaces/worker-options.interface.js';
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
  FlumeTimeoutError,
  FlumeBatchError,
  FlumeUnrecoverableError,
  FlumeContext,
  FLUME_CHANNELS,
  type BatchItemFailure,
  type BackoffFunction,
  type BackoffOption,
  type UniqueOptions,
  type UniqueUntil,
  type FlumeEvent,
  type FlumeEventType,
  type JobContext,
  type FoundJob,
  type FlumeProcess,
  type FlumeProcessPipeline,
  type JobListName,
  type JobPage,
  type JobSetName,
  type PeriodicStatus,
  type MissedTicks,
  type FlumePeriodicOptions,
  type JobState,
  type ListedJob,
  type PageRequest,
  type QueueHistory,
  type PauseOptions,
  type QueueStats,
  type GroupStats,
  type FlumeConnectionOptions,
  type FlumeMemoryConnection,
  type FlumePipelineOptions,
  type FlumeLogger,
  type FlumeTestMode,
  type Job,
} from './engine/index.js';
