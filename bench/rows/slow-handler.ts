import { performance } from 'node:perf_hooks';
import { sleep } from '../libs/sleep.js';
import { rate } from '../stats.js';
import type { RowContext } from './context.js';
import { timedDrain } from './workers.js';

/**
 * Row 10: a worker process (concurrency `slowConcurrency`) drains `slowN` waiting jobs
 * whose handler awaits a `slowMs` timer. The bound is concurrency / slowMs jobs per
 * second (50,000 at 50 and 1 ms); what a library loses to it is its own cost between a
 * job's end and the next job's start. For reference, the same number of lanes each
 * awaiting the same timer in a loop, with no queue at all: what Node's timers allow.
 * nestjs-flume runs it twice: with its defaults, and with `prefetch` equal to the
 * concurrency (its documented setting for short jobs).
 */
export async function slowHandler(ctx: RowContext): Promise<void> {
  const { config, redis, lib } = ctx;
  await redis.flush();
  ctx.record(
    'slow_handler_no_queue_jobs_per_s',
    await noQueue(config.slowConcurrency, config.slowMs, config.slowN),
  );
  await slowRun(ctx, 0);
  if (lib.name === 'flume') await slowRun(ctx, config.slowConcurrency);
}

/** One drain of row 10; `prefetch` > 0 records under `slow_handler_prefetch_*`. */
async function slowRun(ctx: RowContext, prefetch: number): Promise<void> {
  const { config, lib } = ctx;
  const n = config.slowN;
  const run = await timedDrain(ctx, 'slow', {
    jobs: n,
    concurrency: config.slowConcurrency,
    handlerMs: config.slowMs,
    prefetch,
    label: `${lib.name}-row10-slow-handler${prefetch ? '-prefetch' : ''}-r${ctx.round}`,
  });
  const jobsPerS = rate(n - 1, run.lastAt - run.firstAt);
  const bound = (config.slowConcurrency * 1000) / config.slowMs;
  const metric = prefetch ? 'slow_handler_prefetch' : 'slow_handler';
  ctx.record(`${metric}_jobs_per_s`, jobsPerS);
  ctx.record(`${metric}_pct_of_bound`, (jobsPerS / bound) * 100);
}

/** `lanes` loops each awaiting `ms` timers until `n` timers ran: no queue, no Redis. */
async function noQueue(lanes: number, ms: number, n: number): Promise<number> {
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (done < n) {
        await sleep(ms);
        done++;
      }
    }),
  );
  return rate(done, performance.now() - start);
}
