import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlumeClient, Worker, type FlumeModuleOptions } from '../../../lib/index.js';
import type { Lease } from '../../../lib/engine/lease.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { Gate } from '../../support/gate.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, rawJob, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

/** The engine's own take script, run by hand: a "worker" that takes jobs and then dies. */

const VISIBILITY_TIMEOUT = 1_000;

@Worker('recover')
class RecoverWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('RecoverWorker', [tag]);
  }
}

/** Each instance's gate holds its jobs running until the test opens it. */
class HeldJobs {
  readonly gate = new Gate();
}

@Worker('held')
class HeldWorker {
  constructor(
    private readonly log: JobLog,
    private readonly held: HeldJobs,
  ) {}

  async perform(tag: string): Promise<void> {
    this.log.record('HeldWorker', [tag]);
    await this.held.gate.wait();
  }
}

/** Blocks the event loop for 700 ms, then yields once, as a CPU-bound job would. */
@Worker('blocking')
class BlockingWorker {
  constructor(private readonly log: JobLog) {}

  async perform(): Promise<void> {
    const until = Date.now() + 700;
    while (Date.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 10));
    this.log.record('BlockingWorker', []);
  }
}

@Worker('long')
class LongWorker {
  constructor(private readonly log: JobLog) {}

  async perform(tag: string, ms: number): Promise<void> {
    this.log.record('LongWorker:start', [tag]);
    // The job's own work: it runs well past the visibility timeout.
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.log.record('LongWorker:end', [tag]);
  }
}

