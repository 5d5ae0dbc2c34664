/** Injection token of the options given to forRoot / forRootAsync. */
export const FLUME_MODULE_OPTIONS = Symbol('FLUME_MODULE_OPTIONS');
/** Injection token of the options with defaults applied (internal). */
export const FLUME_RESOLVED_OPTIONS = Symbol('FLUME_RESOLVED_OPTIONS');
/** Injection token of the logger of the module: the `logger` option, or Nest's Logger (internal). */
export const FLUME_LOGGER = Symbol('FLUME_LOGGER');
/** Injection token of the engine (internal). */
export const FLUME_ENGINE = Symbol('FLUME_ENGINE');
/** Injection token of the registry of discovered workers (internal). */
export const FLUME_REGISTRY = Symbol('FLUME_REGISTRY');
/** Injection token of where FlumeClient sends jobs (internal): Redis, or the test mode's sink. */
export const FLUME_JOB_SINK = Symbol('FLUME_JOB_SINK');
/** Metadata key written by @Worker. */
export const FLUME_WORKER_METADATA = 'flume:worker';
/** Metadata key written by @Handler, on the method. */
export const FLUME_HANDLER_METADATA = 'flume:handler';
/** Metadata key written by @Periodic: the list of periodic jobs of a worker class. */
export const FLUME_PERIODIC_METADATA = 'flume:periodic';
/** Metadata key written by @Batch. */
export const FLUME_BATCH_METADATA = 'flume:batch';

/** Injection token of pipeline `name`, as used by @InjectPipeline. */
export function getPipelineToken(name: string): string {
  return `FlumePipeline:${name}`;
}
