import { Module, type DynamicModule } from '@nestjs/common';
import { FlumeMetrics } from './flume-metrics.js';
import { FLUME_METRICS_OPTIONS, type FlumeMetricsOptions } from './flume-metrics.options.js';

/**
 * Prometheus metrics of the jobs (see FlumeMetrics), in a prom-client registry. Import
 * it beside `FlumeModule`; serve the registry where Prometheus scrapes:
 *
 * ```ts
 * @Controller() export class MetricsController {
 *   @Get('metrics') @Header('Content-Type', register.contentType)
 *   metrics() { return register.metrics(); }
 * }
 * ```
 */
@Module({})
export class FlumeMetricsModule {
  static forRoot(options: FlumeMetricsOptions = {}): DynamicModule {
    return {
      module: FlumeMetricsModule,
      providers: [{ provide: FLUME_METRICS_OPTIONS, useValue: options }, FlumeMetrics],
      exports: [FlumeMetrics],
    };
  }
}
