import { Logger, type FactoryProvider, type Provider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import {
  FlumeConfigError,
  FlumeEngine,
  resolveOptions,
  SILENT_LOGGER,
  WorkerRegistry,
  type FlumeLogger,
  type FlumeOptions,
  type FlumeTestMode,
  type ResolvedOptions,
  withoutEngine,
} from './engine/index.js';
import { injectedPipelines } from './decorators/injected-pipelines.js';
import { withEventListeners } from './events/event-listeners.js';
import { featurePipelines, withFeaturePipelines } from './features/feature-pipelines.js';
import { FLUME_HOOKS, type FlumeHooks } from './flume.hooks.js';
import { FlumeProducer } from './flume.producer.js';
import { pipelineNotProvided } from './flume.messages.js';
import {
  FLUME_ENGINE,
  FLUME_JOB_SINK,
  FLUME_MODULE_OPTIONS,
  FLUME_REGISTRY,
  FLUME_RESOLVED_OPTIONS,
  getPipelineToken,
  FLUME_LOGGER,
} from './flume.constants.js';
import { createTestJobSink } from './testing/test-job-sink.factory.js';
import { FLUME_TEST_MODE, withTestMode } from './testing/test-mode.provider.js';
import type {
  FlumeModuleAsyncOptions,
  FlumeOptionsFactory,
} from './interfaces/flume-module-options.interface.js';

/** The module's logger: the `logger` option, silence for `false`, else Nest's Logger. */
export const loggerProvider: Provider = {
  provide: FLUME_LOGGER,
  useFactory: (options: ResolvedOptions): FlumeLogger => {
    if (options.logger === false) return SILENT_LOGGER;
    return options.logger ?? new Logger('Flume');
  },
  inject: [FLUME_RESOLVED_OPTIONS],
};

/** Options validated with defaults applied: a bad option fails the boot here. */
export const resolvedOptionsProvider: Provider = {
  provide: FLUME_RESOLVED_OPTIONS,
  useFactory: (
    raw: FlumeOptions,
    testMode: FlumeTestMode | null,
    modules: ModulesContainer,
    hooks: FlumeHooks | undefined,
  ): ResolvedOptions => {
    const withFeatures = withFeaturePipelines(withTestMode(raw, testMode), modules);
    const resolved = resolveOptions(withEventListeners(withFeatures, modules));
    if (hooks?.wrapRun) resolved.wrapRun = hooks.wrapRun;
    return resolved;
  },
  inject: [
    FLUME_MODULE_OPTIONS,
    FLUME_TEST_MODE,
    ModulesContainer,
    { token: FLUME_HOOKS, optional: true },
  ],
};

/** The registry @Worker classes are discovered into. */
export const registryProvider: Provider = {
  provide: FLUME_REGISTRY,
  useFactory: () => new WorkerRegistry(),
};

/**
 * The engine (on Redis or in memory); null in the fake and inline test modes, decided
 * from the resolved options so that a forRootAsync factory can turn test mode on:
 * constructing the engine on Redis would connect.
 */
export const engineProvider: Provider = {
  provide: FLUME_ENGINE,
  useFactory: (options: ResolvedOptions, registry: WorkerRegistry, logger: FlumeLogger) =>
    withoutEngine(options) ? null : new FlumeEngine(options, registry, logger),
  inject: [FLUME_RESOLVED_OPTIONS, FLUME_REGISTRY, FLUME_LOGGER],
};

/** FlumeClient writes through the engine's enqueuer, or in the fake and inline modes to their sink. */
export const jobSinkProvider: Provider = {
  provide: FLUME_JOB_SINK,
  useFactory: (options: ResolvedOptions, registry: WorkerRegistry, engine: FlumeEngine | null) =>
    withoutEngine(options) ? createTestJobSink(options, registry) : engine!.enqueuer,
  inject: [FLUME_RESOLVED_OPTIONS, FLUME_REGISTRY, FLUME_ENGINE],
};

/** One provider per pipeline name, for @InjectPipeline(name). */
export function createPipelineProviders(names: readonly string[]): Provider[] {
  return names.map((name) => ({
    provide: getPipelineToken(name),
    useFactory: (producer: FlumeProducer) => producer.pipeline(name),
    inject: [FlumeProducer],
  }));
}

/**
 * One provider per pipeline name that @InjectPipeline was used with but the module does
 * not provide (not among forRoot's pipelines, or not listed in forRootAsync's). Without
 * it Nest would fail with its generic "can't resolve dependencies"; with it, a class of
 * this app that injects the name gets a FlumeConfigError naming the fix. A class of
 * another app in the same process (the name is recorded process-wide) is not ours to
 * judge, so the provider is then an unused `undefined`. A name a feature module declares
 * (FlumeModule.forFeature) gets that pipeline's handle.
 */
export function createUnprovidedPipelineProviders(
  provided: readonly string[],
  async: boolean,
): FactoryProvider[] {
  const missing = [...injectedPipelines()].filter(([name]) => !provided.includes(name));
  return missing.map(([name, injectingClasses]) => ({
    provide: getPipelineToken(name),
    useFactory: (modules: ModulesContainer, producer: FlumeProducer) => {
      // Declared by a feature module (FlumeModule.forFeature): known once options resolved.
      if (featurePipelines(modules).some((p) => p?.name === name)) return producer.pipeline(name);
      const here = classesOfApp(modules).filter((c) => injectingClasses.has(c));
      if (here.length === 0) return undefined;
      throw new FlumeConfigError(
        pipelineNotProvided(
          name,
          here.map((c) => c.name),
          async,
          provided,
        ),
      );
    },
    inject: [ModulesContainer, FlumeProducer],
  }));
}

/** The classes of the app's providers and controllers. */
function classesOfApp(modules: ModulesContainer): Function[] {
  const classes = new Set<Function>();
  for (const moduleRef of modules.values()) {
    for (const wrappers of [moduleRef.providers, moduleRef.controllers]) {
      for (const { metatype } of wrappers.values()) {
        if (typeof metatype === 'function') classes.add(metatype);
      }
    }
  }
  return [...classes];
}

/** The options provider of forRootAsync. */
export function createAsyncOptionsProviders(options: FlumeModuleAsyncOptions): Provider[] {
  if (options.useFactory) {
    return [
      {
        provide: FLUME_MODULE_OPTIONS,
        useFactory: options.useFactory,
        inject: options.inject ?? [],
      },
    ];
  }
  const factoryClass = options.useClass ?? options.useExisting;
  if (!factoryClass) {
    throw new FlumeConfigError(
      'FlumeModule.forRootAsync needs one of useFactory, useClass or useExisting.',
    );
  }
  const optionsProvider: Provider = {
    provide: FLUME_MODULE_OPTIONS,
    useFactory: (factory: FlumeOptionsFactory) => factory.createFlumeOptions(),
    inject: [factoryClass],
  };
  return options.useClass
    ? [optionsProvider, { provide: factoryClass, useClass: factoryClass }]
    : [optionsProvider];
}
