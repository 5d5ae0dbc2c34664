import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeConnectionError,
  FlumeContext,
  FlumeInspector,
  FlumeProducer,
  Worker,
  type FlumeModuleOptions,
  type FlumePipelineOptions,
} from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { keySlot, LocalCluster, queueOnShard } from '../support/cluster.js';
import { JobLog } from '../support/job-log.js';
import { documentedAclRule } from './support/acl-rule.js';
import { keysOf, rawJob, uniqueNamespace } from '../support/redis.js';

// One queue per shard of the 3-master cluster, and a few more for single tests.
const Q = [0, 1, 2].map((shard) => queueOnShard(shard, 'shard'));
const LIMITED = [queueOnShard(0, 'limited'), queueOnShard(1, 'limited')];
const PAUSABLE = queueOnShard(2, 'pausable');
const PROBE = queueOnShard(0, 'probe');
const BUSY = queueOnShard(0, 'busy');
const FLAKY = queueOnShard(1, 'flaky');

const now = () => performance.timeOrigin + performance.now();

@Worker(Q[0], { name: 'w0' })
class W0 {
  constructor(private readonly log: JobLog) {}
  perform(id: string): void {
    this.log.record(Q[0], [id]);
  }
}

@Worker(Q[1], { name: 'w1' })
class W1 {
  constructor(private readonly log: JobLog) {}
  perform(id: string): void {
    this.log.record(Q[1], [id]);
  }
}

@Worker(Q[2], { name: 'w2' })
class W2 {
  constructor(private readonly log: JobLog) {}
  perform(id: string): void {
    this.log.record(Q[2], [id]);
  }
}

@Worker(FLAKY, { name: 'flaky' })
class FlakyWorker {
  constructor(private readonly log: JobLog) {}
  perform(id: string, failures: number): void {
    const attempt = FlumeContext.current()!.retryCount;
    if (attempt < failures) throw new Error(`attempt ${attempt} of ${id} fails`);
    this.log.record('flaky', [id, attempt]);
  }
}

@Worker(LIMITED[0], { name: 'limited0' })
class Limited0 {
  constructor(private readonly log: JobLog) {}
  perform(id: string): void {
    this.log.record('limited', [id, now()]);
  }
}

@Worker(LIMITED[1], { name: 'limited1' })
class Limited1 {
  constructor(private readonly log: JobLog) {}
  perform(id: string): void {
    this.log.record('limited', [id, now()]);
  }
}

@Worker(PAUSABLE, { name: 'pausable' })
class PausableWorker {
  constructor(private readonly log: JobLog) {}
  perform(id: string): void {
    this.log.record('pausable', [id]);
  }
}

@Worker(PROBE, { name: 'probe' })
class ProbeWorker {
  constructor(private readonly log: JobLog) {}
  perform(id: string): void {
    this.log.record('probe', [id]);
  }
}

@Worker(BUSY, { name: 'busy' })
class BusyWorker {
  constructor(private readonly log: JobLog) {}
  async perform(id: string, failFirst = false): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    if (failFirst && FlumeContext.current()!.retryCount === 0) throw new Error('first attempt');
    this.log.record('busy', [id]);
  }
}

const ALL_WORKERS = [
  W0,
  W1,
  W2,
  FlakyWorker,
  Limited0,
  Limited1,
  PausableWorker,
  ProbeWorker,
  BusyWorker,
];

/** Most starts in any window of `scaleMs` (half-open: [t, t + scaleMs)). */
function maxPerWindow(times: number[], scaleMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end] - sorted[start] < scaleMs) end++;
    max = Math.max(max, end - start);
  }
  return max;
}

