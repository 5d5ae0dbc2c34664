import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../lib/engine/keys.js';
import { FAULT_QUEUE } from './fixtures/fixture-config.js';
import { jobIdOf, readRuns } from './support/accounting.js';
import { untilAll } from './support/app-process.js';
import { rejectionWindow, report } from './support/report.js';
import { Scenario } from './support/scenario.js';

// Scenario 3 of issue 5: a steady enqueue load (one job every 10 ms from a producer
// app), a worker app, and Redis (own redis-server, AOF on) stopped for 5 s and
// started again on the same port and files.
const OUTAGE_MS = 5_000;
const ENQUEUE_EVERY_MS = 10;
const JOB_MS = 5;
const CONCURRENCY = 20;
/** Longer than the outage: leases of jobs waiting on Redis must not expire meanwhile. */
const VISIBILITY_TIMEOUT = 15_000;
/** How long an enqueue waits for Redis before it rejects. */
const COMMAND_TIMEOUT = 1_000;
const RESUME_WITHIN_MS = 5_000;

describe('fault: Redis stopped for 5 s and restarted under enqueue load', () => {
  const scenario = new Scenario('redis-restart');
  afterAll(() => scenario.dispose());

  it('every enqueue resolves (and its job is done) or rejects; workers resume without a restart; nothing crashes', async () => {
    const server = await scenario.ownRedis({ aof: true });
    const redis = scenario.inspector();
    const keys = queueKeys(scenario.namespace, FAULT_QUEUE);
    const flume = { visibilityTimeout: VISIBILITY_TIMEOUT, commandTimeout: COMMAND_TIMEOUT };
    const worker = await scenario.spawn('worker', { maxDemand: CONCURRENCY, flume });
    const producer = await scenario.spawn('producer', {
      maxDemand: 0,
      flume,
      produce: { intervalMs: ENQUEUE_EVERY_MS, jobMs: JOB_MS },
    });
    const both = [worker, producer];
    await untilAll(
      both,
      () => producer.enqueued.length >= 200 && worker.finishedCount >= 100,
      'a steady state before the outage',
    );

    const enqueuedBefore = producer.enqueued.length;
    const stoppedAt = Date.now();
    await server.stop('SIGTERM');
    await sleep(OUTAGE_MS); // The outage itself: the fault being injected, not a wait for an event.
    await server.start();
    const restartedAt = Date.now();
    worker.mark();
    const enqueuedAtRestart = producer.enqueued.length;
    await untilAll(
      both,
      () =>
        worker.firstStartAfterMark !== undefined && producer.enqueued.length > enqueuedAtRestart,
      'the worker and the producer to resume',
      15_000,
    );
    const workerResumeMs = worker.firstStartAfterMark! - restartedAt;
    const startedAtRestart = worker.startedCount;
    await untilAll(
      both,
      () => worker.startedCount >= startedAtRestart + 200,
      '200 more jobs after the restart',
    );

    producer.send({ type: 'stop-producing' });
    await producer.until(
      () => producer.produced !== undefined,
      'the producer to settle its enqueues',
    );
    const resolved = new Set(producer.enqueued);
    await worker.until(
      () => [...resolved].every((id) => worker.finished.has(id)),
      'every resolved enqueue to be done',
      30_000,
    );
    // An ack sent as Redis went down may be lost: that lease comes back after the
    // visibility timeout and its job runs again. Wait for those to settle too.
    const stranded = (await redis.zrange(keys.processing, 0, -1)).map(jobIdOf);
    const finishedSoFar = new Map(worker.finished);
    await worker.until(
      () => stranded.every((id) => (worker.finished.get(id) ?? 0) > (finishedSoFar.get(id) ?? 0)),
      `${stranded.length} stranded lease(s) to be recovered and run`,
      VISIBILITY_TIMEOUT + 10_000,
    );
    producer.kill('SIGTERM');
    worker.kill('SIGTERM');
    const exits = await Promise.all(both.map((p) => p.exited));

    const runs = await readRuns(redis, scenario.marks);
    const rejected = producer.rejected;
    const unknownOutcome = [...runs.keys()].filter(
      (id) => !resolved.has(id) && !rejected.some((r) => r.id === id),
    );
    const duplicates = [...runs.entries()].filter(([, n]) => n > 1).map(([id]) => id);
    report('Redis restart (AOF) under enqueue load', {
      outageMs: OUTAGE_MS,
      downMs: restartedAt - stoppedAt,
      enqueued: resolved.size,
      enqueuedBeforeOutage: enqueuedBefore,
      rejected: rejected.length,
      rejectedButStored: rejected.filter((r) => runs.has(r.id)).length,
      done: [...resolved].filter((id) => runs.has(id)).length,
      rejectedForMs: rejectionWindow(producer.rejected),
      firstRejection: JSON.stringify(producer.rejected[0]?.error.slice(0, 160) ?? ''),
      duplicates: duplicates.length,
      strandedAcks: stranded.length,
      workerResumeMs,
      producerLogs: producer.logs.length,
    });
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    for (const p of both) p.assertNoCrash();
    expect([...resolved].filter((id) => !runs.has(id))).toEqual([]);
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect(r.error).toMatch(/^FlumeConnectionError: /);
    expect(unknownOutcome).toEqual([]);
    expect(workerResumeMs).toBeLessThanOrEqual(RESUME_WITHIN_MS);
    expect(duplicates.filter((id) => !stranded.includes(id))).toEqual([]);
    expect(await redis.zcard(keys.processing)).toBe(0);
    expect(await redis.llen(keys.waiting)).toBe(0);
    expect(await redis.zcard(keys.retry)).toBe(0);
    expect(await redis.zcard(keys.dead)).toBe(0);
  }, 90_000);
});
