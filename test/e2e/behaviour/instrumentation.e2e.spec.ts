import 'reflect-metadata';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplicationContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FLUME_CHANNELS,
  FlumeClient,
  FlumeEvents,
  Worker,
  type FlumeEvent,
  type FlumeEventType,
  type FlumeModuleOptions,
} from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { within } from '../../support/gate.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

@Worker('ev', { name: 'ev-worker' })
class EvWorker {
  constructor(private readonly log: JobLog) {}

  /** `ms` stands for the job's own work, so runMs has something to measure. */
  async perform(mode: 'ok' | 'fail', ms = 0): Promise<void> {
    this.log.record('ev-worker', [mode]);
    if (ms > 0) await sleep(ms);
    if (mode === 'fail') throw new Error('boom');
  }
}

@Worker('ev-quiet')
class QuietWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('QuietWorker', [tag]);
  }
}

@Worker('ev-off')
class OffWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('OffWorker', [tag]);
  }
}

@Worker('ev-on')
class OnWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('OnWorker', [tag]);
  }
}

/** Everything published on Flume's diagnostics channels while the spec runs. */
class ChannelRecorder {
  readonly events: FlumeEvent[] = [];
  private readonly listener = (message: unknown) => this.events.push(message as FlumeEvent);

  start(): void {
    for (const name of Object.values(FLUME_CHANNELS)) subscribe(name, this.listener);
  }

  stop(): void {
    for (const name of Object.values(FLUME_CHANNELS)) unsubscribe(name, this.listener);
  }
}

const ofJob = (events: FlumeEvent[], jobId: string) =>
  events.filter((e) => 'jobId' in e && e.jobId === jobId);
const ofQueue = (events: FlumeEvent[], queue: string) => events.filter((e) => e.queue === queue);

