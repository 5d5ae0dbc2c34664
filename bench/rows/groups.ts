import { redisCpuSeconds } from '../redis-stats.js';
import { rate } from '../stats.js';
import type { RowContext } from './context.js';
import { RowWorkers } from './workers.js';

/** Row 12's small groups, as issue 14 sets them: 100 groups of 10 jobs. */
export const SMALL_GROUPS = 100;
export const SMALL_GROUP_JOBS = 10;
/** Groups of row 12's grouped drain, jobs dealt to them in turn. */
export const DRAIN_GROUPS = 100;
/** groupConcurrency of row 12's capped drain: 100 groups x 2 > concurrency 100, so the cap rarely binds. */
export const DRAIN_GROUP_CONCURRENCY = 2;

/**
 * Row 12 (nestjs-flume only: BullMQ's open-source version has no job groups). Each
 * variant on an empty Redis, one worker process, one after the other in the same round
 * (the order alternates by round), so the ratios are side by side:
 *
 * - Fairness: one group of `groupsBig` waiting jobs, then 100 groups of 10 enqueued after
 *   it; a worker process (concurrency `groupsConcurrency`, 50) drains them all. Timed:
 *   from the first job's start to the start of the last job of the small groups. The same
 *   jobs without the `group` option for comparison (there the small jobs wait behind the
 *   big backlog).
 * - Throughput: N jobs at concurrency C (row 2's settings), ungrouped; dealt in turn to
 *   100 groups; and the same with groupConcurrency 2 (the take then counts each group's
 *   running jobs). Also redis-server's CPU per job over each drain, and the worker's.
 */
export async function groupRows(ctx: RowContext): Promise<void> {
  const forward = ctx.round % 2 === 1;
  const fairness = [true, false];
  for (const grouped of forward ? fairness : [...fairness].reverse()) {
    await fairnessRun(ctx, grouped);
  }
  const drains: DrainVariant[] = [
    { metric: 'groups_drain_ungrouped_jobs_per_s' },
    { metric: 'groups_drain_grouped_jobs_per_s', grouped: true },
    {
      metric: 'groups_drain_capped_jobs_per_s',
      grouped: true,
      groupConcurrency: DRAIN_GROUP_CONCURRENCY,
    },
  ];
  for (const variant of forward ? drains : [...drains].reverse()) await drainRun(ctx, variant);
}

async function fairnessRun(ctx: RowContext, grouped: boolean): Promise<void> {
  const { config, redis, lib } = ctx;
  const big = config.groupsBig;
  const jobs = big + SMALL_GROUPS * SMALL_GROUP_JOBS;
  await redis.flush();
  const namespace = ctx.namespace(grouped ? 'groups-fair' : 'groups-fair-ungrouped');
  const producer = await lib.open({ port: redis.port, namespace });
  try {
    const groupOf = (i: number) =>
      i < big ? 'big' : `small${Math.floor((i - big) / SMALL_GROUP_JOBS)}`;
    await producer.enqueueBulk(0, jobs, config.bulkChunk, grouped ? groupOf : undefined);
    const workers = new RowWorkers(ctx, namespace, {
      jobs,
      concurrency: config.groupsConcurrency,
      recordStarts: true,
      label: `${lib.name}-row12-fairness${grouped ? '' : '-ungrouped'}-r${ctx.round}`,
    });
    try {
      await workers.untilDone(producer);
      const run = await workers.stop();
      const starts = run.starts!;
      let lastSmall = -Infinity;
      for (let i = big; i < jobs; i++) lastSmall = Math.max(lastSmall, starts[i]);
      // How much of the backlog ran before the small groups were all served.
      let bigBefore = 0;
      for (let i = 0; i < big; i++) if (starts[i] < lastSmall) bigBefore++;
      const suffix = grouped ? '' : '_ungrouped';
      ctx.record(`groups_fair${suffix}_last_small_start_ms`, lastSmall - run.firstAt);
      ctx.record(`groups_fair${suffix}_big_started_before`, bigBefore);
    } finally {
      workers.kill();
    }
  } finally {
    await producer.close();
  }
}

interface DrainVariant {
  metric: string;
  grouped?: boolean;
  groupConcurrency?: number;
}

async function drainRun(ctx: RowContext, variant: DrainVariant): Promise<void> {
  const { config, redis, lib } = ctx;
  const n = config.n;
  await redis.flush();
  const namespace = ctx.namespace(variant.metric);
  const producer = await lib.open({ port: redis.port, namespace });
  try {
    const groupOf = (i: number) => `g${i % DRAIN_GROUPS}`;
    await producer.enqueueBulk(0, n, config.bulkChunk, variant.grouped ? groupOf : undefined);
    const cpuBefore = await redisCpuSeconds(redis.admin);
    const workers = new RowWorkers(ctx, namespace, {
      jobs: n,
      groupConcurrency: variant.groupConcurrency,
      label: `${lib.name}-row12-${variant.metric}-r${ctx.round}`,
    });
    try {
      await workers.untilDone(producer);
      const redisUs = ((await redisCpuSeconds(redis.admin)) - cpuBefore) * 1e6;
      const run = await workers.stop();
      ctx.record(variant.metric, rate(n - 1, run.lastAt - run.firstAt));
      ctx.record(variant.metric.replace('jobs_per_s', 'redis_cpu_us_per_job'), redisUs / n);
      ctx.record(variant.metric.replace('jobs_per_s', 'cpu_us_per_job'), run.cpuUs / n);
    } finally {
      workers.kill();
    }
  } finally {
    await producer.close();
  }
}
