import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  FlumeConfigError,
  type FlumeEngine,
  type PauseOptions,
  type ResolvedOptions,
} from './engine/index.js';
import { FlumePipeline } from './flume-pipeline.js';
import { FLUME_ENGINE, FLUME_RESOLVED_OPTIONS } from './flume.constants.js';
import { noPipelinesInTestMode } from './testing/testing.messages.js';

/**
 * Owns the dequeue loops of the app's pipelines and ties them to the Nest
 * lifecycle: they start once the app is bootstrapped and drain when it closes
 * (`app.close()`, or SIGTERM with `app.enableShutdownHooks()`).
 */
@Injectable()
export class FlumeProducer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly handles = new Map<string, FlumePipeline>();

  /** The engine; absent in the fake and inline test modes, where no pipeline runs. */
  private readonly redis: FlumeEngine | undefined;

  constructor(
    @Optional() @Inject(FLUME_ENGINE) engine: FlumeEngine | null,
    @Inject(FLUME_RESOLVED_OPTIONS) options: ResolvedOptions,
  ) {
    this.redis = engine ?? undefined;
    for (const { name, queue, maxDemand } of options.pipelines) {
      this.handles.set(name, new FlumePipeline(this.redis, name, queue, maxDemand));
    }
  }

  /** The engine, for pipeline control: a FlumeConfigError in test mode, which has none. */
  private get engine(): FlumeEngine {
    if (!this.redis) throw new FlumeConfigError(noPipelinesInTestMode());
    return this.redis;
  }

  /** The handle of pipeline `name`. Throws FlumeConfigError for an unknown name. */
  pipeline(name: string): FlumePipeline {
    const pipeline = this.handles.get(name);
    if (!pipeline) throw FlumeConfigError.unknownPipeline(name, this.handles.keys());
    return pipeline;
  }

  /** The handles of every pipeline the app declares (run here or not), in declaration order. */
  pipelines(): FlumePipeline[] {
    return [...this.handles.values()];
  }

  /** Jobs of pipeline `name` held in this process now: running, waiting for their batch, or prefetched. */
  pendingJobsCount(name: string): number {
    return this.pipeline(name).pendingJobsCount;
  }

  /**
   * Stops pipeline `name` from taking new jobs; jobs it has finish. By default this
   * process only, resolving once the pipeline has stopped taking jobs (see
   * PauseOptions: `temporary`, `async`, `timeout`). Rejects with FlumeConfigError
   * for an unknown name or ill-typed options, FlumeTimeoutError past `timeout`
   * (async methods, so a bad name rejects instead of throwing at the call).
   */
  async pause(name: string, opts?: PauseOptions): Promise<void> {
    return this.engine.pause([this.pipeline(name).name], opts);
  }

  /** Lets pipeline `name` take jobs again (see `pause` for the options). */
  async resume(name: string, opts?: PauseOptions): Promise<void> {
    return this.engine.resume([this.pipeline(name).name], opts);
  }

  /** Pauses every pipeline of this app (see `pause`). */
  async pauseAll(opts?: PauseOptions): Promise<void> {
    return this.engine.pause([...this.handles.keys()], opts);
  }

  /** Resumes every pipeline of this app (see `pause`). */
  async resumeAll(opts?: PauseOptions): Promise<void> {
    return this.engine.resume([...this.handles.keys()], opts);
  }

  /**
   * Pauses periodic job `name` for every instance: its ticks enqueue nothing until it is
   * resumed (ticks missed meanwhile are not made up).
   */
  async pausePeriodic(name: string): Promise<void> {
    await this.setPeriodicPaused(name, true);
  }

  /** Resumes periodic job `name` for every instance, from its next tick. */
  async resumePeriodic(name: string): Promise<void> {
    await this.setPeriodicPaused(name, false);
  }

  private async setPeriodicPaused(name: string, paused: boolean): Promise<void> {
    const engine = this.engine;
    const job = engine.periodic.get(name);
    await engine.send(`did not ${paused ? 'pause' : 'resume'} the periodic job`, () =>
      engine.periodic.setPaused(job, paused),
    );
  }

  onApplicationBootstrap(): void {
    this.redis?.start();
  }

  /**
   * Stops fetching, waits up to `shutdownTimeout` for running jobs, hands back the
   * rest, then closes the Redis connections. Idempotent.
   */
  async close(): Promise<void> {
    await this.redis?.close();
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }
}
