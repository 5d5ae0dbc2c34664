import type { Redis } from 'ioredis';
import { expect } from 'vitest';
import type { QueueKeys } from '../../../lib/engine/keys.js';
import { untilAll, type AppProcess } from './app-process.js';
import type { FixtureOverrides, Scenario } from './scenario.js';

/** The load both outage scenarios run under: an enqueue every 10 ms, jobs of 5 ms. */
const ENQUEUE_EVERY_MS = 10;
const JOB_MS = 5;
const CONCURRENCY = 20;

/**
 * Starts a worker and a producer with `flume` options and waits for a steady state
 * (200 enqueued, 100 done) before `what` (the outage) is injected.
 */
export async function startSteadyLoad(
  scenario: Scenario,
  flume: FixtureOverrides['flume'],
  what: string,
): Promise<{ worker: AppProcess; producer: AppProcess; both: AppProcess[] }> {
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
    `a steady state before ${what}`,
  );
  return { worker, producer, both };
}

/** What happened once Redis was back, for the figures and the asserts. */
export interface AfterOutage {
  /** From the end of the outage to the worker's first job start. */
  workerResumeMs: number;
  /** Ids of the enqueues that resolved. */
  resolved: Set<string>;
  /** From the end of the load to every resolved job done. */
  allDoneMs: number;
  exits: Awaited<AppProcess['exited']>[];
}

/**
 * Call right when an outage (restart, failover) has ended: waits for the worker and
 * the producer to resume and 200 more jobs to start, stops the load, waits until every
 * enqueue that resolved is done and Redis holds no waiting or leased job, then stops
 * both processes with SIGTERM.
 */
export async function resumeAndSettle(run: {
  worker: AppProcess;
  producer: AppProcess;
  /** Where the queue is now. */
  redis: Redis;
  keys: QueueKeys;
  endedAt: number;
  settleWithinMs: number;
  /** "the restart", "the failover": for the wait messages. */
  outage: string;
}): Promise<AfterOutage> {
  const { worker, producer, redis, keys } = run;
  const both = [worker, producer];
  worker.mark();
  const enqueuedAtEnd = producer.enqueued.length;
  await untilAll(
    both,
    () => worker.firstStartAfterMark !== undefined && producer.enqueued.length > enqueuedAtEnd,
    `the worker and the producer to resume after ${run.outage}`,
    15_000,
  );
  const workerResumeMs = worker.firstStartAfterMark! - run.endedAt;
  const startedAtResume = worker.startedCount;
  await untilAll(
    both,
    () => worker.startedCount >= startedAtResume + 200,
    `200 more jobs after ${run.outage}`,
  );

  producer.send({ type: 'stop-producing' });
  await producer.until(
    () => producer.produced !== undefined,
    'the producer to settle its enqueues',
  );
  const stoppedProducingAt = Date.now();
  const resolved = new Set(producer.enqueued);
  // Jobs leased to no one (a take whose reply was lost) come back after the
  // visibility timeout: the wait allows for it, and the figures count them.
  await worker.until(
    () => [...resolved].every((id) => worker.finished.has(id)),
    'every resolved enqueue to be done',
    run.settleWithinMs,
  );
  const allDoneMs = Date.now() - stoppedProducingAt;
  // Settled: nothing waiting and no lease left (acks in flight land, leases of jobs
  // that ran but whose ack was lost expire and run again).
  await expect
    .poll(async () => (await redis.zcard(keys.processing)) + (await redis.llen(keys.waiting)), {
      timeout: run.settleWithinMs,
      interval: 100,
    })
    .toBe(0);
  producer.kill('SIGTERM');
  worker.kill('SIGTERM');
  const exits = await Promise.all(both.map((p) => p.exited));
  return { workerResumeMs, resolved, allDoneMs, exits };
}
