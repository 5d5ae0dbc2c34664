import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../lib/engine/keys.js';
import { FAULT_QUEUE } from './fixtures/fixture-config.js';
import { account, jobIdOf } from './support/accounting.js';
import type { AppProcess } from './support/app-process.js';
import { faultJobs, ProducerApp } from './support/producer-app.js';
import { report } from './support/report.js';
import { Scenario } from './support/scenario.js';

// Scenario 4 of issue 5: bad input on a queue that keeps serving good jobs.

/** A job as an enqueuer that is not this library (or a bug) might store it. */
function rawJob(fields: Record<string, unknown>): string {
  return JSON.stringify({
    jid: `raw-${Math.random().toString(36).slice(2)}`,
    queue: FAULT_QUEUE,
    class: 'FaultWorker',
    args: ['raw', 0, 'ok'],
    retry_count: 0,
    enqueued_at: Date.now() / 1000,
    ...fields,
  });
}

const MALFORMED: { what: string; payload: string; reason: RegExp }[] = [
  { what: 'invalid JSON', payload: '{"jid": "broken", "class": ', reason: /not valid JSON/ },
  { what: 'JSON that is not an object', payload: '[1, 2, 3]', reason: /not a JSON object/ },
  {
    what: 'an unknown handler method',
    payload: rawJob({ function: 'noSuchMethod' }),
    reason: /has no handler "noSuchMethod"/,
  },
  {
    what: 'args that are not an array',
    payload: rawJob({ args: { id: 'x' } }),
    reason: /"args" must be an array/,
  },
];

