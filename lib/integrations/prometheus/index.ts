// nestjs-flume/prometheus: job metrics through prom-client (an optional peer dependency).
export { FlumeMetricsModule } from './flume-metrics.module.js';
export { FlumeMetrics } from './flume-metrics.js';
export type { FlumeMetricsOptions } from './flume-metrics.options.js';
