import type { Provider, Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { FlumeConfigError } from '../engine/index.js';
import { FLUME_DASHBOARD_OPTIONS, FLUME_DASHBOARD_RESOLVED } from './dashboard.constants.js';
import { resolveDashboardOptions } from './dashboard-options.js';
import type {
  FlumeDashboardAsyncOptions,
  FlumeDashboardOptions,
  FlumeDashboardOptionsFactory,
} from './interfaces/dashboard-options.interface.js';

/**
 * The options, validated with defaults applied; a bad option fails the boot here. The
 * path goes on the module's controller now: providers are made before Nest maps the
 * routes (as RouterModule sets module paths), so forRootAsync can give the path too.
 */
export function resolvedOptionsProvider(controller: Type<unknown>): Provider {
  return {
    provide: FLUME_DASHBOARD_RESOLVED,
    useFactory: (raw: FlumeDashboardOptions) => {
      const resolved = resolveDashboardOptions(raw);
      Reflect.defineMetadata(PATH_METADATA, resolved.path, controller);
      return resolved;
    },
    inject: [FLUME_DASHBOARD_OPTIONS],
  };
}

/** The options provider of forRootAsync. */
export function createAsyncOptionsProviders(options: FlumeDashboardAsyncOptions): Provider[] {
  if (options?.useFactory) {
    return [
      {
        provide: FLUME_DASHBOARD_OPTIONS,
        useFactory: options.useFactory,
        inject: options.inject ?? [],
      },
    ];
  }
  const factoryClass = options?.useClass ?? options?.useExisting;
  if (!factoryClass) {
    throw new FlumeConfigError(
      'FlumeDashboardModule.forRootAsync needs one of useFactory, useClass or useExisting.',
    );
  }
  const optionsProvider: Provider = {
    provide: FLUME_DASHBOARD_OPTIONS,
    useFactory: (factory: FlumeDashboardOptionsFactory) => factory.createFlumeDashboardOptions(),
    inject: [factoryClass],
  };
  return options.useClass
    ? [optionsProvider, { provide: factoryClass, useClass: factoryClass }]
    : [optionsProvider];
}
