import {
  Controller,
  Module,
  VERSION_NEUTRAL,
  type DynamicModule,
  type Provider,
  type Type,
} from '@nestjs/common';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardApi } from './dashboard-api.js';
import { DashboardAssets } from './dashboard-assets.js';
import { DashboardController } from './dashboard.controller.js';
import { DashboardGuards } from './dashboard-guards.js';
import { FLUME_DASHBOARD_OPTIONS } from './dashboard.constants.js';
import { createAsyncOptionsProviders, resolvedOptionsProvider } from './dashboard.providers.js';
import type {
  FlumeDashboardAsyncOptions,
  FlumeDashboardOptions,
} from './interfaces/dashboard-options.interface.js';

/**
 * A controller class of its own for each registration, so that its path (set from the
 * options, see resolvedOptionsProvider) belongs to this dashboard alone. Version-
 * neutral: an app's URI versioning does not move it.
 */
function mountedController(): Type<DashboardController> {
  class FlumeDashboardController extends DashboardController {}
  Controller({ path: 'flume', version: VERSION_NEUTRAL })(FlumeDashboardController);
  return FlumeDashboardController;
}

/**
 * A web dashboard of the app's queues, served by the app itself (Express or Fastify)
 * at `path`, beside `FlumeModule`: import both. Read-only unless guarded; see docs/operations.md,
 * "Dashboard".
 */
@Module({})
export class FlumeDashboardModule {
  /** Mounts the dashboard with options known up front. */
  static forRoot(options: FlumeDashboardOptions = {}): DynamicModule {
    return this.build([{ provide: FLUME_DASHBOARD_OPTIONS, useValue: options }], []);
  }

  /** Mounts the dashboard with options from a factory (e.g. `ConfigService`). */
  static forRootAsync(options: FlumeDashboardAsyncOptions): DynamicModule {
    return this.build(createAsyncOptionsProviders(options), options.imports ?? []);
  }

  private static build(
    optionsProviders: Provider[],
    imports: NonNullable<DynamicModule['imports']>,
  ): DynamicModule {
    const controller = mountedController();
    return {
      module: FlumeDashboardModule,
      imports,
      controllers: [controller],
      providers: [
        ...optionsProviders,
        resolvedOptionsProvider(controller),
        DashboardGuards,
        DashboardAccessGuard,
        DashboardApi,
        DashboardAssets,
      ],
    };
  }
}
