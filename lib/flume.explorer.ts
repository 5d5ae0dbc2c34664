import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  queuesRunHere,
  withoutEngine,
  type FlumeLogger,
  type ResolvedOptions,
  type WorkerRegistry,
} from './engine/index.js';
import { declaredWorkerClasses } from './decorators/declared-workers.js';
import { FlumeMetadataAccessor } from './flume-metadata.accessor.js';
import { workerNotProvided } from './flume.messages.js';
import { FLUME_LOGGER, FLUME_REGISTRY, FLUME_RESOLVED_OPTIONS } from './flume.constants.js';

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
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) this.explore(wrapper);
    this.warnAboutQueuesWithoutPipelines();
    this.warnAboutWorkersNotProvided();
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