describe('Redis Cluster (3 local masters)', () => {
  let cluster: LocalCluster;
  let admin: Cluster;
  const apps = new Apps();
  const namespace = uniqueNamespace('cluster');

  beforeAll(async () => {
    const started = Date.now();
    cluster = await LocalCluster.start(3);
    console.log(`[cluster] 3 masters started and joined in ${Date.now() - started} ms`);
    admin = cluster.admin();
  });

  afterEach(() => apps.closeAll());

  afterAll(async () => {
    await apps.closeAll();
    await cluster?.stop();
  });

  /** Boots an app on the cluster with `pipelines`; one JobLog per app unless given. */
  async function boot(
    pipelines: FlumePipelineOptions[],
    extra: Partial<FlumeModuleOptions> = {},
    log = new JobLog(),
  ): Promise<{ app: INestApplicationContext; log: JobLog; logger: CaptureLogger }> {
    const logger = new CaptureLogger();
    const app = await apps.boot(
      {
        connection: cluster.connection(),
        namespace,
        pipelines,
        logger,
        commandTimeout: 2_000,
        ...extra,
      },
      [{ provide: JobLog, useValue: log }, ...ALL_WORKERS],
    );
    return { app, log, logger };
  }

  it('puts each queue on the shard of its hash tag, and runs jobs of queues on every shard', async () => {
    // The names were picked offline; the cluster agrees on where they live.
    const owners = await Promise.all(
      Q.map(async (q) => cluster.ownerOf(await cluster.slotOf(`{${q}}`))),
    );
    expect(Q.map((q) => keySlot(`{${q}}`))).toEqual(
      await Promise.all(Q.map((q) => cluster.slotOf(`{${q}}`))),
    );
    expect(new Set(owners.map((o) => o.port)).size).toBe(3);

    const { app, log } = await boot(Q.map((queue, i) => ({ name: `p${i}`, queue, maxDemand: 5 })));
    const client = app.get(FlumeClient);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      for (const [shard, queue] of Q.entries())
        ids.push(await client.enqueue(queue, `w${shard}`, [`${queue}#${i}`]));
    }
    await log.untilCount(15);
    for (const queue of Q) expect(log.count(queue)).toBe(5);

    // Every key of a queue sits on the master that owns its slot, and nowhere else.
    await expect
      .poll(async () => (await cluster.keysOf(namespace)).length)
      .toBeGreaterThanOrEqual(3);
    const keys = await cluster.keysOf(namespace);
    for (const [i, queue] of Q.entries()) {
      const ofQueue = keys.filter(({ key }) => key.includes(`{${queue}}`));
      expect(ofQueue.map((k) => k.key)).toContain(keysOf(namespace, queue).leaseSeq);
      expect(new Set(ofQueue.map((k) => k.port))).toEqual(new Set([owners[i].port]));
    }
  });

  it('blocks idle pipelines on clients of their own, so commands to the same shard go on', async () => {
    const { app, log } = await boot([{ name: 'p0', queue: Q[0], maxDemand: 5 }]);
    const owner = await cluster.ownerOf(keySlot(`{${Q[0]}}`));
    const node = cluster.node(owner.port);
    const clients = async () => (await node.call('CLIENT', 'LIST')) as string;
    // The pipeline waits in BLMOVE on the shard of its queue...
    await expect
      .poll(clients, { timeout: 10_000 })
      .toMatch(new RegExp(`name=flume:${namespace}:pipeline:p0 .*cmd=blmove`));
    // ...while enqueues and counts to that shard answer, within the 2 s command timeout.
    const other = queueOnShard(0, 'unconsumed');
    const client = app.get(FlumeClient);
    await client.enqueue(other, 'Nobody', [1]);
    expect(await client.jobCounts([other])).toEqual({ [other]: 1 });
    const id = await client.enqueue(Q[0], 'w0', ['woken']);
    await log.until(() => log.performed.some((p) => p.args[0] === 'woken'), 'the woken job');
    expect(id).toBeTruthy();
  });

  it('counts waiting jobs of queues on every shard at once, and bulk-enqueues past one RPUSH', async () => {
    const { app } = await boot([]);
    const client = app.get(FlumeClient);
    const queues = [0, 1, 2].map((shard) => queueOnShard(shard, 'count'));
    await client.enqueue(queues[0], 'Nobody', [1]);
    await client.enqueue(queues[0], 'Nobody', [2]);
    await client.enqueue(queues[1], 'Nobody', [3]);
    // More than one RPUSH's worth: a MULTI of RPUSHes to one key, one slot.
    const bulk = Array.from({ length: 5_001 }, (_, i) => ({ worker: 'Nobody', args: [i] }));
    expect(await client.bulkEnqueue(queues[2], bulk)).toHaveLength(5_001);
    expect(await client.jobCounts(queues)).toEqual({
      [queues[0]]: 2,
      [queues[1]]: 1,
      [queues[2]]: 5_001,
    });
  });

  it('retries, schedules and buries jobs on the cluster', async () => {
    const { app, log } = await boot([{ name: 'flaky', queue: FLAKY, maxDemand: 5 }], {
      backoffInitial: 50,
      backoffMax: 100,
      maxRetries: 2,
    });
    const client = app.get(FlumeClient);
    await client.enqueue(FLAKY, 'flaky', ['twice', 2]);
    await client.enqueueIn(FLAKY, 300, 'flaky', ['later', 0]);
    const dead = await client.enqueue(FLAKY, 'flaky', ['never', 99]);
    await log.until(() => log.count('flaky') >= 2, 'the retried and the scheduled job');
    expect(log.performed.map((p) => p.args).sort()).toEqual([
      ['later', 0],
      ['twice', 2],
    ]);
    const inspector = app.get(FlumeInspector);
    await expect.poll(async () => (await inspector.queueStats(FLAKY)).dead).toBe(1);
    const [buried] = await inspector.list(FLAKY, 'dead');
    expect(buried.jid).toBe(dead);
    // The last acknowledgement may wait a few ms to ride with a take.
    await expect.poll(async () => (await inspector.queueStats(FLAKY)).processing).toBe(0);
    expect(await inspector.queueStats(FLAKY)).toMatchObject({
      waiting: 0,
      scheduled: 0,
      retry: 0,
      processing: 0,
    });
  });

  it('recovers a job whose lease expired', async () => {
    const keys = keysOf(namespace, Q[1]);
    const payload = rawJob({ queue: Q[1], class: 'w1', args: ['abandoned'] });
    await admin.hset(keys.leases, '999', payload);
    await admin.zadd(keys.processing, Date.now() - 1_000, '999');
    const { log } = await boot([{ name: 'p1', queue: Q[1], maxDemand: 5 }], {
      visibilityTimeout: 1_000,
    });
    await log.until(
      () => log.performed.some((p) => p.args[0] === 'abandoned'),
      'the recovered job',
    );
    // The ack (ZREM of the lease id) follows the job's end.
    await expect.poll(() => admin.zcard(keys.processing)).toBe(0);
  });

  it('shares one rate limit between two queues on different shards', async () => {
    const LIMIT = 4;
    const SCALE = 400;
    const limit = { rateLimitCount: LIMIT, rateLimitScale: SCALE, rateLimitKey: 'shared-provider' };
    const { app, log } = await boot([
      { name: 'l0', queue: LIMITED[0], maxDemand: 3, ...limit },
      { name: 'l1', queue: LIMITED[1], maxDemand: 3, ...limit },
    ]);
    expect(keySlot(`{${LIMITED[0]}}`)).not.toBe(keySlot(`{${LIMITED[1]}}`));
    const client = app.get(FlumeClient);
    await Promise.all([
      client.bulkEnqueue(
        LIMITED[0],
        Array.from({ length: 6 }, (_, i) => ({ worker: 'limited0', args: [`a${i}`] })),
      ),
      client.bulkEnqueue(
        LIMITED[1],
        Array.from({ length: 6 }, (_, i) => ({ worker: 'limited1', args: [`b${i}`] })),
      ),
    ]);
    await log.untilCount(12, 'limited');
    const starts = log.performed.map((p) => p.args[1] as number);
    expect(maxPerWindow(starts, SCALE)).toBeLessThanOrEqual(LIMIT);
  });

  it('pauses a pipeline for every instance (temporary: false) through a key of its own', async () => {
    const pipelines = [
      { name: 'pausable', queue: PAUSABLE, maxDemand: 5 },
      { name: 'probe', queue: PROBE, maxDemand: 5 },
    ];
    const shared = new JobLog();
    const one = await boot(pipelines, {}, shared);
    const two = await boot(pipelines, {}, shared);
    await one.app.get(FlumeProducer).pause('pausable', { temporary: false });
    expect(await admin.hkeys(`${namespace}:pipelines:paused`)).toEqual(['pausable']);
    await expect
      .poll(() => two.app.get(FlumeProducer).pipeline('pausable').isPaused, { timeout: 5_000 })
      .toBe(true);

    const client = one.app.get(FlumeClient);
    await client.bulkEnqueue(
      PAUSABLE,
      [1, 2, 3].map((i) => ({ worker: 'pausable', args: [`p${i}`] })),
    );
    // Both apps take from the probe queue, on another shard: by then they have seen the paused jobs.
    await client.bulkEnqueue(
      PROBE,
      [1, 2, 3, 4].map((i) => ({ worker: 'probe', args: [`x${i}`] })),
    );
    await shared.untilCount(4, 'probe');
    expect(await client.jobCounts([PAUSABLE])).toEqual({ [PAUSABLE]: 3 });
    expect(shared.count('pausable')).toBe(0);

    await two.app.get(FlumeProducer).resume('pausable', { temporary: false });
    await shared.untilCount(3, 'pausable');
    expect(await admin.exists(`${namespace}:pipelines:paused`)).toBe(0);
  });

  it('runs on an ioredis Cluster given as the connection, and leaves that client open', async () => {
    const own = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
    try {
      const { app, log } = await boot([{ name: 'p2', queue: Q[2], maxDemand: 5 }], {
        connection: own,
      });
      await app.get(FlumeClient).enqueue(Q[2], 'w2', ['via-own-client']);
      await log.until(() => log.performed.some((p) => p.args[0] === 'via-own-client'), 'the job');
      await apps.close(app);
      expect(await own.ping()).toBe('PONG');
    } finally {
      own.disconnect();
    }
  });

  it('runs as an ACL user with the documented rule plus the cluster grants, through a slot move', async () => {
    const password = 'cluster-acl-S3cret';
    const aclNamespace = `${namespace}-acl`;
    for (const node of cluster.nodes) {
      const redis = cluster.node(node.port);
      await redis.call('ACL', ...documentedAclRule(aclNamespace, password, true));
      await redis.call('ACL', 'LOG', 'RESET');
    }
    const { app, log, logger } = await boot([{ name: 'p1', queue: Q[1], maxDemand: 5 }], {
      connection: cluster.connection({ username: 'flume', password }),
      namespace: aclNamespace,
    });
    const client = app.get(FlumeClient);
    for (let i = 0; i < 20; i++) await client.enqueue(Q[1], 'w1', [`acl-${i}`]);
    await log.untilCount(20, Q[1]);
    // Redirections while the slot moves (ASK, then MOVED) need their grants too.
    const slot = keySlot(`{${Q[1]}}`);
    const home = await cluster.ownerOf(slot);
    const away = cluster.nodes.find((n) => n.id !== home.id)!;
    const moving = cluster.moveSlot(slot, away, { batch: 1, pauseMs: 40 });
    for (let i = 20; i < 60; i++) await client.enqueue(Q[1], 'w1', [`acl-${i}`]);
    await moving;
    await log.untilCount(60, Q[1]);
    await cluster.moveSlot(slot, home);
    await apps.closeAll();
    for (const node of cluster.nodes) {
      expect(await cluster.node(node.port).call('ACL', 'LOG')).toEqual([]);
    }
    expect(logger.entries.map((e) => e.message).join('\n')).not.toContain(password);
  });

  it('loses no job while the slot of a busy queue moves to another master, twice', async () => {
    const { app, log, logger } = await boot([{ name: 'busy', queue: BUSY, maxDemand: 5 }], {
      backoffInitial: 50,
      backoffMax: 100,
    });
    const client = app.get(FlumeClient);
    const slot = keySlot(`{${BUSY}}`);
    const accepted: string[] = [];
    const rejected: Error[] = [];
    let producing = true;
    const producer = (async () => {
      for (let i = 0; producing; i++) {
        try {
          // Jobs that go through the scheduled and retry sets too, so every key moves.
          if (i % 15 === 0) {
            await client.enqueueIn(BUSY, 150, 'busy', [`s${i}`]);
            accepted.push(`s${i}`);
          } else if (i % 20 === 1) {
            await client.enqueue(BUSY, 'busy', [`r${i}`, true]);
            accepted.push(`r${i}`);
          } else if (i % 10 === 0) {
            const ids = await client.bulkEnqueue(
              BUSY,
              [0, 1, 2].map((k) => ({ worker: 'busy', args: [`b${i}.${k}`] })),
            );
            accepted.push(...ids.map((_, k) => `b${i}.${k}`));
          } else {
            await client.enqueue(BUSY, 'busy', [`e${i}`]);
            accepted.push(`e${i}`);
          }
        } catch (err) {
          rejected.push(err as Error);
        }
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    })();

    const performedIds = () => new Set(log.performed.map((p) => p.args[0] as string));
    const moves: { to: number; keys: number }[] = [];
    try {
      await log.untilCount(100, 'busy');
      for (const shard of [1, 2]) {
        const to = cluster.nodes[shard];
        // One key at a time, with a pause: the slot stays half moved for a while.
        moves.push({
          to: to.port,
          keys: await cluster.moveSlot(slot, to, { batch: 1, pauseMs: 40 }),
        });
        const before = log.count('busy');
        await log.untilCount(before + 100, 'busy');
      }
    } finally {
      producing = false;
      await producer;
    }
    await log.until(
      () => accepted.every((id) => performedIds().has(id)),
      `all ${accepted.length} accepted jobs`,
      20_000,
    );
    console.log(
      `[cluster] slot ${slot} moved ${moves.map((m) => `to :${m.to} (${m.keys} keys)`).join(', then ')} ` +
        `while ${accepted.length} jobs were enqueued: ${rejected.length} enqueue(s) rejected, ` +
        `${log.count('busy')} performed, ${accepted.length - performedIds().size} lost; ` +
        `engine warned: ${JSON.stringify(
          logger.entries
            .filter(
              (e) => e.level !== 'log' && !/first attempt|no pipeline of this app/.test(e.message),
            )
            .map((e) => e.message),
        )}`,
    );
    expect(rejected.filter((err) => !(err instanceof FlumeConnectionError))).toEqual([]);
    expect(rejected).toEqual([]);
    expect((await cluster.ownerOf(slot)).port).toBe(cluster.nodes[2].port);
    const keys = (await cluster.keysOf(namespace)).filter(({ key }) => key.includes(`{${BUSY}}`));
    expect(new Set(keys.map((k) => k.port))).toEqual(new Set([cluster.nodes[2].port]));
    expect(logger.find(/unexpected error/)).toEqual([]);
  });
});
