import type { FlumeEngine } from './engine/index.js';

/**
 * The handle of one pipeline, injectable with `@InjectPipeline(name)`.
 */
export class FlumePipeline {
  /** @internal */
  constructor(
    private readonly engine: FlumeEngine,
    /** Pipeline name. */
    readonly name: string,
    /** Queue it consumes. */
    readonly queue: string,
    /** Most jobs it runs at once in this process. */
    readonly maxDemand: number,
  ) {}

  /** Jobs of this pipeline running in this process now. */
  get pendingJobsCount(): number {
    return this.engine.runner(this.name)?.pendingJobsCount ?? 0;
  }
}
