import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';

/** Options of `FlumeDashboardModule.forRoot`. */
export interface FlumeDashboardOptions {
  /**
   * Where the dashboard is served, under the app's global prefix (`setGlobalPrefix`):
   * the page at `path`, its JSON API under `path/api`. Default `'/flume'`.
   */
  path?: string;
  /**
   * Nest guards every request to the dashboard (page, assets and API) must pass, in
   * order: classes (resolved from the app's providers, or created with their
   * dependencies injected) or instances. With at least one, actions are allowed
   * unless `readOnly`. The app's global guards apply too, as to any route.
   */
  guards?: (Type<CanActivate> | CanActivate)[];
  /**
   * Refuse every action (retry, delete, pause, resume) with 403, on the server.
   * Default: false with a guard; true without one (and `false` then fails the boot,
   * unless `dangerouslyAllowActionsWithoutGuards`).
   */
  readOnly?: boolean;
  /**
   * Allow actions without any guard: whoever reaches the dashboard can retry, delete
   * and pause jobs. For a dashboard that only a trusted network reaches. Default false.
   */
  dangerouslyAllowActionsWithoutGuards?: boolean;
  /** Queues to show beside those of the app's pipelines and of the live processes. */
  queues?: string[];
  /** How often the page refreshes what it shows, in ms. Default 3000. */
  refreshInterval?: number;
}

/** Builds the dashboard's options, for `forRootAsync({ useClass })` / `useExisting`. */
export interface FlumeDashboardOptionsFactory {
  createFlumeDashboardOptions(): FlumeDashboardOptions | Promise<FlumeDashboardOptions>;
}

/** Options of `FlumeDashboardModule.forRootAsync`: one of useFactory, useClass, useExisting. */
export interface FlumeDashboardAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory?: (...args: any[]) => FlumeDashboardOptions | Promise<FlumeDashboardOptions>;
  inject?: any[];
  useClass?: Type<FlumeDashboardOptionsFactory>;
  useExisting?: Type<FlumeDashboardOptionsFactory>;
}
