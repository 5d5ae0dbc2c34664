// nestjs-flume/terminus: a health indicator for @nestjs/terminus (an optional peer dependency).
export { FlumeHealthIndicator, type PipelineHealth } from './flume-health.indicator.js';
export type { FlumeHealthCheckOptions } from './flume-health.options.js';
