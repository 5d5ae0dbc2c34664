import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { FlumeEngine } from './engine/index.js';
import { FlumePipeline } from './flume-pipeline.js';
import { FLUME_ENGINE } from './flume.constants.js';

/**
 * Owns the dequeue loops of the app's pipelines and ties them to the Nest
 * lifecycle: they start once the app is bootstrapped and drain when it closes
 * (`app.close()`, or SIGTERM with `app.enableShutdownHooks()`).
 */
@Injectable()
export class FlumeProducer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly pipelines = new Map<string, FlumePipeline>();

  constructor(@Inject(FLUME_ENGINE) private readonly engine: FlumeEngine) {
    for (const { name, queue, maxDemand } of engine.options.pipelines) {
      this.pipelines.set(name, new FlumePipeline(engine, name, queue, maxDemand));
    }
  }

  /** The handle of pipeline `name`. Throws FlumeConfigError for an unknown name. */
  pipeline(name: string): FlumePipeline {
    const pipeline = this.pipelines.get(name);
    if (!pipeline) this.engine.pipelineOptions(name); // throws, naming the pipelines there are
    return pipeline!;
  }

  /** Jobs of pipeline `name` running in this process now. */
  pendingJobsCount(name: string): number {
    return this.pipeline(name).pendingJobsCount;
  }

  onApplicationBootstrap(): void {
    this.engine.start();
  }

  /**
   * Stops fetching, waits up to `shutdownTimeout` for running jobs, hands back the
   * rest, then closes the Redis connections. Idempotent.
   */
  close(): Promise<void> {
    return this.engine.close();
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }
}
