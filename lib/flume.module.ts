import {
  Injectable,
  Module,
  type DynamicModule,
  type OnModuleDestroy,
  type Provider,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { describe, FlumeConfigError } from './engine/index.js';
import { FLUME_FEATURE_PIPELINES } from './features/feature-pipelines.js';
import type { FlumeFeatureOptions } from './features/feature.interfaces.js';
import { FlumeFeatureModule } from './features/flume-feature.module.js';
import { FlumeClient } from './flume.client.js';
import { FlumeEvents } from './flume.events.js';
import { FlumeEventExplorer } from './events/flume-event.explorer.js';
import { createQueueProviders } from './queues/queue.providers.js';
import { FlumeInspector } from './flume.inspector.js';
import { FlumeExplorer } from './flume.explorer.js';
import { FlumeMetadataAccessor } from './flume-metadata.accessor.js';
import { FlumeProducer } from './flume.producer.js';
import { FlumeTesting } from './testing/flume-testing.js';
import { testModeProvider } from './testing/test-mode.provider.js';
import {
  FLUME_ENGINE,
  FLUME_LOGGER,
  FLUME_MODULE_OPTIONS,
  FLUME_RESOLVED_OPTIONS,
  getPipelineToken,
} from './flume.constants.js';
import {
  createAsyncOptionsProviders,
  createPipelineProviders,
  createUnprovidedPipelineProviders,
  engineProvider,
  jobSinkProvider,
  registryProvider,
  resolvedOptionsProvider,
  loggerProvider,
} from './flume.providers.js';
import type {
  FlumeModuleAsyncOptions,
  FlumeModuleOptions,
} from './interfaces/flume-module-options.interface.js';

const CORE_PROVIDERS: Provider[] = [
  resolvedOptionsProvider,
  loggerProvider,
  registryProvider,
  engineProvider,
  jobSinkProvider,
  FlumeMetadataAccessor,
  FlumeExplorer,
  FlumeProducer,
  FlumeClient,
  FlumeEvents,
  FlumeEventExplorer,
  FlumeInspector,
  FlumeTesting,
  testModeProvider,
];

/**
 * Holds every provider of the module, globally, so `FlumeClient` and `FlumeProducer`
 * inject anywhere. Internal: apps import `FlumeModule`, which imports this.
 */
@Module({})
export class FlumeCoreModule {}

/**
 * Stops the pipelines when the app closes, from the non-global `FlumeModule`. Nest
 * destroys global modules last; from here the drain runs before them (database and
 * config modules are usually global) and before the modules deeper in the import tree,
 * so jobs do not start against resources that are already closed.
 */
@Injectable()
class FlumeShutdown implements OnModuleDestroy {
  constructor(private readonly producer: FlumeProducer) {}

  onModuleDestroy(): Promise<void> {
    return this.producer.close();
  }
}

/**
 * Runs jobs from Redis queues through `@Worker` classes. Import it once, in the root
 * module; its providers are global, so `FlumeClient` and `FlumeProducer` inject anywhere.
 */
@Module({})
export class FlumeModule {
  /** Registers the module with options known up front. */
  static forRoot(options: FlumeModuleOptions = {}): DynamicModule {
    const names = Array.isArray(options?.pipelines)
      ? options.pipelines
          .map((pipeline) => pipeline?.name)
          .filter((name) => typeof name === 'string')
      : [];
    return this.build([{ provide: FLUME_MODULE_OPTIONS, useValue: options }], names, [], false);
  }

  /**
   * Declares the pipelines of a feature module's workers in that module, instead of in
   * the root module's `forRoot`. Import `FlumeModule.forRoot` (or `forRootAsync`) once
   * in the root module as usual; each feature module imports `forFeature`:
   *
   * ```ts
   * @Module({
   *   imports: [FlumeModule.forFeature({ pipelines: [{ name: 'mail', queue: 'emails' }] })],
   *   providers: [Mailer],
   * })
   * export class MailModule {}
   * ```
   */
  static forFeature(options: FlumeFeatureOptions): DynamicModule {
    if (!Array.isArray(options?.pipelines)) {
      throw new FlumeConfigError(
        'FlumeModule.forFeature expects { pipelines: [{ name, queue, ... }] }, ' +
          `got: ${describe(options)}`,
      );
    }
    return {
      module: FlumeFeatureModule,
      providers: [{ provide: FLUME_FEATURE_PIPELINES, useValue: options.pipelines }],
    };
  }

  /** Registers the module with options from a factory (e.g. `ConfigService`). */
  static forRootAsync(options: FlumeModuleAsyncOptions): DynamicModule {
    if (!options || (!options.useFactory && !options.useClass && !options.useExisting)) {
      throw new FlumeConfigError(
        'FlumeModule.forRootAsync needs one of useFactory, useClass or useExisting.',
      );
    }
    return this.build(
      createAsyncOptionsProviders(options),
      options.pipelines ?? [],
      options.imports ?? [],
      true,
    );
  }

  private static build(
    optionsProviders: Provider[],
    pipelineNames: readonly string[],
    imports: NonNullable<DynamicModule['imports']>,
    async: boolean,
  ): DynamicModule {
    const unprovided = createUnprovidedPipelineProviders(pipelineNames, async);
    const queues = createQueueProviders();
    const core: DynamicModule = {
      global: true,
      module: FlumeCoreModule,
      imports: [DiscoveryModule, ...imports],
      providers: [
        ...optionsProviders,
        ...CORE_PROVIDERS,
        ...createPipelineProviders(pipelineNames),
        ...unprovided,
        ...queues,
      ],
      exports: [
        FlumeClient,
        FlumeProducer,
        FlumeEvents,
        FlumeInspector,
        FlumeTesting,
        ...pipelineNames.map(getPipelineToken),
        ...unprovided.map((provider) => provider.provide),
        ...queues.map((provider) => provider.provide),
        // Internal tokens, for the integrations (nestjs-flume/prometheus, /terminus, /otel).
        FLUME_ENGINE,
        FLUME_LOGGER,
        FLUME_RESOLVED_OPTIONS,
      ],
    };
    return { module: FlumeModule, imports: [core], providers: [FlumeShutdown], exports: [core] };
  }
}
