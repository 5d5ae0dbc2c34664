import 'reflect-metadata';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeContext,
  FlumeTimeoutError,
  Worker,
  type JobContext,
} from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { Gate } from '../../support/gate.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

/** What a handler (or a service it calls) saw of FlumeContext.current(). */
interface Seen {
  where: 'handler' | 'service';
  tag: string;
  jobId?: string;
  queue?: string;
  worker?: string;
  retryCount?: number;
  context?: Record<string, unknown>;
  signal?: AbortSignal;
}

function snapshot(where: Seen['where'], tag: string, current: JobContext | undefined): Seen {
  return {
    where,
    tag,
    jobId: current?.jobId,
    queue: current?.queue,
    worker: current?.worker,
    retryCount: current?.retryCount,
    context: current && { ...current.context },
    signal: current?.signal,
  };
}

@Injectable()
class Recorder {
  readonly seen: Seen[] = [];
  readonly gates = new Map<string, Gate>();
  readonly log = new JobLog();

  gate(tag: string): Gate {
    let gate = this.gates.get(tag);
    if (!gate) this.gates.set(tag, (gate = new Gate()));
    return gate;
  }

  of(tag: string, where: Seen['where']): Seen[] {
    return this.seen.filter((s) => s.tag === tag && s.where === where);
  }
}

/** A service the handler calls: it finds the job without being handed anything. */
@Injectable()
class AuditService {
  constructor(private readonly recorder: Recorder) {}

  async note(tag: string): Promise<void> {
    // Across awaits and timers, still inside the job's async context.
    await new Promise((resolve) => setImmediate(resolve));
    this.recorder.seen.push(snapshot('service', tag, FlumeContext.current()));
  }
}

@Worker('ctx', { name: 'ctx-worker', maxRetries: 2 })
class CtxWorker {
  constructor(
    private readonly recorder: Recorder,
    private readonly audit: AuditService,
  ) {}

  async perform(tag: string, opts: { gated?: boolean; failOnce?: boolean } = {}): Promise<void> {
    const current = FlumeContext.current();
    this.recorder.seen.push(snapshot('handler', tag, current));
    this.recorder.log.record('ctx:start', [tag]);
    if (opts.gated) await this.recorder.gate(tag).wait();
    await this.audit.note(tag);
    this.recorder.log.record('ctx', [tag]);
    if (opts.failOnce && current?.retryCount === 0) throw new Error(`first attempt of ${tag}`);
  }
}

/** Stops when its signal aborts, as well-behaved code does; quick on its retry. */
@Worker('slow', { timeout: 100, maxRetries: 1 })
class PoliteSlowWorker {
  constructor(private readonly recorder: Recorder) {}

  async perform(tag: string): Promise<void> {
    const { signal, retryCount } = FlumeContext.current()!;
    this.recorder.log.record('polite:start', [tag, retryCount]);
    if (retryCount > 0) return;
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    this.recorder.log.record('polite:aborted', [tag, signal.reason]);
  }
}

/** Ignores its signal and finishes late: the job is already settled by then. */
@Worker('stubborn', { timeout: 100, maxRetries: 0 })
class StubbornWorker {
  constructor(private readonly recorder: Recorder) {}

  async perform(tag: string): Promise<void> {
    this.recorder.log.record('stubborn:start', [tag]);
    await this.recorder.gate(tag).wait();
    this.recorder.log.record('stubborn:done', [tag]);
  }
}

