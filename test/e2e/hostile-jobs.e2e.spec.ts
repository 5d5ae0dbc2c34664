import 'reflect-metadata';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import {
  FlumeConnectionError,
  FlumeEvents,
  FlumeInspector,
  FlumeProducer,
  Worker,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  rawJob,
  testConnection,
  uniqueNamespace,
} from '../support/redis.js';

@Worker('hostile')
class HostileWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: unknown): void {
    this.log.record('HostileWorker', [typeof tag === 'string' ? tag : 'deep']);
  }
}

/** `depth` nested arrays around `inner`: ~2 bytes a level, deeper than JSON.stringify's stack. */
function nested(depth: number, inner = '"x"'): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}

// What someone with write access to Redis can push into a queue: nothing of it may take
// the process down, run twice, or lose the jobs beside it.
describe('hostile and broken jobs in Redis', () => {
  const namespace = uniqueNamespace('hostile');
  const keys = keysOf(namespace, 'hostile');
  const apps = new Apps();
  const redis = inspector();
  const options = (
    logger: CaptureLogger,
    extra: Partial<FlumeModuleOptions> = {},
  ): FlumeModuleOptions => ({
    connection: testConnection(),
    namespace,
    pipelines: [{ name: 'hostile_pipeline', queue: 'hostile', maxDemand: 5 }],
    visibilityTimeout: 1_000,
    instrument: true,
    logger,
    ...extra,
  });
  const good = (tag: string) => rawJob({ queue: 'hostile', class: 'HostileWorker', args: [tag] });

  afterEach(async () => {
    await apps.closeAll();
    await deleteNamespace(redis, namespace);
  });
  afterAll(() => redis.disconnect());

  it('keeps waiting jobs when a queue key holds the wrong type, and runs them once it is fixed', async () => {
    const logger = new CaptureLogger();
    await redis.set(keys.processing, 'x');
    const tags = ['w1', 'w2', 'w3', 'w4', 'w5'];
    await redis.rpush(keys.waiting, ...tags.map(good));
    const app = await apps.boot(options(logger), [JobLog, HostileWorker]);

    await expect.poll(() => logger.find(/WRONGTYPE/, 'warn').length).toBeGreaterThan(0);
    expect(await redis.llen(keys.waiting)).toBe(5);
    // The inspector says what is wrong as a FlumeError, not a raw Redis reply.
    await expect(app.get(FlumeInspector).queueStats('hostile')).rejects.toBeInstanceOf(
      FlumeConnectionError,
    );

    await redis.del(keys.processing);
    const log = app.get(JobLog);
    await log.untilCount(5, 'HostileWorker');
    expect(log.performed.map((p) => p.args[0]).sort()).toEqual(tags);
  });

  it('keeps prioritized and scheduled jobs when the prioritized set holds the wrong type', async () => {
    const logger = new CaptureLogger();
    const prioritized = `${keys.waiting}:prioritized`;
    await redis.set(prioritized, 'x');
    // A job with a priority, due now: promoting it would write to the broken key.
    const urgent = JSON.stringify({ ...JSON.parse(good('urgent')), priority: 9 });
    await redis.zadd(keys.scheduled, Date.now() - 1_000, urgent);
    await redis.rpush(keys.waiting, good('w1'));
    const app = await apps.boot(options(logger), [JobLog, HostileWorker]);
    await expect.poll(() => logger.find(/WRONGTYPE/, 'warn').length).toBeGreaterThan(0);
    expect(await redis.zrange(keys.scheduled, '0', '-1')).toEqual([urgent]);
    expect(await redis.llen(keys.waiting)).toBe(1);

    await redis.del(prioritized);
    const log = app.get(JobLog);
    await log.untilCount(2, 'HostileWorker');
    expect(log.performed.map((p) => p.args[0]).sort()).toEqual(['urgent', 'w1']);
  });

  it('runs a prioritized job whose mark was lost, and drops a mark whose job was lost', async () => {
    const logger = new CaptureLogger();
    const orphan = JSON.stringify({ ...JSON.parse(good('orphan')), priority: 4 });
    await redis.zadd(`${keys.waiting}:prioritized`, 1, orphan);
    await redis.rpush(keys.waiting, '*', good('plain'), '*');
    const app = await apps.boot(options(logger), [JobLog, HostileWorker]);
    const log = app.get(JobLog);
    await log.untilCount(2, 'HostileWorker');
    expect(log.performed.map((p) => p.args[0]).sort()).toEqual(['orphan', 'plain']);
    await expect.poll(() => redis.llen(keys.waiting)).toBe(0);
    expect(await redis.exists(`${keys.waiting}:prioritized`)).toBe(0);
  });

  it('runs jobs once when the leases hash holds the wrong type, after it is fixed', async () => {
    const logger = new CaptureLogger();
    await redis.set(keys.leases, 'x');
    await redis.rpush(keys.waiting, good('l1'), good('l2'));
    const app = await apps.boot(options(logger), [JobLog, HostileWorker]);
    await expect.poll(() => logger.find(/WRONGTYPE/, 'warn').length).toBeGreaterThan(0);
    expect(await redis.llen(keys.waiting)).toBe(2);

    await redis.del(keys.leases);
    const log = app.get(JobLog);
    await log.untilCount(2, 'HostileWorker');
    // Lease ids a failed take left behind hold no payload: dropped, never run.
    await expect.poll(() => redis.zcard(keys.processing), { timeout: 5_000 }).toBe(0);
    expect(log.count('HostileWorker')).toBe(2);
  });

  it('sets deeply nested jobs aside verbatim with their reason, and keeps going', async () => {
    const logger = new CaptureLogger();
    const app = await apps.boot(options(logger), [JobLog, HostileWorker]);
    const deep = {
      // Not a job at all: a payload nested 6,000 levels (describing it overflows).
      notAJob: nested(6_000),
      // A job no worker here has: filed for retry, which re-encodes it.
      unknownWorker: `{"jid":"deep-unknown","queue":"hostile","class":"Nobody","args":${nested(6_000)},"retry_count":0,"enqueued_at":1}`,
      // A job naming a method that is not there: buried, which re-encodes it.
      noMethod: `{"jid":"deep-method","queue":"hostile","class":"HostileWorker","function":"gone","args":${nested(6_000)},"retry_count":0,"enqueued_at":1}`,
    };
    await redis.rpush(keys.waiting, ...Object.values(deep), good('after'));

    const log = app.get(JobLog);
    await log.untilCount(1, 'HostileWorker');
    await expect.poll(() => redis.zcard(keys.dead)).toBe(3);
    const dead = (await redis.zrange(keys.dead, '0', '-1')).map((m) => JSON.parse(m));
    expect(dead.map((d) => d.payload).sort()).toEqual(Object.values(deep).sort());
    for (const document of dead) expect(document.error_message).toEqual(expect.any(String));
    expect(dead.find((d) => d.jid === 'deep-unknown').error_message).toMatch(
      /no worker named "Nobody".*could not be written back/,
    );
    expect(await redis.zcard(keys.processing)).toBe(0);
    expect(await redis.hlen(keys.leases)).toBe(0);
  });

  it('runs a payload that is not valid UTF-8 once, and ends its lease', async () => {
    const logger = new CaptureLogger();
    const app = await apps.boot(options(logger), [JobLog, HostileWorker]);
    const payload = Buffer.concat([
      Buffer.from('{"jid":"utf8-1","queue":"hostile","class":"HostileWorker","args":["'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"],"retry_count":0,"enqueued_at":1}'),
    ]);
    await redis.rpush(keys.waiting, payload, good('after-utf8'));

    const log = app.get(JobLog);
    await log.untilCount(2, 'HostileWorker');
    await expect.poll(() => redis.zcard(keys.processing)).toBe(0);
    expect(await redis.hlen(keys.leases)).toBe(0);
    // Past the lease (1 s) and a recovery sweep: it did not come back.
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect(log.count('HostileWorker')).toBe(2);
  });

  it('never runs a payload over maxPayloadBytes: it is set aside at take', async () => {
    const logger = new CaptureLogger();
    const app = await apps.boot(options(logger, { maxPayloadBytes: 1_000 }), [
      JobLog,
      HostileWorker,
    ]);
    const dead = firstValueFrom(app.get(FlumeEvents).ofType('job:dead'));
    const large = rawJob({ queue: 'hostile', class: 'HostileWorker', args: ['x'.repeat(5_000)] });
    await redis.rpush(keys.waiting, large, good('small'));

    const log = app.get(JobLog);
    await log.untilCount(1, 'HostileWorker');
    expect((await dead).reason).toMatch(/over maxPayloadBytes/);
    const [document] = await redis.zrange(keys.dead, '0', '-1');
    expect(JSON.parse(document)).toMatchObject({
      queue: 'hostile',
      payload: large,
      error_message: expect.stringMatching(/is \d+ bytes, over maxPayloadBytes \(1000\)/),
    });
    expect(log.performed.map((p) => p.args[0])).toEqual(['small']);
    expect(logger.find(/over maxPayloadBytes/, 'error')).toHaveLength(1);
  });

  it('pauses a pipeline that is backing off after a failed take (no freeze)', async () => {
    const logger = new CaptureLogger();
    await redis.set(keys.processing, 'x');
    await redis.rpush(keys.waiting, good('p1'));
    const app = await apps.boot(options(logger), [JobLog, HostileWorker]);
    await expect.poll(() => logger.find(/WRONGTYPE/, 'warn').length).toBeGreaterThan(0);

    // Resolves once no take is in flight; it used to spin on the failed take forever.
    await app.get(FlumeProducer).pause('hostile_pipeline');
    expect(app.get(FlumeProducer).pipeline('hostile_pipeline').isPaused).toBe(true);
  });
});
