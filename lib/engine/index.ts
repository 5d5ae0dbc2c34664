// The engine's surface for the Nest layer. Not the package's public API: see lib/index.ts.
export * from './errors/index.js';
export { FlumeEngine } from './flume-engine.js';
export { FlumeContext, type JobContext } from './context.js';
export { FLUME_CHANNELS, type FlumeEvent, type FlumeEventType } from './instrumentation.js';
export type { Job } from './job.js';
export type {
  JobListName,
  JobPage,
  FoundJob,
  JobSetName,
  JobState,
  ListedJob,
  PageRequest,
  QueueHistory,
  QueueStats,
} from './inspector.js';
export type { FlumeProcess, FlumeProcessPipeline } from './processes.js';
export type { GroupStats } from './store.js';
export type { FlumeLogger } from './logger.js';
export { SILENT_LOGGER } from './logger.js';
export {
  resolveOptions,
  DEFAULTS,
  type FlumeOptions,
  type FlumeConnectionOptions,
  type FlumeMemoryConnection,
  type FlumePipelineOptions,
  type FlumePeriodicOptions,
  type FlumeTestMode,
  type ResolvedOptions,
  type ResolvedPipeline,
} from './options.js';
export type { PauseOptions } from './pause-options.js';
export { queuesRunHere, withoutEngine } from './pipeline-options.js';
export type { PipelineRunner } from './pipeline-runner.js';
export { keyNameProblemFor } from './keys.js';
export {
  isHandlerMethod,
  WorkerRegistry,
  type BatchOptions,
  type WorkerDefinition,
} from './worker-registry.js';
export { asSentence, notAHandler } from './worker-messages.js';
export type { JobSink } from './job-sink.js';
export { encodeNewJob, decodeJob, describe, type NewJob } from './payload.js';
export { checkDueAt, checkQueueName, encodeBulk, type EncodedJob } from './new-jobs.js';
export { invokeHandler, jobContext, type RunCall, type RunWrapper } from './invocation.js';
export { JobSignal } from './job-signal.js';
export {
  backoffOptionProblem,
  decideAfterFailure,
  type BackoffFunction,
  type BackoffOption,
  type FailureDecision,
} from './retry-policy.js';
export { DEFAULT_UNIQUE_TTL_MS, type UniqueOptions, type UniqueUntil } from './unique.js';
export {
  definePeriodic,
  type MissedTicks,
  type PeriodicDeclaration,
  type PeriodicJob,
} from './periodic.js';
export type { PeriodicStatus } from './periodic-scheduler.js';
