import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { Job, NewJob, RunCall } from '../../engine/index.js';
import type { FlumeHooks } from '../../flume.hooks.js';
import type { FlumeTracingOptions } from './flume-tracing.options.js';
import * as attr from './semconv.js';

type Failures = ReadonlyMap<number, unknown>;

/**
 * The spans of Flume: a `send <queue>` producer span around each enqueue, whose
 * context is stored in the jobs (`trace_context`), and a `process <queue>` consumer
 * span around each handler call: a child of the enqueue's span for one job, a span
 * with a link to each job's enqueue for a batch.
 */
export class FlumeTracer {
  private readonly tracer: Tracer;

  constructor(private readonly options: FlumeTracingOptions = {}) {
    this.tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('nestjs-flume');
  }

  /** The hooks FlumeTracingModule gives the engine and FlumeClient. */
  hooks(): FlumeHooks {
    return {
      wrapEnqueue: (queue, jobs, enqueue) => this.send(queue, jobs, enqueue),
      wrapRun: (call, run) => this.process(call, run),
    };
  }

  private async send<T>(
    queue: string,
    jobs: readonly NewJob[],
    enqueue: (jobs: NewJob[]) => Promise<T>,
  ): Promise<T> {
    const attributes: Attributes = {
      ...messaging(queue, 'send'),
      ...(jobs.length === 1 && { [attr.FLUME_WORKER]: jobs[0].worker }),
      ...(jobs.length !== 1 && { [attr.MESSAGING_BATCH_MESSAGE_COUNT]: jobs.length }),
    };
    const span = this.tracer.startSpan(`send ${queue}`, { kind: SpanKind.PRODUCER, attributes });
    const inSpan = trace.setSpan(context.active(), span);
    const carrier: Record<string, string> = {};
    this.inject(inSpan, carrier);
    const traced =
      Object.keys(carrier).length > 0
        ? jobs.map((job) => ({ ...job, traceContext: carrier }))
        : [...jobs];
    try {
      const result = await context.with(inSpan, () => enqueue(traced));
      if (typeof result === 'string') span.setAttribute(attr.MESSAGING_MESSAGE_ID, result);
      return result;
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  private async process(call: RunCall, run: () => Promise<Failures>): Promise<Failures> {
    const { jobs, worker, batch } = call;
    const first = jobs[0];
    const attributes: Attributes = {
      ...messaging(first.queue, 'process'),
      [attr.FLUME_WORKER]: worker,
      ...(first.function !== undefined && { [attr.FLUME_JOB_FUNCTION]: first.function }),
    };
    let parent: Context = ROOT_CONTEXT;
    let links: Link[] = [];
    if (batch) {
      attributes[attr.MESSAGING_BATCH_MESSAGE_COUNT] = jobs.length;
      links = jobs.flatMap((job) => {
        const linked = trace.getSpanContext(this.extract(job));
        const attributes = {
          [attr.MESSAGING_MESSAGE_ID]: job.jid,
          [attr.FLUME_JOB_ATTEMPT]: job.retry_count + 1,
        };
        return linked ? [{ context: linked, attributes }] : [];
      });
    } else {
      parent = this.extract(first);
      attributes[attr.MESSAGING_MESSAGE_ID] = first.jid;
      attributes[attr.FLUME_JOB_ATTEMPT] = first.retry_count + 1;
    }
    const span = this.tracer.startSpan(
      `process ${first.queue}`,
      { kind: SpanKind.CONSUMER, attributes, links },
      parent,
    );
    try {
      const failures = await context.with(trace.setSpan(parent, span), run);
      // A batch that threw fails every job with the same error: record it once.
      for (const error of new Set(failures.values())) span.recordException(asException(error));
      if (batch) {
        for (const index of failures.keys()) {
          span.addEvent('flume.job.failed', { [attr.MESSAGING_MESSAGE_ID]: jobs[index].jid });
        }
      }
      if (failures.size > 0) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: batch
            ? `${failures.size} of ${jobs.length} jobs failed`
            : asException(failures.get(0)).message,
        });
      }
      return failures;
    } finally {
      span.end();
    }
  }

  private inject(ctx: Context, carrier: Record<string, string>): void {
    const propagator = this.options.propagator;
    if (propagator) propagator.inject(ctx, carrier, defaultTextMapSetter);
    else propagation.inject(ctx, carrier);
  }

  /** The context stored in `job` at enqueue; the root context when none (or unreadable). */
  private extract(job: Job): Context {
    const stored = job.trace_context;
    if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return ROOT_CONTEXT;
    const carrier = Object.fromEntries(
      Object.entries(stored).filter(([, value]) => typeof value === 'string'),
    );
    const propagator = this.options.propagator;
    return propagator
      ? propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter)
      : propagation.extract(ROOT_CONTEXT, carrier);
  }
}

function messaging(queue: string, operation: 'send' | 'process'): Attributes {
  return {
    [attr.MESSAGING_SYSTEM]: attr.SYSTEM,
    [attr.MESSAGING_DESTINATION_NAME]: queue,
    [attr.MESSAGING_OPERATION_TYPE]: operation,
    [attr.MESSAGING_OPERATION_NAME]: operation,
  };
}

function asException(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function fail(span: Span, error: unknown): void {
  const exception = asException(error);
  span.recordException(exception);
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
}
