import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  definePeriodic,
  FlumeConfigError,
  queuesRunHere,
  type FlumeEngine,
  withoutEngine,
  type FlumeLogger,
  type PeriodicJob,
  type ResolvedOptions,
  type WorkerRegistry,
} from './engine/index.js';
import { declaredWorkerClasses } from './decorators/declared-workers.js';
import { FlumeMetadataAccessor } from './flume-metadata.accessor.js';
import { workerNotProvided } from './flume.messages.js';
import {
  FLUME_ENGINE,
  FLUME_LOGGER,
  FLUME_REGISTRY,
  FLUME_RESOLVED_OPTIONS,
} from './flume.constants.js';

/** Finds the @Worker providers of the app and registers them with the engine. */
@Injectable()
export class FlumeExplorer implements OnModuleInit {
  /** Worker classes found among the providers, registered or skipped. */
  private readonly found = new Set<Function>();

  constructor(
    @Inject(FLUME_LOGGER) private readonly logger: FlumeLogger,
    private readonly discovery: DiscoveryService,
    private readonly metadata: FlumeMetadataAccessor,
    @Inject(FLUME_REGISTRY) private readonly registry: WorkerRegistry,
    @Inject(FLUME_RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Optional() @Inject(FLUME_ENGINE) private readonly engine: FlumeEngine | null,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) this.explore(wrapper);
    this.warnAboutQueuesWithoutPipelines();
    this.warnAboutWorkersNotProvided();
    this.engine?.periodic.define(this.periodicJobs());
  }

  /** The periodic jobs of the registered workers (@Periodic) and of the module options. */
  private periodicJobs(): PeriodicJob[] {
    const jobs: PeriodicJob[] = [];
    for (const worker of this.registry.all()) {
      const declared = this.metadata.getPeriodic(worker.instance.constructor);
      for (const periodic of declared) {
        jobs.push(definePeriodic({ ...periodic, worker: worker.name }, worker.queue));
      }
    }
    for (const periodic of this.options.periodic) {
      const name =
        typeof periodic.worker === 'function'
          ? this.metadata.getWorkerMetadata(periodic.worker)?.name
          : periodic.worker;
      const worker = name === undefined ? undefined : this.registry.get(name);
      if (!worker) {
        throw new FlumeConfigError(
          `Periodic job "${periodic.name ?? periodic.cron}": its worker ${describeWorker(periodic.worker)} is not a registered @Worker of this app. ` +
            "List the worker class in a module's providers, or declare the schedule with @Periodic on it.",
        );
      }
      jobs.push(definePeriodic({ ...periodic, worker: worker.name }, worker.queue));
    }
    return jobs;
  }

  private explore(wrapper: InstanceWrapper): void {
    // `{ provide: X, useExisting: Worker }` is the same worker under another token.
    if (wrapper.isAlias) return;
    const { instance, metatype } = wrapper;
    // Factory and value providers: the class is the instance's constructor.
    const target = !metatype || wrapper.inject ? instance?.constructor : metatype;
    const metadata = this.metadata.getWorkerMetadata(target);
    if (!metadata) {
      if (typeof target === 'function' && this.metadata.getBatchOptions(target)) {
        this.logger.warn(
          `${target.name} has @Batch but no @Worker('queue'), so no job runs it. Add @Worker.`,
        );
      }
      return;
    }
    this.found.add(target as Function);
    if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
      // Nest builds such a worker per request (or per injection), so the instance here
      // was never constructed: its dependencies would be missing.
      this.logger.warn(
        `Worker ${target.name} is request-scoped or transient (or depends on such a provider) and is skipped: ` +
          'a job has no request. Make it and its dependencies singletons.',
      );
      return;
    }
    this.registry.register({
      ...metadata,
      handlers: this.metadata.getHandlers(target as Function, metadata.method),
      batch: this.metadata.getBatchOptions(target as Function),
      instance,
      className: (target as Function).name,
    });
  }

  private warnAboutQueuesWithoutPipelines(): void {
    // In the fake and inline modes no pipeline runs anywhere: the warning would be noise.
    if (withoutEngine(this.options)) return;
    const consumed = new Set(this.options.pipelines.map((p) => p.queue));
    for (const worker of this.registry.all()) {
      if (consumed.has(worker.queue) || this.options.pipelines.length === 0) continue;
      this.logger.warn(
        `Worker ${worker.className} handles queue "${worker.queue}", but no pipeline of this app consumes it: ` +
          `its jobs wait until a process with a pipeline on "${worker.queue}" runs.`,
      );
    }
  }

  /**
   * A @Worker class that no module lists in its providers is never discovered: where
   * this process runs its queue, its jobs would die as "no worker named ...". Say so now.
   */
  private warnAboutWorkersNotProvided(): void {
    const runHere = queuesRunHere(this.options);
    for (const target of declaredWorkerClasses()) {
      const metadata = this.metadata.getWorkerMetadata(target);
      if (!metadata || !runHere.has(metadata.queue) || this.found.has(target)) continue;
      // Another class (a subclass, a stand-in) registered under the name runs its jobs.
      if (this.registry.get(metadata.name)?.queue === metadata.queue) continue;
      this.logger.warn(workerNotProvided(target.name, metadata.name, metadata.queue));
    }
  }
}

function describeWorker(worker: unknown): string {
  if (typeof worker === 'function') return worker.name || 'class';
  return JSON.stringify(worker) ?? String(worker);
}
