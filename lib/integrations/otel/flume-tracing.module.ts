import { Module, type DynamicModule } from '@nestjs/common';
import { FLUME_HOOKS } from '../../flume.hooks.js';
import { FlumeTracer } from './flume-tracer.js';
import type { FlumeTracingOptions } from './flume-tracing.options.js';

/**
 * OpenTelemetry spans for Flume: each enqueue is a `send <queue>` producer span whose
 * trace context is stored in the job (W3C `traceparent`), and each run a
 * `process <queue>` consumer span in the same trace, wherever the job runs. Import it
 * once, in the root module beside `FlumeModule`, in every app that enqueues or runs
 * jobs; set up the OpenTelemetry SDK as usual (it is global).
 */
@Module({})
export class FlumeTracingModule {
  static forRoot(options: FlumeTracingOptions = {}): DynamicModule {
    return {
      module: FlumeTracingModule,
      // Global: FlumeModule's providers find the hooks without importing this module.
      global: true,
      providers: [{ provide: FLUME_HOOKS, useFactory: () => new FlumeTracer(options).hooks() }],
      exports: [FLUME_HOOKS],
    };
  }
}
