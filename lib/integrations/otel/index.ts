// nestjs-flume/otel: OpenTelemetry traces through @opentelemetry/api (an optional peer dependency).
export { FlumeTracingModule } from './flume-tracing.module.js';
export type { FlumeTracingOptions } from './flume-tracing.options.js';
