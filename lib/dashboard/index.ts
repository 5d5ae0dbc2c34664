// The public API of nestjs-flume/dashboard: an entry point of its own, so that an app
// without the dashboard loads none of it.
export { FlumeDashboardModule } from './dashboard.module.js';
export type {
  FlumeDashboardAsyncOptions,
  FlumeDashboardOptions,
  FlumeDashboardOptionsFactory,
} from './interfaces/dashboard-options.interface.js';