describe('fault: poison and malformed jobs', () => {
  const scenario = new Scenario('poison');
  afterAll(() => scenario.dispose());

  it('buries malformed jobs with the reason while the good jobs around them run once each', async () => {
    const redis = scenario.inspector();
    const keys = queueKeys(scenario.namespace, FAULT_QUEUE);
    const producer = await ProducerApp.open(scenario.url, scenario.namespace);
    const before = faultJobs(50, 10, () => 'ok', 'before');
    const after = faultJobs(50, 10, () => 'ok', 'after');
    await producer.enqueue(before);
    // A worker this process does not know (a rolling deploy): retried, not buried.
    const unknownWorker = rawJob({ class: 'NoSuchWorker' });
    await redis.rpush(keys.waiting, ...MALFORMED.map((m) => m.payload), unknownWorker);
    await producer.enqueue(after);
    await producer.close();

    const worker = await scenario.spawn('worker', { maxDemand: 10 });
    const good = [...before, ...after].map((j) => j.id);
    await worker.until(
      () =>
        good.every((id) => worker.finished.has(id)) &&
        worker.logsMatching(/cannot run/, 'error').length >= MALFORMED.length &&
        worker.logsMatching(/no worker named "NoSuchWorker"/, 'warn').length >= 1,
      'the good jobs to run and the malformed ones to be buried',
    );
    worker.kill('SIGTERM'); // A clean close waits for the burials in flight.
    expect((await worker.exited).code).toBe(0);

    const dead = await redis.zrange(keys.dead, '0', '-1');
    const result = await account(redis, scenario.marks, good);
    report('malformed jobs', {
      goodJobs: good.length,
      done: result.done,
      duplicates: result.duplicates.length,
      malformed: MALFORMED.length,
      dead: dead.length,
    });
    expect(result).toMatchObject({
      done: good.length,
      missing: [],
      duplicates: [],
      unexpected: [],
    });
    expect(dead).toHaveLength(MALFORMED.length);
    for (const { what, payload, reason } of MALFORMED) {
      const entry = dead
        .map((d) => JSON.parse(d))
        .find((d) => d.payload === payload || (d.jid && payload.includes(d.jid)));
      expect(entry, what).toBeDefined();
      expect(entry.error_message, what).toMatch(reason);
    }
    expect(await redis.llen(keys.waiting)).toBe(0);
    expect(await redis.zcard(keys.processing)).toBe(0);
    const [retrying] = await redis.zrange(keys.retry, '0', '-1');
    expect(JSON.parse(retrying)).toMatchObject({ class: 'NoSuchWorker', retry_count: 1 });
    expect(JSON.parse(retrying).error_message).toMatch(/no worker named "NoSuchWorker"/);
    // The job retries for a worker no process has: gone, or the poison runs below (same
    // queue) would meet it in the queue when its retry comes due during their checks.
    await redis.del(keys.retry);
  });

  it('refuses a payload over maxPayloadBytes at enqueue, storing nothing', async () => {
    const redis = scenario.inspector();
    const keys = queueKeys(scenario.namespace, 'oversize');
    const producer = await ProducerApp.open(scenario.url, scenario.namespace, {
      maxPayloadBytes: 1_024,
    });
    try {
      const big = 'x'.repeat(2_000);
      await expect(
        producer.client.enqueue('oversize', 'FaultWorker', [big, 0, 'ok']),
      ).rejects.toThrow(/over maxPayloadBytes \(1024\)/);
      await expect(
        producer.client.bulkEnqueue('oversize', [
          { worker: 'FaultWorker', args: ['small', 0, 'ok'] },
          { worker: 'FaultWorker', args: [big, 0, 'ok'] },
        ]),
      ).rejects.toMatchObject({ name: 'FlumePayloadError' });
      expect(await redis.exists(keys.waiting)).toBe(0);
      await producer.client.enqueue('oversize', 'FaultWorker', ['small', 0, 'ok']);
      expect(await redis.llen(keys.waiting)).toBe(1);
    } finally {
      await producer.close();
    }
  });

  describe('a job that kills its process every time it runs', () => {
    const MAX_RECOVERIES = 3;
    const VISIBILITY_TIMEOUT = 1_000;

    /**
     * Keeps one worker process up, as a process manager would: each time the poison
     * job kills it, a new one starts. Resolves once a process reports the burial.
     */
    async function supervise(concurrency: number): Promise<{ crashes: number; last: AppProcess }> {
      let crashes = 0;
      for (;;) {
        const worker = await scenario.spawn(`worker-${crashes + 1}`, {
          maxDemand: concurrency,
          flume: { visibilityTimeout: VISIBILITY_TIMEOUT, maxRecoveries: MAX_RECOVERIES },
        });
        worker.allowExit();
        const buried = worker.until(
          () => worker.logsMatching(/lost their worker more than/, 'error').length > 0,
          'the poison job to be buried',
          30_000,
        );
        // The wait for the burial fails when the process dies: that is the crash case.
        const outcome = await buried.then(
          () => 'buried' as const,
          async (err: Error) => {
            if (!worker.exit) throw err;
            return 'crashed' as const;
          },
        );
        if (outcome === 'buried') return { crashes, last: worker };
        crashes++;
        if (crashes > MAX_RECOVERIES + 2)
          throw new Error(`the poison job killed ${crashes} processes`);
      }
    }

    async function run(label: string, concurrency: number) {
      const redis = scenario.inspector();
      const keys = queueKeys(scenario.namespace, FAULT_QUEUE);
      await redis.del(keys.dead);
      const producer = await ProducerApp.open(scenario.url, scenario.namespace);
      const goodBefore = faultJobs(30, 20, () => 'ok', `${label}-before`);
      const goodAfter = faultJobs(70, 20, () => 'ok', `${label}-after`);
      await producer.enqueue(goodBefore);
      await producer.enqueue([{ id: `${label}-poison`, ms: 0, mode: 'crash' }]);
      await producer.enqueue(goodAfter);
      await producer.close();

      const { crashes, last } = await supervise(concurrency);
      const good = [...goodBefore, ...goodAfter].map((j) => j.id);
      // The burial is written before it is logged: the dead set is complete here.
      const deadIds = new Set(
        (await redis.zrange(keys.dead, '0', '-1')).map((d) => JSON.parse(d).args?.[0] as string),
      );
      const { missing } = await account(redis, scenario.marks, good);
      const left = missing.filter((id) => !deadIds.has(id));
      await last.until(
        () => left.every((id) => last.finished.has(id)),
        `the ${left.length} good jobs left to run`,
        30_000,
      );
      last.kill('SIGTERM');
      expect((await last.exited).code).toBe(0);
      const dead = (await redis.zrange(keys.dead, '0', '-1')).map((d) => JSON.parse(d));
      const final = await account(redis, scenario.marks, good);
      report(`poison job (kills its process), concurrency ${concurrency}`, {
        goodJobs: good.length,
        done: final.done,
        duplicates: final.duplicates.length,
        processesKilled: crashes,
        dead: dead.length,
        deadIds: dead.map((d) => d.args?.[0]).join(','),
      });
      expect(crashes).toBe(MAX_RECOVERIES + 1);
      expect(dead.map((d) => d.args[0])).toEqual([`${label}-poison`]);
      expect(dead[0].error_message).toMatch(/its worker stopped while running it 4 times/);
      expect(final.missing).toEqual([]);
      expect(await redis.llen(keys.waiting)).toBe(0);
      expect(await redis.zcard(keys.processing)).toBe(0);
    }

    it('runs alone (concurrency 1): it goes to the dead set after maxRecoveries, the other jobs all run', async () => {
      await run('solo', 1);
    }, 60_000);

    // The jobs taken with it are recovered with it; a recovered job then runs alone
    // (pipeline-runner.ts, isolateSuspect), so only the poison job reaches maxRecoveries.
    it('runs beside other jobs (concurrency 5): only it goes to the dead set', async () => {
      await run('shared', 5);
    }, 60_000);
  });
});
