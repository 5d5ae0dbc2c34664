import { RedisConnections } from './connection.js';
import { Enqueuer } from './enqueuer.js';
import { FlumeConfigError, FlumeTimeoutError } from './errors/index.js';
import { Heartbeat } from './heartbeat.js';
import { Inspector } from './inspector.js';
import { Instrumentation } from './instrumentation.js';
import { pausedPipelinesKey } from './keys.js';
import { escapingLogger, type FlumeLogger } from './logger.js';
import type { ResolvedOptions } from './options.js';
import { PausedPipelines } from './paused-pipelines.js';
import { resolvePauseOptions, type PauseOptions } from './pause-options.js';
import { PipelineRunner } from './pipeline-runner.js';
import { RedisStore } from './redis-store.js';
import { checkServer } from './server-check.js';
import { resolvesWithin } from './wait.js';
import type { WorkerRegistry } from './worker-registry.js';

/** How often each instance reads the pauses stored in Redis. */
const PAUSE_POLL_MS = 1_000;

/**
 * The Redis engine, free of Nest: an enqueuer and one runner per pipeline, over
 * connections it owns, running the workers of a registry.
 */
export class FlumeEngine {
  readonly connections: RedisConnections;
  readonly enqueuer: Enqueuer;
  readonly instrumentation = new Instrumentation();
  readonly inspector: Inspector;
  private readonly store: RedisStore;
  private readonly paused: PausedPipelines;
  private readonly heartbeat: Heartbeat;
  private readonly runners = new Map<string, PipelineRunner>();
  private readonly logger: FlumeLogger;
  private started = false;
  private closing?: Promise<void>;

  constructor(
    readonly options: ResolvedOptions,
    readonly registry: WorkerRegistry,
    userLogger: FlumeLogger,
  ) {
    // Everything below logs through this one: text read from Redis is escaped here.
    const logger = escapingLogger(userLogger);
    this.logger = logger;
    this.connections = new RedisConnections(
      options.connection,
      `flume:${options.namespace}`,
      options.commandTimeout,
      logger,
    );
    const command = this.connections.command;
    this.store = new RedisStore(command);
    this.enqueuer = new Enqueuer(this.connections, this.store, options, this.instrumentation);
    this.inspector = new Inspector(this.connections, this.store, options.namespace);
    this.paused = new PausedPipelines(
      this.store,
      pausedPipelinesKey(options.namespace),
      PAUSE_POLL_MS,
      logger,
    );
    // The pipelines this process runs get a connection of their own, without the
    // command timeout (see RedisConnections.worker); declared-only ones never use theirs.
    const runsAny = options.runPipelines.length > 0;
    const workerStore = runsAny ? new RedisStore(this.connections.worker) : this.store;
    for (const pipeline of options.pipelines) {
      const runner = new PipelineRunner(pipeline, {
        store: workerStore,
        createBlocking: () =>
          new RedisStore(this.connections.createBlocking(`pipeline:${pipeline.name}`)),
        registry,
        options,
        paused: this.paused,
        instrumentation: this.instrumentation,
        logger,
      });
      this.runners.set(pipeline.name, runner);
    }
    const runHere = options.runPipelines.map((name) => this.runners.get(name)!);
    this.heartbeat = new Heartbeat(this.store, options.namespace, runHere, registry, logger);
  }

  /** The runner of pipeline `name`; throws a FlumeConfigError naming the pipelines there are. */
  runner(name: string): PipelineRunner {
    const runner = this.runners.get(name);
    if (runner) return runner;
    throw FlumeConfigError.unknownPipeline(name, this.runners.keys());
  }

  /** Starts every configured pipeline; call once workers are registered. */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    // Once per boot, when Redis first answers: warn about settings that lose jobs.
    const command = this.connections.command;
    if (command.status === 'ready') void checkServer(this.store, this.logger);
    else command.once('ready', () => void checkServer(this.store, this.logger));
    // Every process says it is alive, also one that runs no pipeline; after the stored
    // pauses are read, so the first beat never holds up that read on the shared connection.
    const runsAny = this.options.runPipelines.length > 0;
    this.heartbeat.start(runsAny ? this.paused.loaded : Promise.resolve());
    if (!runsAny) return;
    this.paused.start();
    for (const name of this.options.runPipelines) this.runners.get(name)!.start();
  }

  /** Pauses pipelines `names` (see PauseOptions). */
  pause(names: readonly string[], opts?: PauseOptions): Promise<void> {
    return this.setPaused(names, true, opts);
  }

  /** Resumes pipelines `names` (see PauseOptions). */
  resume(names: readonly string[], opts?: PauseOptions): Promise<void> {
    return this.setPaused(names, false, opts);
  }

  /** Drains every pipeline (see PipelineRunner.stop), then closes the connections. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async setPaused(
    names: readonly string[],
    paused: boolean,
    raw?: PauseOptions,
  ): Promise<void> {
    const opts = resolvePauseOptions(raw);
    const runners = names.map((name) => this.runner(name));
    if (!opts.temporary) {
      // Right after boot the command connection may still be connecting (no offline queue).
      await this.connections.send(`did not store the ${paused ? 'pause' : 'resume'}`, () =>
        this.paused.set(names, paused),
      );
    }
    for (const runner of runners) {
      // A stored pause is held by the shared set alone: were it also held here, a
      // resume for every instance issued by another instance would leave this one paused.
      if (paused && opts.temporary) runner.pause();
      else if (!paused) runner.resume();
    }
    for (const runner of runners) {
      const how = opts.temporary ? 'in this process' : 'for every instance';
      this.logger.log(`Pipeline "${runner.name}" ${paused ? 'paused' : 'resumed'} ${how}.`);
      if (!paused && runner.isPaused) {
        this.logger.warn(
          `Pipeline "${runner.name}" stays paused: it is paused for every instance in Redis. ` +
            'Resume it with { temporary: false } to lift that.',
        );
      }
    }
    if (!paused || opts.async) return;
    const stopped = Promise.all(runners.map((runner) => runner.untilNotTaking()));
    if (!(await resolvesWithin(stopped, opts.timeout))) {
      throw new FlumeTimeoutError(
        `Pausing ${names.join(', ')} took longer than ${opts.timeout} ms; the pipeline(s) stay paused.`,
      );
    }
  }

  private async shutdown(): Promise<void> {
    this.paused.stop();
    const timeout = this.options.shutdownTimeout;
    const results = await Promise.allSettled(
      [...this.runners.values()].map((runner) => runner.stop(timeout)),
    );
    for (const result of results) {
      if (result.status === 'rejected') {
        this.logger.error(`A pipeline did not stop cleanly: ${(result.reason as Error).message}`);
      }
    }
    await this.heartbeat.stop();
    await this.connections.close();
  }
}
