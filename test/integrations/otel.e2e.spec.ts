import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Batch,
  FlumeClient,
  FlumeModule,
  Worker,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { FlumeTracingModule } from '../../lib/integrations/otel/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';

/** Lets a test wait for spans to end, on the SDK's own onEnd call. */
class EndedSpans implements SpanProcessor {
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(private readonly exporter: InMemorySpanExporter) {}

  named(name: string): ReadableSpan[] {
    return this.exporter.getFinishedSpans().filter((span) => span.name === name);
  }

  /** Resolves once `count` spans named `name` have ended. */
  until(name: string, count = 1): Promise<ReadableSpan[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Timed out waiting for ${count} "${name}" span(s)`)),
        10_000,
      );
      const test = () => this.named(name).length >= count;
      const done = () => (clearTimeout(timer), resolve(this.named(name)));
      if (test()) done();
      else this.waiters.push({ test, resolve: done });
    });
  }

  onStart(): void {}

  onEnd(): void {
    // After the exporter's processor (registered first) has stored the span.
    this.waiters = this.waiters.filter((w) => !w.test() || (w.resolve(), false));
  }

  forceFlush = () => Promise.resolve();
  shutdown = () => Promise.resolve();
}

const exporter = new InMemorySpanExporter();
const ended = new EndedSpans(exporter);
const provider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(exporter), ended],
});
const tracer = provider.getTracer('test');

@Worker('ot')
class OtWorker {
  perform(to: string, fail = false): void {
    // The handler's own spans are children of the job's span.
    tracer.startActiveSpan(`render mail to ${to}`, (span) => span.end());
    if (fail) throw new Error('smtp down');
  }
}

@Worker('ot-batch')
@Batch({ size: 3, timeout: 5_000 })
class OtBatchWorker {
  perform(_jobs: [string][]): void {}
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('FlumeTracingModule (nestjs-flume/otel)', () => {
  const namespace = uniqueNamespace('otel');
  const apps = new Apps();
  let redis: TestRedis;
  /** Enqueues only, as an API process does. */
  let producer: INestApplicationContext;
  /** Runs the jobs: another app instance, as a worker process would. */
  let consumer: INestApplicationContext;
  /** Enqueues without tracing. */
  let untraced: INestApplicationContext;

  const options: FlumeModuleOptions = {
    connection: testConnection(),
    namespace,
    maxRetries: 1,
    backoffInitial: 20,
    backoffMax: 20,
    schedulerPollInterval: 20,
    pipelines: [
      { name: 'ot', queue: 'ot' },
      { name: 'ot_batch', queue: 'ot-batch' },
    ],
  };

  beforeAll(async () => {
    redis = inspector();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const traced = FlumeTracingModule.forRoot({ tracerProvider: provider });
    producer = await apps.bootModule([
      FlumeModule.forRoot({ ...options, runPipelines: [], logger: new CaptureLogger() }),
      traced,
    ]);
    consumer = await apps.bootModule(
      [FlumeModule.forRoot({ ...options, logger: new CaptureLogger() }), traced],
      [OtWorker, OtBatchWorker],
    );
    untraced = await apps.bootModule([
      FlumeModule.forRoot({ ...options, runPipelines: [], logger: new CaptureLogger() }),
    ]);
  });

  afterAll(async () => {
    await apps.closeAll();
    await deleteNamespace(redis, namespace);
    redis.disconnect();
    context.disable();
    propagation.disable();
  });

  it('makes one trace from an enqueue inside a span to the worker span, across two apps', async () => {
    let jid!: string;
    await tracer.startActiveSpan('GET /signup', async (request) => {
      jid = await producer.get(FlumeClient).enqueue('ot', OtWorker, ['ada@example.com']);
      request.end();
    });
    const [inner] = await ended.until('render mail to ada@example.com');
    const [process] = await ended.until('process ot');
    const [request] = ended.named('GET /signup');
    const [send] = ended.named('send ot');
    const traceId = request.spanContext().traceId;

    for (const span of [send, process, inner]) expect(span.spanContext().traceId).toBe(traceId);
    expect(parentOf(send)).toBe(request.spanContext().spanId);
    expect(parentOf(process)).toBe(send.spanContext().spanId);
    expect(parentOf(inner)).toBe(process.spanContext().spanId);

    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes).toEqual({
      'messaging.system': 'flume',
      'messaging.destination.name': 'ot',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.message.id': jid,
      'flume.worker': 'OtWorker',
    });
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.attributes).toEqual({
      'messaging.system': 'flume',
      'messaging.destination.name': 'ot',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': jid,
      'flume.worker': 'OtWorker',
      'flume.job.function': 'perform',
      'flume.job.attempt': 1,
    });
    expect(process.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('stores the W3C traceparent in the job, beside (not in) the context', async () => {
    await tracer.startActiveSpan('GET /later', async (request) => {
      await producer
        .get(FlumeClient)
        .enqueue('ot-idle', 'Remote', [1], { context: { requestId: 'r1' } });
      request.end();
    });
    const [send] = await ended.until('send ot-idle');
    const [stored] = await redis.lrange(keysOf(namespace, 'ot-idle').waiting, 0, -1);
    const job = JSON.parse(stored);
    const { traceId, spanId } = send.spanContext();
    expect(job.trace_context).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
    expect(job.context).toEqual({ requestId: 'r1' });
  });

  it('records a failure on the span of each attempt, all in the enqueue trace', async () => {
    let jid!: string;
    await tracer.startActiveSpan('GET /fails', async (request) => {
      jid = await producer.get(FlumeClient).enqueue('ot', OtWorker, ['bob@example.com', true]);
      request.end();
    });
    const processed = await ended.until('process ot', 3);
    const attempts = processed.filter((s) => s.attributes['messaging.message.id'] === jid);
    const send = ended.named('send ot').find((s) => s.attributes['messaging.message.id'] === jid)!;
    expect(attempts.map((s) => s.attributes['flume.job.attempt'])).toEqual([1, 2]);
    for (const span of attempts) {
      expect(parentOf(span)).toBe(send.spanContext().spanId);
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'smtp down' });
      expect(span.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([
        ['exception', 'smtp down'],
      ]);
    }
  });

  it('makes one span per batch, linked to each job enqueue', async () => {
    const client = producer.get(FlumeClient);
    const sends: string[] = [];
    for (const to of ['a', 'b', 'c']) {
      await tracer.startActiveSpan(`GET /batch/${to}`, async (request) => {
        // By name: a batch worker's perform takes the batch, not one job's args.
        sends.push(await client.enqueue('ot-batch', 'OtBatchWorker', [to]));
        request.end();
      });
    }
    const [batch] = await ended.until('process ot-batch');
    const sendSpans = ended.named('send ot-batch');
    expect(batch.kind).toBe(SpanKind.CONSUMER);
    expect(batch.parentSpanContext).toBeUndefined();
    expect(batch.attributes).toMatchObject({
      'messaging.batch.message_count': 3,
      'flume.worker': 'OtBatchWorker',
    });
    expect(batch.attributes['messaging.message.id']).toBeUndefined();
    const linked = batch.links.map((link) => ({
      spanId: link.context.spanId,
      jid: link.attributes?.['messaging.message.id'],
    }));
    expect(linked).toEqual(
      expect.arrayContaining(
        sendSpans.map((send) => ({
          spanId: send.spanContext().spanId,
          jid: send.attributes['messaging.message.id'],
        })),
      ),
    );
    expect(linked.map((l) => l.jid).sort()).toEqual([...sends].sort());
  });

  it('starts a new trace for a job enqueued without tracing', async () => {
    const jid = await untraced.get(FlumeClient).enqueue('ot', OtWorker, ['carol@example.com']);
    await ended.until('render mail to carol@example.com');
    const process = (await ended.until('process ot', 4)).find(
      (s) => s.attributes['messaging.message.id'] === jid,
    )!;
    expect(process.parentSpanContext).toBeUndefined();
    expect(process.links).toEqual([]);
  });
});
