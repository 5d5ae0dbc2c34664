import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { filter, Subject, type Observable } from 'rxjs';
import type { FlumeEngine, FlumeEvent, FlumeEventType } from './engine/index.js';
import { FLUME_ENGINE } from './flume.constants.js';

/**
 * The engine's events as an rxjs stream, for in-app use (metrics, logs, tests).
 * Events flow only for what is instrumented: `instrument: true` in the options
 * (module-wide) or per pipeline, or every pipeline when a provider of the app has an
 * `@OnFlumeEvent` method. The same events go to `diagnostics_channel` (see
 * FLUME_CHANNELS) for APM tools.
 *
 * ```ts
 * events.ofType('job:success').subscribe((e) => histogram.observe(e.runMs));
 * ```
 */
@Injectable()
export class FlumeEvents implements OnApplicationShutdown {
  private readonly subject = new Subject<FlumeEvent>();
  private readonly unsubscribe?: () => void;

  /** Every event. */
  readonly events$: Observable<FlumeEvent> = this.subject.asObservable();

  constructor(@Optional() @Inject(FLUME_ENGINE) engine: FlumeEngine | null) {
    this.unsubscribe = engine?.instrumentation.subscribe((event) => this.subject.next(event));
  }

  /** Events of one type, typed. */
  ofType<T extends FlumeEventType>(type: T): Observable<Extract<FlumeEvent, { type: T }>> {
    return this.events$.pipe(
      filter((event): event is Extract<FlumeEvent, { type: T }> => event.type === type),
    );
  }

  /** After the pipelines drained (in onModuleDestroy), so no event of a late job is missed. */
  onApplicationShutdown(): void {
    this.unsubscribe?.();
    this.subject.complete();
  }
}