describe('instrumentation', () => {
  const namespace = uniqueNamespace('instrumentation');
  const apps = new Apps();
  const channels = new ChannelRecorder();
  const seen: FlumeEvent[] = [];
  const seenOff: FlumeEvent[] = [];
  let app: INestApplicationContext;
  let off: INestApplicationContext;
  let events: FlumeEvents;
  let store: TestStore;

  const base: FlumeModuleOptions = {
    connection: testConnection(),
    namespace,
    maxRetries: 1,
    backoffInitial: 50,
    backoffMax: 100,
    schedulerPollInterval: 50,
  };

  beforeAll(async () => {
    store = testStore();
    channels.start();
    app = await apps.boot(
      {
        ...base,
        logger: new CaptureLogger(),
        instrument: true,
        pipelines: [
          { name: 'ev', queue: 'ev', maxDemand: 10 },
          { name: 'ev_quiet', queue: 'ev-quiet', instrument: false },
        ],
      },
      [JobLog, EvWorker, QuietWorker],
    );
    events = app.get(FlumeEvents);
    events.events$.subscribe((event) => seen.push(event));
    off = await apps.boot(
      {
        ...base,
        logger: new CaptureLogger(),
        pipelines: [
          { name: 'ev_off', queue: 'ev-off' },
          { name: 'ev_on', queue: 'ev-on', instrument: true },
        ],
      },
      [JobLog, OffWorker, OnWorker],
    );
    off.get(FlumeEvents).events$.subscribe((event) => seenOff.push(event));
  });

  afterAll(async () => {
    channels.stop();
    await apps.closeAll();
    await store.deleteNamespace(namespace);
    store.close();
  });

  /** The first event of `type` about job `jobId`, from FlumeEvents.ofType. */
  function next<T extends FlumeEventType>(type: T, jobId: string) {
    return within(
      firstValueFrom(events.ofType(type).pipe(filter((e) => 'jobId' in e && e.jobId === jobId))),
      10_000,
      `${type} of job ${jobId}`,
    );
  }

  it('reports enqueue with the stored payload size', async () => {
    const client = app.get(FlumeClient);
    // A queue no pipeline consumes: the payloads stay in the store to be measured.
    await client.enqueue('ev-idle', 'RemoteWorker', ['a']);
    await client.bulkEnqueue('ev-idle', [
      { worker: 'RemoteWorker', args: ['b'] },
      { worker: 'RemoteWorker', args: ['cc'], context: { requestId: 'r1' } },
    ]);
    const stored = await store.lrange(keysOf(namespace, 'ev-idle').waiting, 0, -1);
    const bytes = stored.map((payload) => Buffer.byteLength(payload));
    expect(ofQueue(seen, 'ev-idle')).toEqual([
      { type: 'enqueue', queue: 'ev-idle', count: 1, payloadBytes: bytes[0] },
      { type: 'enqueue', queue: 'ev-idle', count: 2, payloadBytes: bytes[1] + bytes[2] },
    ]);
  });

  it('reports dequeue, start and success of a job, with the worker name and durations', async () => {
    const client = app.get(FlumeClient);
    const jid = await client.enqueue('ev', EvWorker, ['ok', 30]);
    const success = await next('job:success', jid);
    const enqueue = seen.find((e) => e.type === 'enqueue' && e.queue === 'ev')!;
    const dequeue = seen.find((e) => e.type === 'dequeue' && e.queue === 'ev')!;
    const start = ofJob(seen, jid).find((e) => e.type === 'job:start')!;

    expect(enqueue).toMatchObject({ type: 'enqueue', queue: 'ev', count: 1 });
    expect(dequeue).toMatchObject({ type: 'dequeue', pipeline: 'ev', queue: 'ev', count: 1 });
    if (dequeue.type !== 'dequeue' || enqueue.type !== 'enqueue') throw new Error('unreachable');
    expect(dequeue.latencyMs).toBeGreaterThanOrEqual(0);
    // The same job, so the same payload size as reported at enqueue.
    expect(dequeue.payloadBytes).toBe(enqueue.payloadBytes);

    const identity = {
      pipeline: 'ev',
      queue: 'ev',
      worker: 'ev-worker',
      jobId: jid,
      retryCount: 0,
    };
    expect(start).toMatchObject({ type: 'job:start', ...identity });
    expect(success).toMatchObject({ type: 'job:success', ...identity });
    expect(success.runMs).toBeGreaterThanOrEqual(29);
    expect(success.waitMs).toBeGreaterThanOrEqual(0);
    expect(success.waitMs).toBe((start as { waitMs: number }).waitMs);
    expect(ofJob(seen, jid).map((e) => e.type)).toEqual(['job:start', 'job:success']);
  });

  it('reports failure, retry and dead', async () => {
    const jid = await app.get(FlumeClient).enqueue('ev', EvWorker, ['fail']);
    const dead = await next('job:dead', jid);
    const trail = ofJob(seen, jid);
    expect(trail.map((e) => `${e.type}:${'retryCount' in e ? e.retryCount : ''}`)).toEqual([
      'job:start:0',
      'job:failure:0',
      'job:retry:0',
      'job:start:1',
      'job:failure:1',
      'job:dead:1',
    ]);
    const failure = trail.find((e) => e.type === 'job:failure')!;
    expect(failure).toMatchObject({ worker: 'ev-worker', queue: 'ev', error: 'boom' });
    const retry = trail.find((e) => e.type === 'job:retry')!;
    expect(retry).toMatchObject({ worker: 'ev-worker', error: 'boom' });
    expect((retry as { delayMs: number }).delayMs).toBeGreaterThanOrEqual(50);
    expect(dead).toMatchObject({
      type: 'job:dead',
      pipeline: 'ev',
      queue: 'ev',
      worker: 'ev-worker',
      jobId: jid,
      reason: 'failed 2 time(s), out of retries: boom',
    });
  });

  it('publishes the same events on diagnostics_channel', async () => {
    const queues = ['ev', 'ev-idle'];
    const fromChannels = channels.events.filter((e) => queues.includes(e.queue));
    expect(fromChannels.length).toBeGreaterThan(0);
    expect(fromChannels).toEqual(seen.filter((e) => queues.includes(e.queue)));
    // Each on its own channel.
    const byChannel = new Map<string, FlumeEvent[]>();
    const listeners = Object.entries(FLUME_CHANNELS).map(([type, name]) => {
      const listener = (message: unknown) =>
        byChannel.set(type, [...(byChannel.get(type) ?? []), message as FlumeEvent]);
      subscribe(name, listener);
      return () => unsubscribe(name, listener);
    });
    try {
      const jid = await app.get(FlumeClient).enqueue('ev', EvWorker, ['ok']);
      await next('job:success', jid);
      for (const type of ['enqueue', 'dequeue', 'job:start', 'job:success']) {
        expect(byChannel.get(type)?.every((e) => e.type === type)).toBe(true);
      }
    } finally {
      for (const stop of listeners) stop();
    }
  });

  it('a pipeline with instrument: false emits no job events', async () => {
    await app.get(FlumeClient).enqueue('ev-quiet', QuietWorker, ['q1']);
    await app.get(JobLog).untilCount(1, 'QuietWorker');
    await expect.poll(() => store.zcard(keysOf(namespace, 'ev-quiet').processing)).toBe(0);
    // Enqueue events are the module's (an enqueue knows no pipeline); nothing after it.
    expect(ofQueue(seen, 'ev-quiet').map((e) => e.type)).toEqual(['enqueue']);
  });

  it('with instrument off nothing is emitted, except for a pipeline that turns it on', async () => {
    const client = off.get(FlumeClient);
    const log = off.get(JobLog);
    const before = channels.events.length;
    await client.enqueue('ev-off', OffWorker, ['o1']);
    const onJob = await client.enqueue('ev-on', OnWorker, ['o2']);
    await log.untilCount(1, 'OffWorker');
    await log.untilCount(1, 'OnWorker');
    for (const queue of ['ev-off', 'ev-on']) {
      await expect.poll(() => store.zcard(keysOf(namespace, queue).processing)).toBe(0);
    }
    expect(ofQueue(seenOff, 'ev-off')).toEqual([]);
    expect(ofQueue(channels.events.slice(before), 'ev-off')).toEqual([]);
    expect(ofQueue(seenOff, 'ev-on').map((e) => e.type)).toEqual([
      'dequeue',
      'job:start',
      'job:success',
    ]);
    expect(ofJob(seenOff, onJob)).toHaveLength(2);
  });
});