describe('recovery of abandoned jobs, and leases of long jobs', () => {
  const namespace = uniqueNamespace('recovery');
  const apps = new Apps();
  const log = new JobLog();
  const logger = new CaptureLogger();
  const options = (queue: string, maxDemand = 5): FlumeModuleOptions => ({
    connection: testConnection(),
    namespace,
    pipelines: [{ name: `${queue}_pipeline`, queue, maxDemand }],
    visibilityTimeout: VISIBILITY_TIMEOUT,
    shutdownTimeout: 200,
    logger,
  });
  const providers = [{ provide: JobLog, useValue: log }];
  let store: TestStore;

  /** Takes up to `count` waiting jobs of `queue` as a worker would, for `leaseMs`. */
  async function takeByHand(queue: string, count: number, leaseMs: number): Promise<Lease[]> {
    const reply = await store.flumeStore().take(keysOf(namespace, queue), queue, {
      count,
      leaseMs,
      token: 'dead-worker',
      previous: 'none',
      recordMs: 60_000,
      maxPayloadBytes: 1024 * 1024,
      dead: { maxJobs: 100, maxAgeMs: 60_000 },
    });
    return reply.leases;
  }

  beforeAll(() => {
    store = testStore();
  });

  afterEach(async () => {
    await apps.closeAll();
  });

  afterAll(async () => {
    await store.deleteNamespace(namespace);
    store.close();
  });

  it('hands back a job whose lease expired (its worker died) and runs it', async () => {
    const keys = keysOf(namespace, 'recover');
    await apps.boot(options('recover'), [...providers, RecoverWorker]);
    const payload = rawJob({ queue: 'recover', class: 'RecoverWorker', args: ['abandoned'] });
    await store.hset(keys.leases, '424242', payload);
    await store.zadd(keys.processing, Date.now() - 1, '424242');

    await log.untilCount(1, 'RecoverWorker', 5_000);
    expect(log.performed.at(-1)!.args).toEqual(['abandoned']);
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    expect(await store.llen(keys.waiting)).toBe(0);
    expect(await store.hlen(keys.leases)).toBe(0);
    expect(logger.find(/Recovered 1 job\(s\) of .*\{recover\}/, 'warn')).toHaveLength(1);
  });

  it('runs a job taken by a worker that died once its lease runs out, not before', async () => {
    const keys = keysOf(namespace, 'recover');
    const payload = rawJob({ queue: 'recover', class: 'RecoverWorker', args: ['died-holding-it'] });
    await store.rpush(keys.waiting, payload);
    const leaseMs = 1_200;
    const takenAt = Date.now();
    const leases = await takeByHand('recover', 10, leaseMs);
    expect(leases).toHaveLength(1);
    expect(leases[0].id).toMatch(/^\d+$/);
    expect(leases[0].payload).toBe(payload);
    // The processing set holds the lease id only; the payload is stored once, beside it.
    expect(await store.zrange(keys.processing, '0', '-1')).toEqual([leases[0].id]);
    expect(await store.hget(keys.leases, leases[0].id)).toBe(payload);
    expect(await store.llen(keys.waiting)).toBe(0);

    const before = log.count('RecoverWorker');
    await apps.boot(options('recover'), [...providers, RecoverWorker]);
    await log.untilCount(before + 1, 'RecoverWorker', 5_000);
    const run = log.performed.at(-1)!;
    expect(run.args).toEqual(['died-holding-it']);
    expect(run.at).toBeGreaterThanOrEqual(takenAt + leaseMs);
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
  });

  it('ignores the late acknowledgement of an expired lease: the new holder keeps its own', async () => {
    const keys = keysOf(namespace, 'held');
    const held = new HeldJobs();
    await store.rpush(keys.waiting, rawJob({ queue: 'held', class: 'HeldWorker', args: ['h1'] }));
    const [oldLease] = await takeByHand('held', 1, 1);

    await apps.boot(options('held'), [
      ...providers,
      { provide: HeldJobs, useValue: held },
      HeldWorker,
    ]);
    await log.untilCount(1, 'HeldWorker', 5_000);
    const [newLease] = await store.zrange(keys.processing, '0', '-1');
    expect(newLease).toBeDefined();
    expect(newLease).not.toBe(oldLease.id);
    const newPayload = JSON.parse((await store.hget(keys.leases, newLease))!);
    expect(newPayload).toMatchObject({ jid: JSON.parse(oldLease.payload).jid, args: ['h1'] });

    // The first worker wakes up and acknowledges: that must not end the new lease.
    expect(await store.flumeStore().ack(keys, [oldLease.id])).toBe(0);
    expect(await store.zrange(keys.processing, '0', '-1')).toEqual([newLease]);
    expect(await store.hexists(keys.leases, newLease)).toBe(1);
    held.gate.open();
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    expect(log.count('HeldWorker')).toBe(1);
  });

  it('renews the lease of a job running past the visibility timeout; no instance runs it twice', async () => {
    const keys = keysOf(namespace, 'long');
    const recoveredBefore = logger.find(/Recovered/).length;
    const first = await apps.boot(options('long', 2), [...providers, LongWorker]);
    await apps.boot(options('long', 2), [...providers, LongWorker]);
    const client = first.get(FlumeClient);
    const runMs = 3 * VISIBILITY_TIMEOUT;
    const tags = ['long-a', 'long-b', 'long-c'];
    for (const tag of tags) await client.enqueue('long', LongWorker, [tag, runMs]);

    await log.untilCount(3, 'LongWorker:start', 5_000);
    const [, firstScore] = await store.zrange(keys.processing, '0', '0', 'WITHSCORES');
    const firstDeadline = Number(firstScore);
    // Past the first deadline the lease must still be there, pushed further out.
    await expect
      .poll(async () => Number((await store.zrange(keys.processing, '0', '0', 'WITHSCORES'))[1]), {
        timeout: 3_000,
      })
      .toBeGreaterThan(firstDeadline);

    await log.untilCount(3, 'LongWorker:end', runMs + 5_000);
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    expect(await store.llen(keys.waiting)).toBe(0);
    const started = log.performed.filter((p) => p.worker === 'LongWorker:start');
    expect(started.map((p) => p.args[0]).sort()).toEqual(tags);
    // Nothing is left anywhere to hand out again, and nothing was recovered meanwhile.
    expect(logger.find(/Recovered/).length).toBe(recoveredBefore);
  });

  it('says when a lease renewal came late because the event loop was blocked', async () => {
    const app = await apps.boot(options('blocking'), [...providers, BlockingWorker]);
    const client = app.get(FlumeClient);
    await client.enqueue('blocking', BlockingWorker, []);
    await log.untilCount(1, 'BlockingWorker', 5_000);
    const [warning] = logger.find(/came \d+ ms late: the event loop was blocked/, 'warn');
    expect(warning?.message).toMatch(/visibilityTimeout \(1000 ms\) runs twice/);
  });
});
