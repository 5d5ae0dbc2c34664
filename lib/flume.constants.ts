/** Injection token of the options given to forRoot / forRootAsync. */
export const FLUME_MODULE_OPTIONS = Symbol('FLUME_MODULE_OPTIONS');
/** Injection token of the engine (internal). */
export const FLUME_ENGINE = Symbol('FLUME_ENGINE');
/** Metadata key written by @Worker. */
export const FLUME_WORKER_METADATA = 'flume:worker';

/** Injection token of pipeline `name`, as used by @InjectPipeline. */
export function getPipelineToken(name: string): string {
  return `FlumePipeline:${name}`;
}
