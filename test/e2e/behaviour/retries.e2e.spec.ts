import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlumeClient, Worker, type FlumeModuleOptions } from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

const BACKOFF_INITIAL = 100;
const BACKOFF_MAX = 400;
const MAX_RETRIES = 3;
/** Allowed past a retry's due time: the scheduler is woken for it, this is timer and CI slack. */
const SLACK_MS = 700;

@Worker('retries')
class ThrowingWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('ThrowingWorker', [tag]);
    throw new Error(`sync boom ${tag}`);
  }
}

@Worker('retries', { maxRetries: 1 })
class RejectingWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): Promise<void> {
    this.log.record('RejectingWorker', [tag]);
    return Promise.reject(new TypeError(`async boom ${tag}`));
  }
}

@Worker('retries', { maxRetries: 0 })
class NoRetryWorker {
  constructor(private readonly log: JobLog) {}

  async perform(tag: string): Promise<void> {
    this.log.record('NoRetryWorker', [tag]);
    throw new Error(`once ${tag}`);
  }
}

@Worker('retries')
class FlakyWorker {
  private attempts = new Map<string, number>();

  constructor(private readonly log: JobLog) {}

  async perform(tag: string, failures: number): Promise<void> {
    const attempt = (this.attempts.get(tag) ?? 0) + 1;
    this.attempts.set(tag, attempt);
    this.log.record('FlakyWorker', [tag, attempt]);
    if (attempt <= failures) throw new Error(`flaky ${tag} attempt ${attempt}`);
  }
}

@Worker('retries')
class StringThrower {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('StringThrower', [tag]);
    throw `plain string ${tag}`;
  }
}

@Worker('retry-slow')
class SlowRetryWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('SlowRetryWorker', [tag]);
    throw new RangeError(`slow ${tag}`);
  }
}

@Worker('doomed')
class DoomedWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('DoomedWorker', [tag]);
    throw new Error(`doomed ${tag}`);
  }
}

