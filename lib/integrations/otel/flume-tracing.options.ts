import type { TextMapPropagator, TracerProvider } from '@opentelemetry/api';

/** Options of `FlumeTracingModule.forRoot`. */
export interface FlumeTracingOptions {
  /** Where the spans go. Default: the global tracer provider (what the OpenTelemetry SDK registers). */
  tracerProvider?: TracerProvider;
  /**
   * How the trace context is written into a job and read back. Default: the global
   * propagator (the Node SDK registers W3C trace context, `traceparent` and `tracestate`).
   */
  propagator?: TextMapPropagator;
}
