import { FlumeConfigError, type FlumeEngine, type PauseOptions } from './engine/index.js';
import { noPipelinesInTestMode } from './testing/testing.messages.js';

/**
 * The handle of one pipeline, injectable with `@InjectPipeline(name)`.
 */
export class FlumePipeline {
  /** @internal `redis` is absent in test mode, where no pipeline runs. */
  constructor(
    private readonly redis: FlumeEngine | undefined,
    /** Pipeline name. */
    readonly name: string,
    /** Queue it consumes. */
    readonly queue: string,
    /** Most jobs it runs at once in this process. */
    readonly maxDemand: number,
  ) {}

  /** Jobs of this pipeline held in this process now: running, waiting for their batch, or prefetched. */
  get pendingJobsCount(): number {
    return this.redis?.runner(this.name)?.pendingJobsCount ?? 0;
  }

  /** True while the pipeline takes no new jobs in this process (paused here or for every instance). */
  get isPaused(): boolean {
    return this.redis?.runner(this.name).isPaused ?? false;
  }

  /** Stops this pipeline from taking new jobs (see FlumeProducer.pause). */
  async pause(opts?: PauseOptions): Promise<void> {
    return this.engine.pause([this.name], opts);
  }

  /** Lets this pipeline take jobs again (see FlumeProducer.pause). */
  async resume(opts?: PauseOptions): Promise<void> {
    return this.engine.resume([this.name], opts);
  }

  /** The engine, for this handle's pipeline control: a FlumeConfigError in test mode. */
  private get engine(): FlumeEngine {
    if (!this.redis) throw new FlumeConfigError(noPipelinesInTestMode());
    return this.redis;
  }
}
