import { Logger, type Provider } from '@nestjs/common';
import {
  FlumeConfigError,
  FlumeEngine,
  resolveOptions,
  SILENT_LOGGER,
  type FlumeLogger,
} from './engine/index.js';
import { FlumeProducer } from './flume.producer.js';
import { FLUME_ENGINE, FLUME_MODULE_OPTIONS, getPipelineToken } from './flume.constants.js';
import type {
  FlumeModuleAsyncOptions,
  FlumeModuleOptions,
  FlumeOptionsFactory,
} from './interfaces/flume-module-options.interface.js';

function loggerOf(options: FlumeModuleOptions): FlumeLogger {
  if (options?.logger === false) return SILENT_LOGGER;
  return options?.logger ?? new Logger('Flume');
}

/** The engine, built from validated options: a bad option fails the boot here. */
export const engineProvider: Provider = {
  provide: FLUME_ENGINE,
  useFactory: (options: FlumeModuleOptions) =>
    new FlumeEngine(resolveOptions(options), loggerOf(options)),
  inject: [FLUME_MODULE_OPTIONS],
};

/** One provider per pipeline name, for @InjectPipeline(name). */
export function createPipelineProviders(names: readonly string[]): Provider[] {
  return names.map((name) => ({
    provide: getPipelineToken(name),
    useFactory: (producer: FlumeProducer) => producer.pipeline(name),
    inject: [FlumeProducer],
  }));
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
