import { RedisConnections } from './connection.js';
import { Enqueuer } from './enqueuer.js';
import { FlumeConfigError } from './errors/index.js';
import type { FlumeLogger } from './logger.js';
import type { ResolvedOptions, ResolvedPipeline } from './options.js';
import { PipelineRunner } from './pipeline-runner.js';
import { Scripts } from './scripts.js';
import type { WorkerRegistry } from './worker-registry.js';

/**
 * The Redis engine, free of Nest: a registry of workers, an enqueuer, and one
 * runner per pipeline, over connections it owns.
 */
export class FlumeEngine {
  readonly connections: RedisConnections;
  readonly enqueuer: Enqueuer;
  private readonly scripts: Scripts;
  private readonly runners = new Map<string, PipelineRunner>();
  private closing?: Promise<void>;

  constructor(
    readonly options: ResolvedOptions,
    readonly registry: WorkerRegistry,
    private readonly logger: FlumeLogger,
  ) {
    this.connections = new RedisConnections(
      options.connection,
      `flume:${options.namespace}`,
      options.commandTimeout,
      logger,
    );
    this.scripts = new Scripts(this.connections.command);
    this.enqueuer = new Enqueuer(this.connections, options.namespace);
  }

  /** Options of pipeline `name`; throws a FlumeConfigError naming the pipelines there are. */
  pipelineOptions(name: string): ResolvedPipeline {
    const pipeline = this.options.pipelines.find((p) => p.name === name);
    if (pipeline) return pipeline;
    const known = this.options.pipelines.map((p) => `"${p.name}"`).join(', ') || 'none';
    throw new FlumeConfigError(`Unknown pipeline "${name}". Configured pipelines: ${known}.`);
  }

  /** The runner of pipeline `name`, once started. */
  runner(name: string): PipelineRunner | undefined {
    return this.runners.get(name);
  }

  /** Starts every configured pipeline; call once workers are registered. */
  start(): void {
    if (this.closing) return;
    for (const pipeline of this.options.pipelines) {
      if (this.runners.has(pipeline.name)) continue;
      const runner = new PipelineRunner(pipeline, {
        command: this.connections.command,
        blocking: this.connections.createBlocking(`pipeline:${pipeline.name}`),
        scripts: this.scripts,
        registry: this.registry,
        options: this.options,
        logger: this.logger,
      });
      this.runners.set(pipeline.name, runner);
      runner.start();
    }
  }

  /** Drains every pipeline (see PipelineRunner.stop), then closes the connections. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const timeout = this.options.shutdownTimeout;
    const results = await Promise.allSettled(
      [...this.runners.values()].map((runner) => runner.stop(timeout)),
    );
    for (const result of results) {
      if (result.status === 'rejected') {
        this.logger.error(`A pipeline did not stop cleanly: ${(result.reason as Error).message}`);
      }
    }
    await this.connections.close();
  }
}
