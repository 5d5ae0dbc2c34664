import type { StoreBackend } from './backend.js';
import { createBackend } from './backends.js';
import { Enqueuer } from './enqueuer.js';
import { FlumeConfigError, FlumeTimeoutError } from './errors/index.js';
import { Heartbeat } from './heartbeat.js';
import { Inspector } from './inspector.js';
import { Instrumentation } from './instrumentation.js';
import { pausedPipelinesKey } from './keys.js';
import { escapingLogger, type FlumeLogger } from './logger.js';
import type { ResolvedOptions } from './options.js';
import { PausedPipelines } from './paused-pipelines.js';
import { queuesRunHere } from './pipeline-options.js';
import { PeriodicScheduler } from './periodic-scheduler.js';
import { resolvePauseOptions, type PauseOptions } from './pause-options.js';
import { PipelineRunner } from './pipeline-runner.js';
import { idleMessages } from './idle-messages.js';
import { resolvesWithin, Signal } from './wait.js';
import type { WorkerRegistry } from './worker-registry.js';

/** How often each instance reads the pauses stored for every instance. */
const PAUSE_POLL_MS = 1_000;

/**
 * The engine, free of Nest: an enqueuer and one runner per pipeline, over a backend
 * (Redis or memory) it owns, running the workers of a registry.
 */
export class FlumeEngine {
  readonly enqueuer: Enqueuer;
  readonly instrumentation = new Instrumentation();
  readonly inspector: Inspector;
  /** Periodic jobs: defined by the Nest layer once workers are known, armed at start. */
  readonly periodic: PeriodicScheduler;
  private readonly backend: StoreBackend;
  private readonly paused: PausedPipelines;
  private readonly heartbeat: Heartbeat;
  private readonly runners = new Map<string, PipelineRunner>();
  /** Rings when a job of any pipeline settles (see untilIdle). */
  private readonly settled = new Signal();
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
    // The one place that knows which backend the engine runs on.
    const backend = createBackend(options, logger);
    this.backend = backend;
    this.enqueuer = new Enqueuer(backend, backend.command, options, this.instrumentation);
    this.inspector = new Inspector(backend, backend.command, options.namespace);
    this.periodic = new PeriodicScheduler(
      backend.command,
      options.namespace,
      options.maxPayloadBytes,
      logger,
      options.debug,
      options.instrument ? this.instrumentation : undefined,
    );
    this.paused = new PausedPipelines(
      backend.command,
      pausedPipelinesKey(options.namespace),
      PAUSE_POLL_MS,
      logger,
    );
    // The pipelines this process runs get a store of their own, without the command
    // timeout (see StoreBackend.worker); declared-only ones never use theirs.
    const runsAny = options.runPipelines.length > 0;
    const workerStore = runsAny ? backend.worker : backend.command;
    for (const pipeline of options.pipelines) {
      const runner = new PipelineRunner(pipeline, {
        store: workerStore,
        createBlocking: () => backend.blocking(pipeline.name),
        registry,
        options,
        paused: this.paused,
        instrumentation: this.instrumentation,
        logger,
        settled: this.settled,
      });
      this.runners.set(pipeline.name, runner);
    }
    const runHere = options.runPipelines.map((name) => this.runners.get(name)!);
    this.heartbeat = new Heartbeat(backend.command, options.namespace, runHere, registry, logger);
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
    this.backend.start();
    // Every process says it is alive, also one that runs no pipeline; after the stored
    // pauses are read, so the first beat never holds up that read on the shared connection.
    const runsAny = this.options.runPipelines.length > 0;
    this.heartbeat.start(runsAny ? this.paused.loaded : Promise.resolve());
    if (!runsAny) return;
    this.periodic.start(queuesRunHere(this.options));
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

  /**
   * Resolves once the pipelines running here have nothing to do now: no job running
   * or waiting for its batch, an empty queue (unless every pipeline on it is paused),
   * and no scheduled or retry job due (due ones are moved to their queue here, so a
   * clock moved by fake timers is enough). Jobs due later do not count. Needs a store
   * whose writes it can see (the memory store): a FlumeConfigError on Redis.
   */
  async untilIdle(): Promise<void> {
    const changed = this.backend.changed;
    if (!changed) throw new FlumeConfigError(idleMessages.needsMemory());
    for (;;) {
      // Armed before looking, so that nothing happening while we look is missed.
      const next = Promise.race([changed(), this.settled.wait()]);
      if (this.closing || (await this.isIdle())) return;
      await next;
    }
  }

  private async isIdle(): Promise<boolean> {
    const running = this.options.runPipelines.map((name) => this.runners.get(name)!);
    if (running.some((runner) => runner.pendingJobsCount > 0)) return false;
    const store = this.backend.command;
    for (const queue of new Set(running.map((runner) => runner.queue))) {
      const consumers = running.filter((runner) => runner.queue === queue);
      const keys = consumers[0].keys;
      const { waiting, processing } = await store.stats(keys);
      if (processing > 0) return false;
      if (waiting > 0 && consumers.some((runner) => !runner.isPaused)) return false;
      // What the scheduler would move at its next run: now, so no timer has to fire.
      if ((await store.promote(keys, 1_000)).moved > 0) return false;
    }
    return true;
  }

  /** Runs `command` once the store answers; failures become a FlumeConnectionError saying `what`. */
  send<T>(what: string, command: () => Promise<T>): Promise<T> {
    return this.backend.send(what, command);
  }

  /** Resolves when the store answers a round trip; a FlumeConnectionError otherwise. */
  ping(): Promise<void> {
    return this.backend.send('did not answer PING', () => this.backend.command.ping());
  }

  /** Drains every pipeline (see PipelineRunner.stop), then closes the backend. Idempotent. */
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
      await this.backend.send(`did not store the ${paused ? 'pause' : 'resume'}`, () =>
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
          `Pipeline "${runner.name}" stays paused: it is paused for every instance. ` +
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
    this.periodic.stop();
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
    await this.backend.close();
  }
}
