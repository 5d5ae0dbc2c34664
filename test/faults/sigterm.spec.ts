import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../lib/engine/keys.js';
import { FAULT_QUEUE } from './fixtures/fixture-config.js';
import { jobIdOf, readRuns } from './support/accounting.js';
import { faultJobs, ProducerApp } from './support/producer-app.js';
import { report } from './support/report.js';
import { Scenario } from './support/scenario.js';

// Scenario 2 of issue 5, at full size: 20 jobs of 60 s in flight, shutdownTimeout 2 s.
const LONG_JOBS = 20;
const LONG_JOB_MS = 60_000;
const SHUTDOWN_TIMEOUT = 2_000;
/** Jobs enqueued once the process has the signal: it must not fetch them. */
const LATE_JOBS = 5;
/** More slots than long jobs, so the pipeline could fetch the late jobs if it were still fetching. */
const CONCURRENCY = 30;

describe('fault: SIGTERM with long jobs in flight', () => {
  const scenario = new Scenario('sigterm');
  afterAll(() => scenario.dispose());

  it('exits within shutdownTimeout + 3 s and hands every running job back to the queue once, unchanged', async () => {
    const redis = scenario.inspector();
    const keys = queueKeys(scenario.namespace, FAULT_QUEUE);
    const producer = await ProducerApp.open(scenario.url, scenario.namespace);
    await producer.enqueue(faultJobs(LONG_JOBS, LONG_JOB_MS));
    const enqueued = await redis.lrange(keys.waiting, 0, -1);

    const worker = await scenario.spawn('worker', {
      maxDemand: CONCURRENCY,
      flume: { shutdownTimeout: SHUTDOWN_TIMEOUT, visibilityTimeout: 30_000 },
    });
    await worker.until(() => worker.startedCount === LONG_JOBS, `${LONG_JOBS} started jobs`);
    const leaseSeqBefore = await redis.get(keys.leaseSeq);
    expect(await redis.zcard(keys.processing)).toBe(LONG_JOBS);

    const signalledAt = worker.kill('SIGTERM');
    await worker.until(() => worker.closingAt !== undefined, 'the process to take the signal');
    const late = faultJobs(LATE_JOBS, 0, () => 'ok', 'late');
    await producer.enqueue(late);
    const lateEnqueuedAt = Date.now();
    const exit = await worker.exited;
    await producer.close();

    const exitMs = exit.at - signalledAt;
    const waiting = await redis.lrange(keys.waiting, 0, -1);
    const handedBack = waiting.filter((p) => !jobIdOf(p).startsWith('late'));
    report('SIGTERM with long jobs', {
      jobsInFlight: LONG_JOBS,
      jobMs: LONG_JOB_MS,
      shutdownTimeoutMs: SHUTDOWN_TIMEOUT,
      closeMs: worker.closed?.closeMs ?? -1,
      exitMs,
      handedBack: handedBack.length,
      startedAfterSignal: worker.startedCount - LONG_JOBS,
      lateJobsEnqueuedMsBeforeExit: exit.at - lateEnqueuedAt,
    });
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(worker.closed).toBeDefined();
    expect(exitMs).toBeLessThanOrEqual(SHUTDOWN_TIMEOUT + 3_000);
    // Back exactly once each, byte for byte as enqueued: no retry used up, no error recorded.
    expect([...handedBack].sort()).toEqual([...enqueued].sort());
    expect(handedBack.map((p) => JSON.parse(p).retry_count)).toEqual(Array(LONG_JOBS).fill(0));
    // Handed back to the head, ahead of the jobs enqueued after the signal.
    expect(waiting.slice(0, LONG_JOBS)).toEqual(handedBack);
    expect(waiting.slice(LONG_JOBS).map(jobIdOf)).toEqual(late.map((j) => j.id));
    expect(await redis.zcard(keys.processing)).toBe(0);
    expect(await redis.zcard(keys.retry)).toBe(0);
    expect(await redis.zcard(keys.dead)).toBe(0);
    // Nothing fetched after the signal: no lease was handed out, no job started.
    expect(await redis.get(keys.leaseSeq)).toBe(leaseSeqBefore);
    expect(worker.startedCount).toBe(LONG_JOBS);
    expect((await readRuns(redis, scenario.marks)).size).toBe(0);
  }, 60_000);
});
