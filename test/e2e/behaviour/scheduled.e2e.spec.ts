import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlumeClient, Handler, Worker, type FlumeModuleOptions } from '../../../lib/index.js';
import { Apps } from '../../support/apps.js';
import { CaptureLogger } from '../../support/capture-logger.js';
import { JobLog } from '../../support/job-log.js';
import { keysOf, testConnection, uniqueNamespace } from '../../support/redis.js';
import { testStore, type TestStore } from '../../support/store.js';

@Worker('later')
class LaterWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('LaterWorker', [tag]);
  }

  @Handler()
  remind(tag: string): void {
    this.log.record('LaterWorker.remind', [tag]);
  }
}

/** Scheduler slack allowed past the due time: one poll interval (1 s, the default) and then some. */
const LATE_BOUND_MS = 1_500;

describe('scheduled jobs (enqueueIn / enqueueAt)', () => {
  const namespace = uniqueNamespace('scheduled');
  const keys = keysOf(namespace, 'later');
  const apps = new Apps();
  const options: FlumeModuleOptions = {
    connection: testConnection(),
    namespace,
    pipelines: [{ name: 'later_pipeline', queue: 'later', maxDemand: 20 }],
    logger: new CaptureLogger(),
  };
  let app: INestApplicationContext;
  let client: FlumeClient;
  let log: JobLog;
  let store: TestStore;

  beforeAll(async () => {
    store = testStore();
    app = await apps.boot(options, [JobLog, LaterWorker]);
    client = app.get(FlumeClient);
    log = app.get(JobLog);
  });

  afterAll(async () => {
    await apps.closeAll();
    await store.deleteNamespace(namespace);
    store.close();
  });

  function startOf(tag: string): number {
    const found = log.performed.find((p) => p.args[0] === tag);
    if (!found) throw new Error(`${tag} did not run`);
    return found.at;
  }

  it('enqueueIn: waits in the scheduled set until due, then runs within a second', async () => {
    const before = Date.now();
    const jid = await client.enqueueIn('later', 800, LaterWorker, ['in-800']);
    const after = Date.now();

    const [member, score] = await store.zrange(keys.scheduled, '0', '-1', 'WITHSCORES');
    expect(JSON.parse(member)).toMatchObject({ jid, class: 'LaterWorker', args: ['in-800'] });
    expect(Number(score)).toBeGreaterThanOrEqual(before + 800);
    expect(Number(score)).toBeLessThanOrEqual(after + 800);
    expect(await store.llen(keys.waiting)).toBe(0);

    await log.until(() => log.count('LaterWorker') >= 1, 'the scheduled job', 5_000);
    const started = startOf('in-800');
    expect(started).toBeGreaterThanOrEqual(before + 800);
    expect(started - (after + 800)).toBeLessThan(LATE_BOUND_MS);
    expect(await store.zcard(keys.scheduled)).toBe(0);
  });

  it('enqueueAt: a named method of a worker given by name runs at its time, not before', async () => {
    const at = new Date(Date.now() + 700);
    await client.enqueueAt('later', at, 'LaterWorker', 'remind', ['at-700']);
    await log.untilCount(1, 'LaterWorker.remind', 5_000);
    const started = startOf('at-700');
    expect(started).toBeGreaterThanOrEqual(at.getTime());
    expect(started - at.getTime()).toBeLessThan(LATE_BOUND_MS);
  });

  it('enqueueAt with a date in the past runs at once', async () => {
    const enqueued = Date.now();
    await client.enqueueAt('later', new Date(enqueued - 60_000), LaterWorker, ['past']);
    await log.until(() => log.performed.some((p) => p.args[0] === 'past'), 'the past job', 5_000);
    // "At once": well before the scheduler's next poll would have picked it up.
    expect(startOf('past') - enqueued).toBeLessThan(500);
  });

  it('enqueueIn with 0 ms runs at once', async () => {
    const enqueued = Date.now();
    await client.enqueueIn('later', 0, LaterWorker, ['now']);
    await log.until(() => log.performed.some((p) => p.args[0] === 'now'), 'the 0 ms job', 5_000);
    expect(startOf('now') - enqueued).toBeLessThan(500);
  });

  it('moves each due job exactly once with several app instances running', async () => {
    // The second instance records into the first one's log, so one wait sees both.
    const second = await apps.boot(options, [{ provide: JobLog, useValue: log }, LaterWorker]);
    const tags = Array.from({ length: 40 }, (_, i) => `multi-${i}`);
    const dueIn = 400;
    await Promise.all(tags.map((tag) => client.enqueueIn('later', dueIn, LaterWorker, [tag])));
    const ran = () =>
      log.performed.map((p) => p.args[0] as string).filter((tag) => tag.startsWith('multi-'));
    await log.until(() => ran().length >= tags.length, 'the 40 scheduled jobs', 5_000);
    // Both instances promote; none of the jobs may run twice.
    await expect.poll(() => store.zcard(keys.processing)).toBe(0);
    expect(await store.llen(keys.waiting)).toBe(0);
    expect(await store.zcard(keys.scheduled)).toBe(0);
    expect(ran().sort()).toEqual([...tags].sort());
    await apps.close(second);
  });

  it('refuses a negative delay or an invalid date', async () => {
    await expect(client.enqueueIn('later', -1, LaterWorker, ['x'])).rejects.toThrow(
      /enqueueIn: expected delayMs to be a non-negative number of ms, got: -1/,
    );
    await expect(client.enqueueIn('later', NaN, LaterWorker, ['x'])).rejects.toThrow(/got: NaN/);
    await expect(client.enqueueAt('later', new Date('nope'), LaterWorker, ['x'])).rejects.toThrow(
      /enqueueAt: expected a valid Date, got: Invalid Date/,
    );
    await expect(
      client.enqueueAt('later', Date.now() as unknown as Date, LaterWorker, ['x']),
    ).rejects.toThrow(/enqueueAt: expected a valid Date/);
    expect(await store.zcard(keys.scheduled)).toBe(0);
  });
});