describe('retries and the dead set', () => {
  const namespace = uniqueNamespace('retries');
  const keys = keysOf(namespace, 'retries');
  const apps = new Apps();
  const logger = new CaptureLogger();
  const base: FlumeModuleOptions = { connection: testConnection(), namespace, logger };
  let app: INestApplicationContext;
  let client: FlumeClient;
  let log: JobLog;
  let store: TestStore;

  beforeAll(async () => {
    store = testStore();
    app = await apps.boot(
      {
        ...base,
        pipelines: [{ name: 'retries_pipeline', queue: 'retries', maxDemand: 10 }],
        maxRetries: MAX_RETRIES,
        backoffInitial: BACKOFF_INITIAL,
        backoffMax: BACKOFF_MAX,
      },
      [JobLog, ThrowingWorker, RejectingWorker, NoRetryWorker, FlakyWorker, StringThrower],
    );
    client = app.get(FlumeClient);
    log = app.get(JobLog);
  });

  afterAll(async () => {
    await apps.closeAll();
    await store.deleteNamespace(namespace);
    store.close();
  });

  /** Start times of each attempt of the job tagged `tag`. */
  function attempts(worker: string, tag: string): number[] {
    return log.performed.filter((p) => p.worker === worker && p.args[0] === tag).map((p) => p.at);
  }

  async function deadJob(queueKeys: ReturnType<typeof keysOf>, jid: string) {
    let found: Record<string, unknown> | undefined;
    await expect
      .poll(async () => {
        const members = await store.zrange(queueKeys.dead, '0', '-1');
        found = members.map((m) => JSON.parse(m)).find((job) => job.jid === jid);
        return found !== undefined;
      })
      .toBe(true);
    return found!;
  }

  it('retries a handler that throws with exponential backoff, then buries it with its last error', async () => {
    const enqueued = Date.now();
    const jid = await client.enqueue('retries', ThrowingWorker, ['t1']);
    await log.untilCount(MAX_RETRIES + 1, 'ThrowingWorker', 10_000);
    const dead = await deadJob(keys, jid);
    const buriedAt = Date.now();

    const starts = attempts('ThrowingWorker', 't1');
    expect(starts).toHaveLength(MAX_RETRIES + 1);
    starts.slice(1).forEach((start, k) => {
      const gap = start - starts[k];
      // Retry k+1 is due backoffDelay(k) after the failure: at least min(max, initial * 2^k).
      expect(gap).toBeGreaterThanOrEqual(Math.min(BACKOFF_MAX, BACKOFF_INITIAL * 2 ** k));
      expect(gap).toBeLessThanOrEqual(BACKOFF_MAX + SLACK_MS);
    });

    expect(dead).toMatchObject({
      jid,
      queue: 'retries',
      class: 'ThrowingWorker',
      args: ['t1'],
      retry_count: MAX_RETRIES,
      error_message: 'sync boom t1',
    });
    expect(dead.error_backtrace).toMatch(
      /^Error: sync boom t1\n\s+at ThrowingWorker\.[^\n]*perform/,
    );
    expect(dead.failed_at).toBeGreaterThanOrEqual(starts[MAX_RETRIES] / 1000 - 0.001);
    expect(dead.failed_at).toBeLessThanOrEqual(buriedAt / 1000);
    expect(dead.enqueued_at).toBeGreaterThanOrEqual(enqueued / 1000 - 0.001);
    expect(await store.zcard(keys.retry)).toBe(0);
    expect(await store.zcard(keys.processing)).toBe(0);
    expect(await store.llen(keys.waiting)).toBe(0);
    expect(
      logger.find(/Job .* \(ThrowingWorker\) failed: sync boom t1\. Retry 1 of 3 in \d+ ms/),
    ).toHaveLength(1);
    expect(logger.find(/\(ThrowingWorker\) .*sync boom t1.*dead set/, 'error')).toHaveLength(1);
  });

  it('retries a handler that rejects, up to the maxRetries of its @Worker', async () => {
    const jid = await client.enqueue('retries', RejectingWorker, ['r1']);
    await log.untilCount(2, 'RejectingWorker', 10_000);
    const dead = await deadJob(keys, jid);
    const starts = attempts('RejectingWorker', 'r1');
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(BACKOFF_INITIAL);
    expect(starts[1] - starts[0]).toBeLessThanOrEqual(BACKOFF_MAX + SLACK_MS);
    expect(dead).toMatchObject({ retry_count: 1, error_message: 'async boom r1' });
    expect(dead.error_backtrace).toMatch(
      /^TypeError: async boom r1\n\s+at RejectingWorker\.[^\n]*perform/,
    );
    // Exactly maxRetries + 1 attempts, none after the burial.
    expect(attempts('RejectingWorker', 'r1')).toHaveLength(2);
  });

  it('buries at once a worker whose @Worker says maxRetries: 0', async () => {
    const jid = await client.enqueue('retries', NoRetryWorker, ['n1']);
    const dead = await deadJob(keys, jid);
    expect(attempts('NoRetryWorker', 'n1')).toHaveLength(1);
    expect(dead).toMatchObject({ retry_count: 0, error_message: 'once n1' });
    expect(dead.failed_at).toEqual(expect.any(Number));
  });

  it('stops retrying once the handler succeeds, leaving nothing behind', async () => {
    await client.enqueue('retries', FlakyWorker, ['f1', 2]);
    await log.until(
      () => log.performed.some((p) => p.worker === 'FlakyWorker' && p.args[1] === 3),
      'the third attempt',
      10_000,
    );
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    expect(await store.zcard(keys.retry)).toBe(0);
    const dead = (await store.zrange(keys.dead, '0', '-1')).map((m) => JSON.parse(m));
    expect(dead.filter((job) => job.class === 'FlakyWorker')).toEqual([]);
    expect(attempts('FlakyWorker', 'f1')).toHaveLength(3);
  });

  it('keeps a thrown non-Error as the message', async () => {
    const jid = await client.enqueue('retries', StringThrower, ['s1']);
    await log.untilCount(MAX_RETRIES + 1, 'StringThrower', 10_000);
    const dead = await deadJob(keys, jid);
    expect(dead).toMatchObject({ retry_count: MAX_RETRIES, error_message: 'plain string s1' });
  });

  it('files a failed job in the retry set with its error, due after the backoff', async () => {
    const slowKeys = keysOf(namespace, 'retry-slow');
    const slow = await apps.boot(
      {
        ...base,
        pipelines: [{ name: 'slow_pipeline', queue: 'retry-slow', maxDemand: 1 }],
        backoffInitial: 5_000,
        backoffMax: 5_000,
      },
      [{ provide: JobLog, useValue: log }, SlowRetryWorker],
    );
    const jid = await slow.get(FlumeClient).enqueue('retry-slow', SlowRetryWorker, ['x']);
    await log.untilCount(1, 'SlowRetryWorker');
    await expect.poll(() => store.zcard(slowKeys.retry)).toBe(1);
    const [member, score] = await store.zrange(slowKeys.retry, '0', '-1', 'WITHSCORES');
    const job = JSON.parse(member);
    expect(job).toMatchObject({
      jid,
      class: 'SlowRetryWorker',
      args: ['x'],
      retry_count: 1,
      error_message: 'slow x',
    });
    expect(job.error_backtrace).toMatch(
      /^RangeError: slow x\n\s+at SlowRetryWorker\.[^\n]*perform/,
    );
    expect(job.error_backtrace.split('\n').length).toBeLessThanOrEqual(20);
    const dueAfterFailure = Number(score) - job.failed_at * 1000;
    expect(dueAfterFailure).toBeGreaterThanOrEqual(5_000);
    expect(dueAfterFailure).toBeLessThan(5_000 + 500);
    expect(await store.zcard(slowKeys.processing)).toBe(0);
    await apps.close(slow);
    // Shutting down does not run or lose the retry.
    expect(await store.zcard(slowKeys.retry)).toBe(1);
  });

  it('bounds the dead set by age and by size', async () => {
    const doomedKeys = keysOf(namespace, 'doomed');
    const now = Date.now();
    await store.zadd(
      doomedKeys.dead,
      now - 120_000,
      '{"jid":"too-old"}',
      now - 1_000,
      '{"jid":"recent"}',
    );
    const doomed = await apps.boot(
      {
        ...base,
        pipelines: [{ name: 'doomed_pipeline', queue: 'doomed', maxDemand: 1 }],
        maxRetries: 0,
        deadMaxJobs: 3,
        deadMaxAge: 60_000,
      },
      [{ provide: JobLog, useValue: log }, DoomedWorker],
    );
    const doomedClient = doomed.get(FlumeClient);
    const deadJids = async () =>
      (await store.zrange(doomedKeys.dead, '0', '-1')).map((m) => JSON.parse(m).jid);

    const first = await doomedClient.enqueue('doomed', DoomedWorker, ['d0']);
    await expect.poll(deadJids).toContain(first);
    // The old one went for its age; the recent one stays (3 allowed).
    expect(await deadJids()).toEqual(['recent', first]);

    const more: string[] = [];
    for (const tag of ['d1', 'd2', 'd3']) {
      more.push(await doomedClient.enqueue('doomed', DoomedWorker, [tag]));
    }
    await log.untilCount(4, 'DoomedWorker');
    await expect.poll(deadJids).toContain(more[2]);
    // Only the newest three are kept. (Jobs that died in the same millisecond share a
    // score, and Redis orders those by member: compare the sets, not the order.)
    expect((await deadJids()).sort()).toEqual([...more].sort());
  });
});
