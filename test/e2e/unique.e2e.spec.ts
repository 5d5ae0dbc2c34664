import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FlumeClient, FlumePayloadError, Worker } from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { Gate } from '../support/gate.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  namespaceKeys,
  testConnection,
  uniqueNamespace,
} from '../support/redis.js';

@Injectable()
class Hold {
  gate = new Gate();
  failFirst = new Set<string>();
}

@Worker('uniq')
class ReportWorker {
  constructor(
    private readonly log: JobLog,
    private readonly hold: Hold,
  ) {}

  async perform(report: string, wait = false): Promise<void> {
    this.log.record('ReportWorker', [report]);
    if (wait) await this.hold.gate.wait();
    if (this.hold.failFirst.delete(report)) throw new Error(`first try of ${report} fails`);
  }
}

describe('unique jobs', () => {
  const namespace = uniqueNamespace('unique');
  const keys = keysOf(namespace, 'uniq');
  const apps = new Apps();
  const redis = inspector();
  const boot = (pipelines = true) =>
    apps.boot(
      {
        connection: testConnection(),
        namespace,
        pipelines: [{ name: 'uniq', queue: 'uniq', maxDemand: 5 }],
        runPipelines: pipelines ? undefined : [],
        backoffInitial: 50,
        backoffMax: 50,
        logger: false,
      },
      [JobLog, Hold, ReportWorker],
    );
  // Every master's keys on a cluster: a SCAN of the Cluster client asks one node only.
  const lockKeys = async () =>
    (await namespaceKeys(redis, namespace)).filter((key) =>
      key.startsWith(`${keys.waiting}:unique:`),
    );

  afterEach(async () => {
    await apps.closeAll();
    await deleteNamespace(redis, namespace);
  });
  afterAll(() => redis.disconnect());

  it('adds an equal job once, however many processes enqueue it at the same moment', async () => {
    const instances = await Promise.all([boot(false), boot(false), boot(false)]);
    const ids = await Promise.all(
      instances.flatMap((app) =>
        Array.from({ length: 50 }, () =>
          app.get(FlumeClient).enqueue('uniq', ReportWorker, ['daily'], { unique: true }),
        ),
      ),
    );
    expect(new Set(ids).size).toBe(1);
    expect(await redis.llen(keys.waiting)).toBe(1);
    expect(JSON.parse((await redis.lindex(keys.waiting, 0))!)).toMatchObject({
      jid: ids[0],
      unique: { until: 'finished' },
    });
    // Other args are another job.
    const other = await instances[0]
      .get(FlumeClient)
      .enqueue('uniq', ReportWorker, ['weekly'], { unique: true });
    expect(other).not.toBe(ids[0]);
  });

  it('holds until the job finished by default; a new equal job can be added after it', async () => {
    const app = await boot();
    const client = app.get(FlumeClient);
    const hold = app.get(Hold);
    const log = app.get(JobLog);
    hold.failFirst.add('flaky');
    const first = await client.enqueue('uniq', ReportWorker, ['flaky'], { unique: true });
    // Failing, then waiting for its retry: still the same job.
    await log.untilCount(1, 'ReportWorker');
    expect(await client.enqueue('uniq', ReportWorker, ['flaky'], { unique: true })).toBe(first);
    await log.untilCount(2, 'ReportWorker');
    // Succeeded: the lock is gone, and an equal enqueue is a new job.
    await expect.poll(lockKeys).toEqual([]);
    const second = await client.enqueue('uniq', ReportWorker, ['flaky'], { unique: true });
    expect(second).not.toBe(first);
    await log.untilCount(3, 'ReportWorker');
  });

  it("with until: 'started', lets an equal job in as soon as the first one runs", async () => {
    const app = await boot();
    const client = app.get(FlumeClient);
    const log = app.get(JobLog);
    const opts = { unique: { until: 'started' as const } };
    const first = await client.enqueue('uniq', ReportWorker, ['long', true], opts);
    await log.untilCount(1, 'ReportWorker');
    const second = await client.enqueue('uniq', ReportWorker, ['long', true], opts);
    expect(second).not.toBe(first);
    app.get(Hold).gate.open();
    await log.untilCount(2, 'ReportWorker');
  });

  it('takes a key of the caller’s, a ttl, and works for scheduled and bulk enqueues', async () => {
    const app = await boot(false);
    const client = app.get(FlumeClient);
    const unique = { key: 'tenant-7:export', ttlMs: 60_000 };
    const first = await client.enqueueIn('uniq', 60_000, ReportWorker, ['a'], { unique });
    expect(await client.enqueueIn('uniq', 60_000, ReportWorker, ['b'], { unique })).toBe(first);
    expect(await redis.zcard(keys.scheduled)).toBe(1);
    const [lock] = await lockKeys();
    expect(lock).toBe(`${keys.waiting}:unique:tenant-7:export`);
    expect(await redis.pttl(lock)).toBeGreaterThan(59_000);

    // In one bulk, with a plain job between: the order holds, the duplicate is not added.
    const ids = await client.bulkEnqueue('uniq', [
      { worker: ReportWorker, args: ['x'], unique: true },
      { worker: ReportWorker, args: ['plain'] },
      { worker: ReportWorker, args: ['x'], unique: true },
    ]);
    expect(ids[2]).toBe(ids[0]);
    expect(ids[1]).not.toBe(ids[0]);
    const waiting = (await redis.lrange(keys.waiting, 0, -1)).map((p) => JSON.parse(p).jid);
    expect(waiting).toEqual([ids[0], ids[1]]);
  });

  it('refuses a bad unique option before storing anything', async () => {
    const app = await boot(false);
    const client = app.get(FlumeClient);
    await expect(
      client.enqueue('uniq', ReportWorker, ['z'], { unique: { until: 'done' as never } }),
    ).rejects.toThrow(
      new FlumePayloadError("unique.until must be 'started' or 'finished', got: \"done\""),
    );
    await expect(
      client.enqueue('uniq', ReportWorker, ['z'], { unique: { ttlMs: 0 } }),
    ).rejects.toBeInstanceOf(FlumePayloadError);
    expect(await redis.llen(keys.waiting)).toBe(0);
  });
});
