import { Cron } from 'croner';
import { FlumeConfigError } from './errors/index.js';
import type { UniqueOptions } from './unique.js';

/** What happens to ticks missed while every instance was down. */
export type MissedTicks = 'skip' | 'run-once';

/** A periodic job as declared (module option or `@Periodic`), its worker known by name. */
export interface PeriodicDeclaration {
  /** Unique among the app's periodic jobs. Default: `<worker>.<method> <cron>`. */
  name?: string;
  /** Cron pattern: 5 fields (minute precision) or 6 (seconds first). */
  cron: string;
  /** IANA time zone the pattern is read in (e.g. 'Europe/Berlin'). Default: UTC. */
  tz?: string;
  /** The worker's registered name. */
  worker: string;
  /** Handler method; default: the worker's. */
  method?: string;
  /** The job's args at every tick. Default []. */
  args?: unknown[];
  /** The job's `context` at every tick. */
  context?: Record<string, unknown>;
  /** Makes each tick's job unique (see EnqueueOptions.unique): no pile-up when runs are slow. */
  unique?: true | UniqueOptions;
  /**
   * Ticks missed while every instance was down: `'skip'` (default) or `'run-once'` (the
   * latest missed tick runs once when an instance starts).
   */
  missed?: MissedTicks;
}

/** A periodic job ready to schedule. */
export interface PeriodicJob {
  name: string;
  cron: string;
  tz: string;
  queue: string;
  worker: string;
  method?: string;
  args: unknown[];
  context?: Record<string, unknown>;
  unique?: true | UniqueOptions;
  missed: MissedTicks;
  /** Computes ticks; never runs anything itself. */
  schedule: Cron;
}

/** Checks a declaration and completes it; throws a FlumeConfigError saying what is wrong. */
export function definePeriodic(declaration: PeriodicDeclaration, queue: string): PeriodicJob {
  const { cron, worker, method } = declaration;
  const where = `periodic job ${declaration.name ? `"${declaration.name}"` : `of ${worker}`}`;
  if (typeof cron !== 'string' || cron.trim() === '') {
    throw new FlumeConfigError(`${where}: "cron" must be a cron pattern, got: ${String(cron)}`);
  }
  const tz = declaration.tz ?? 'UTC';
  let schedule: Cron;
  try {
    schedule = new Cron(cron, { timezone: tz, paused: true });
    // A bad time zone only shows when a time is computed.
    schedule.nextRun();
  } catch (err) {
    throw new FlumeConfigError(
      `${where}: cron "${cron}" with tz "${tz}" is not valid: ${(err as Error).message}`,
    );
  }
  const missed = declaration.missed ?? 'skip';
  if (missed !== 'skip' && missed !== 'run-once') {
    throw new FlumeConfigError(`${where}: "missed" must be 'skip' or 'run-once', got: ${missed}`);
  }
  if (declaration.args !== undefined && !Array.isArray(declaration.args)) {
    throw new FlumeConfigError(`${where}: "args" must be an array`);
  }
  return {
    name: declaration.name ?? `${worker}.${method ?? 'default'} ${cron}`,
    cron,
    tz,
    queue,
    worker,
    method,
    args: declaration.args ?? [],
    context: declaration.context,
    unique: declaration.unique,
    missed,
    schedule,
  };
}

/** The first tick after `after` (ms), or undefined when the pattern has no more. */
export function nextTick(job: PeriodicJob, after: number): number | undefined {
  return job.schedule.nextRun(new Date(after))?.getTime();
}

/** The latest tick at or before `at` (ms), if any. */
export function latestTick(job: PeriodicJob, at: number): number | undefined {
  // previousRuns looks strictly before its reference, to the second: ask from a second
  // later and keep the first tick not after `at`.
  return job.schedule
    .previousRuns(2, new Date(at + 1000))
    .map((tick) => tick.getTime())
    .find((tick) => tick <= at);
}
