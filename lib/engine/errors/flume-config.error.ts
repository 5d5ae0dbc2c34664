import { FlumeError } from './flume.error.js';

/** An option given to `FlumeModule.forRoot` (or a pipeline) is invalid. Thrown at boot. */
export class FlumeConfigError extends FlumeError {
  /** @internal The error for a pipeline name that is not configured, naming those that are. */
  static unknownPipeline(name: string, configured: Iterable<string>): FlumeConfigError {
    const known = [...configured].map((n) => `"${n}"`).join(', ') || 'none';
    return new FlumeConfigError(`Unknown pipeline "${name}". Configured pipelines: ${known}.`);
  }
}