describe('job context and timeouts', () => {
  const namespace = uniqueNamespace('context');
  const apps = new Apps();
  let app: INestApplicationContext;
  let client: FlumeClient;
  let recorder: Recorder;
  let store: TestStore;

  beforeAll(async () => {
    store = testStore();
    app = await apps.boot(
      {
        connection: testConnection(),
        namespace,
        logger: new CaptureLogger(),
        // Long enough to find a retry in the retry set before it is due.
        backoffInitial: 400,
        backoffMax: 400,
        schedulerPollInterval: 50,
        pipelines: [
          { name: 'ctx', queue: 'ctx', maxDemand: 10 },
          { name: 'slow', queue: 'slow', maxDemand: 10 },
          { name: 'stubborn', queue: 'stubborn', maxDemand: 10 },
        ],
      },
      [Recorder, AuditService, CtxWorker, PoliteSlowWorker, StubbornWorker],
    );
    client = app.get(FlumeClient);
    recorder = app.get(Recorder);
  });

  afterAll(async () => {
    for (const gate of recorder?.gates.values() ?? []) gate.open();
    await apps.closeAll();
    await store.deleteNamespace(namespace);
    store.close();
  });

  it('gives the handler, and services it calls, the job context, id, queue, worker, retry count and signal', async () => {
    const jid = await client.enqueue('ctx', CtxWorker, ['c1'], {
      context: { requestId: 'req-1', user: { id: 7 } },
    });
    const plain = await client.enqueue('ctx', CtxWorker, ['c2']);
    await recorder.log.untilCount(2, 'ctx');
    const expected = {
      jobId: jid,
      queue: 'ctx',
      worker: 'ctx-worker',
      retryCount: 0,
      context: { requestId: 'req-1', user: { id: 7 } },
    };
    expect(recorder.of('c1', 'handler')).toEqual([
      { where: 'handler', tag: 'c1', ...expected, signal: expect.any(AbortSignal) },
    ]);
    expect(recorder.of('c1', 'service')).toEqual([
      { where: 'service', tag: 'c1', ...expected, signal: expect.any(AbortSignal) },
    ]);
    expect(recorder.of('c1', 'handler')[0].signal!.aborted).toBe(false);
    // No context at enqueue: an empty object, not undefined.
    expect(recorder.of('c2', 'service')[0]).toMatchObject({ jobId: plain, context: {} });
    // Outside a job there is none.
    expect(FlumeContext.current()).toBeUndefined();
  });

  it('keeps concurrent jobs apart, and the context across a retry', async () => {
    const a = await client.enqueue('ctx', CtxWorker, ['ca', { gated: true }], {
      context: { requestId: 'A' },
    });
    const b = await client.enqueue('ctx', CtxWorker, ['cb', { gated: true, failOnce: true }], {
      context: { requestId: 'B' },
    });
    await recorder.log.until(
      () => recorder.of('ca', 'handler').length > 0 && recorder.of('cb', 'handler').length > 0,
      'both jobs running',
    );
    // Both wait on their gates at once, and go on in the other order: each sees its own job.
    recorder.gate('cb').open();
    recorder.gate('ca').open();
    await recorder.log.until(
      () => recorder.of('cb', 'service').length === 2 && recorder.of('ca', 'service').length === 1,
      'ca once and cb twice (a retry)',
    );
    expect(recorder.of('ca', 'service')[0]).toMatchObject({
      jobId: a,
      context: { requestId: 'A' },
    });
    expect(recorder.of('cb', 'service').map((s) => [s.jobId, s.retryCount, s.context])).toEqual([
      [b, 0, { requestId: 'B' }],
      [b, 1, { requestId: 'B' }],
    ]);
  });

  it('fails a job that runs past its worker timeout with FlumeTimeoutError, aborts its signal, and retries it', async () => {
    const keys = keysOf(namespace, 'slow');
    const jid = await client.enqueue('slow', PoliteSlowWorker, ['s1']);
    await recorder.log.untilCount(1, 'polite:aborted');
    const [, reason] = recorder.log.performed.find((p) => p.worker === 'polite:aborted')!.args;
    expect(reason).toBeInstanceOf(FlumeTimeoutError);
    expect((reason as Error).message).toBe("Job ran longer than its worker's timeout of 100 ms");

    // Filed for a retry like any failure.
    await expect.poll(() => store.zcard(keys.retry), { interval: 20 }).toBe(1);
    const filed = JSON.parse((await store.zrange(keys.retry, '0', '0'))[0]);
    expect(filed).toMatchObject({
      jid,
      retry_count: 1,
      error_message: "Job ran longer than its worker's timeout of 100 ms",
    });
    expect(filed.error_backtrace).toMatch(/^FlumeTimeoutError: /);
    await recorder.log.untilCount(2, 'polite:start');
    expect(
      recorder.log.performed.filter((p) => p.worker === 'polite:start').map((p) => p.args),
    ).toEqual([
      ['s1', 0],
      ['s1', 1],
    ]);
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    expect(await store.zcard(keys.retry)).toBe(0);
    expect(await store.zcard(keys.dead)).toBe(0);
  });

  it('a job that ignores its signal is settled at the timeout; its late end changes nothing', async () => {
    const keys = keysOf(namespace, 'stubborn');
    const jid = await client.enqueue('stubborn', StubbornWorker, ['st1']);
    await expect.poll(() => store.zcard(keys.dead)).toBe(1);
    const [raw] = await store.zrange(keys.dead, '0', '0');
    expect(JSON.parse(raw)).toMatchObject({
      jid,
      error_message: "Job ran longer than its worker's timeout of 100 ms",
    });
    expect(await store.zcard(keys.processing)).toBe(0);
    recorder.gate('st1').open();
    await recorder.log.untilCount(1, 'stubborn:done');
    expect(recorder.log.count('stubborn:start')).toBe(1);
    expect(await store.zcard(keys.dead)).toBe(1);
    expect(await store.llen(keys.waiting)).toBe(0);
    expect(await store.zcard(keys.processing)).toBe(0);
  });
});
