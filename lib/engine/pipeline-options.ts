import { DEFAULTS } from './defaults.js';
import { FlumeConfigError } from './errors/index.js';
import { keyNameProblem } from './keys.js';
import { integerAtLeast, isBoolean, option, rejectUnknown } from './option-checks.js';
import { describe } from './payload.js';

/** One pipeline: a dequeue loop over one Redis queue. */
export interface FlumePipelineOptions {
  /** Unique name, used by `@InjectPipeline(name)` and pause/resume. */
  name: string;
  /** Redis queue the pipeline consumes. */
  queue: string;
  /** Most jobs of this pipeline running at once in this process. Default 500. */
  maxDemand?: number;
  /**
   * Jobs leased ahead of free slots, at most this many (default 0: a pipeline leases only
   * what it can start). A prefetched job waits in this process and starts the moment a
   * slot frees, without a round trip to Redis: for short jobs this hides the take's
   * latency. It holds its lease meanwhile (kept alive like a running job's, handed back
   * at pause and shutdown, recovered if the process dies) and counts against
   * `groupConcurrency` and `globalConcurrency`. Cannot be combined with a rate limit
   * (`rateLimitCount`, `groupRateLimitCount`), which counts a job when it is taken.
   */
  prefetch?: number;
  /** With `rateLimitScale`: at most this many jobs start in any window, across all instances. */
  rateLimitCount?: number;
  /** Window of the rate limit, ms. */
  rateLimitScale?: number;
  /** Pipelines with the same key share one rate limit. Default: the queue name. */
  rateLimitKey?: string;
  /**
   * Most jobs of one group (see the enqueue option `group`) running at once, across every
   * instance that runs the queue. Default: no limit.
   */
  groupConcurrency?: number;
  /** With `groupRateLimitScale`: at most this many jobs of one group start in any window. */
  groupRateLimitCount?: number;
  /** Window of the per-group rate limit, ms. */
  groupRateLimitScale?: number;
  /**
   * Most jobs of the queue running at once across every instance, however many run its
   * pipeline (`maxDemand` bounds one process). Default: no limit.
   */
  globalConcurrency?: number;
  /** Hands every worker of this pipeline arrays of up to this many jobs' args (see @Batch). */
  batchSize?: number;
  /** Publish events for this pipeline (see FLUME_CHANNELS). Default: the module's `instrument`. */
  instrument?: boolean;
}

/** A pipeline with every default applied. */
export interface ResolvedPipeline {
  name: string;
  queue: string;
  maxDemand: number;
  /** Jobs leased ahead of free slots (0: none). */
  prefetch: number;
  rateLimit?: { count: number; scaleMs: number; key: string };
  /** The group limits (0: none); undefined when the pipeline sets none. */
  groups?: { concurrency: number; rateCount: number; rateWindowMs: number };
  globalConcurrency?: number;
  batchSize?: number;
  instrument: boolean;
}

const PIPELINE_OPTIONS = [
  'name',
  'queue',
  'maxDemand',
  'prefetch',
  'rateLimitCount',
  'rateLimitScale',
  'rateLimitKey',
  'groupConcurrency',
  'groupRateLimitCount',
  'groupRateLimitScale',
  'globalConcurrency',
  'batchSize',
  'instrument',
];

function resolveRateLimit(
  owner: string,
  queue: string,
  raw: Record<string, unknown>,
): ResolvedPipeline['rateLimit'] {
  const { rateLimitCount, rateLimitScale, rateLimitKey } = raw;
  if (rateLimitCount === undefined && rateLimitScale === undefined) {
    if (rateLimitKey !== undefined) {
      throw new FlumeConfigError(
        `Invalid option "rateLimitKey"${owner}: it needs rateLimitCount and rateLimitScale too.`,
      );
    }
    return undefined;
  }
  if (rateLimitCount === undefined || rateLimitScale === undefined) {
    throw new FlumeConfigError(
      `Invalid rate limit${owner}: set both rateLimitCount (jobs) and rateLimitScale (ms), got: ` +
        `rateLimitCount ${describe(rateLimitCount)}, rateLimitScale ${describe(rateLimitScale)}`,
    );
  }
  const count = option<number>(owner, 'rateLimitCount', rateLimitCount, 0, integerAtLeast(1));
  const scaleMs = option<number>(owner, 'rateLimitScale', rateLimitScale, 0, integerAtLeast(1));
  const key = option<string>(owner, 'rateLimitKey', rateLimitKey, queue, (v) =>
    keyNameProblem(v) ? `a string without braces or whitespace` : undefined,
  );
  return { count, scaleMs, key };
}

function resolveGroupLimits(
  owner: string,
  raw: Record<string, unknown>,
): ResolvedPipeline['groups'] {
  const { groupConcurrency, groupRateLimitCount, groupRateLimitScale } = raw;
  if ((groupRateLimitCount === undefined) !== (groupRateLimitScale === undefined)) {
    throw new FlumeConfigError(
      `Invalid group rate limit${owner}: set both groupRateLimitCount (jobs) and ` +
        `groupRateLimitScale (ms), got: groupRateLimitCount ${describe(groupRateLimitCount)}, ` +
        `groupRateLimitScale ${describe(groupRateLimitScale)}`,
    );
  }
  if (groupConcurrency === undefined && groupRateLimitCount === undefined) return undefined;
  return {
    concurrency: option(owner, 'groupConcurrency', groupConcurrency, 0, integerAtLeast(1)),
    rateCount: option(owner, 'groupRateLimitCount', groupRateLimitCount, 0, integerAtLeast(1)),
    rateWindowMs: option(owner, 'groupRateLimitScale', groupRateLimitScale, 0, integerAtLeast(1)),
  };
}

/**
 * A rate limit counts a job when it is taken and bounds when it starts only because it
 * starts right away: a prefetched job could start a window later, beside the next
 * window's jobs. So the two do not mix.
 */
function resolvePrefetch(
  owner: string,
  raw: unknown,
  rateLimit: ResolvedPipeline['rateLimit'],
  groups: ResolvedPipeline['groups'],
): number {
  const prefetch = option<number>(owner, 'prefetch', raw, 0, integerAtLeast(0));
  const limit = rateLimit
    ? 'rateLimitCount'
    : groups?.rateCount
      ? 'groupRateLimitCount'
      : undefined;
  if (prefetch > 0 && limit) {
    throw new FlumeConfigError(
      `Invalid option "prefetch"${owner}: it cannot be combined with ${limit}, which counts a ` +
        `job when it is taken (a prefetched job could start a window later). Remove prefetch, or the rate limit.`,
    );
  }
  return prefetch;
}

/** Validates `pipelines` and applies their defaults; throws FlumeConfigError. */
export function resolvePipelines(raw: unknown, instrument: boolean): ResolvedPipeline[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    throw new FlumeConfigError(
      `Invalid option "pipelines": expected an array of { name, queue, maxDemand? }, got: ${describe(raw)}`,
    );
  }
  const names = new Set<string>();
  const pipelines = raw.map((pipeline: unknown, index): ResolvedPipeline => {
    if (pipeline === null || typeof pipeline !== 'object') {
      throw new FlumeConfigError(
        `Invalid option "pipelines[${index}]": expected { name, queue, maxDemand? }, got: ${describe(pipeline)}`,
      );
    }
    const fields = pipeline as Record<string, unknown>;
    const { name, queue, maxDemand } = fields;
    const where = ` of pipelines[${index}]`;
    const nameProblem = keyNameProblem(name);
    if (nameProblem) {
      throw new FlumeConfigError(
        `Invalid option "name"${where}: ${nameProblem}, got: ${describe(name)}`,
      );
    }
    const queueProblem = keyNameProblem(queue);
    if (queueProblem) {
      throw new FlumeConfigError(
        `Invalid option "queue" of pipeline "${name}": ${queueProblem}, got: ${describe(queue)}`,
      );
    }
    if (names.has(name as string)) {
      throw new FlumeConfigError(
        `Two pipelines are named "${name}": pipeline names must be unique.`,
      );
    }
    names.add(name as string);
    const owner = ` of pipeline "${name}"`;
    rejectUnknown(
      Object.fromEntries(Object.entries(fields).filter(([k]) => !PIPELINE_OPTIONS.includes(k))),
      owner,
      PIPELINE_OPTIONS,
    );
    const rateLimit = resolveRateLimit(owner, queue as string, fields);
    const groups = resolveGroupLimits(owner, fields);
    return {
      name: name as string,
      queue: queue as string,
      maxDemand: option(owner, 'maxDemand', maxDemand, DEFAULTS.maxDemand, integerAtLeast(1)),
      prefetch: resolvePrefetch(owner, fields.prefetch, rateLimit, groups),
      rateLimit,
      groups,
      globalConcurrency: option<number | undefined>(
        owner,
        'globalConcurrency',
        fields.globalConcurrency,
        undefined,
        integerAtLeast(1),
      ),
      batchSize: option<number | undefined>(
        owner,
        'batchSize',
        fields.batchSize,
        undefined,
        integerAtLeast(1),
      ),
      instrument: option(owner, 'instrument', fields.instrument, instrument, isBoolean),
    };
  });
  checkSharedRateLimits(pipelines);
  return pipelines;
}

/** Which declared pipelines this process runs: all by default; unknown names fail the boot. */
export function resolveRunPipelines(raw: unknown, pipelines: ResolvedPipeline[]): string[] {
  const declared = pipelines.map((p) => p.name);
  if (raw === undefined) return declared;
  if (!Array.isArray(raw) || raw.some((name) => typeof name !== 'string')) {
    throw new FlumeConfigError(
      `Invalid option "runPipelines": expected an array of pipeline names, got: ${describe(raw)}`,
    );
  }
  const unknown = raw.find((name) => !declared.includes(name));
  if (unknown !== undefined) {
    throw new FlumeConfigError(
      `Invalid option "runPipelines": no pipeline is named "${unknown}". ` +
        `Declared pipelines: ${declared.map((n) => `"${n}"`).join(', ') || 'none'}.`,
    );
  }
  return raw;
}

/** Pipelines sharing a rate-limit key must agree on the limit, or neither limit would hold. */
function checkSharedRateLimits(pipelines: ResolvedPipeline[]): void {
  const byKey = new Map<string, ResolvedPipeline>();
  for (const pipeline of pipelines) {
    const limit = pipeline.rateLimit;
    if (!limit) continue;
    const first = byKey.get(limit.key);
    if (!first) {
      byKey.set(limit.key, pipeline);
    } else if (
      first.rateLimit!.count !== limit.count ||
      first.rateLimit!.scaleMs !== limit.scaleMs
    ) {
      throw new FlumeConfigError(
        `Pipelines "${first.name}" and "${pipeline.name}" share rateLimitKey "${limit.key}" but set different limits ` +
          `(${first.rateLimit!.count} per ${first.rateLimit!.scaleMs} ms vs ${limit.count} per ${limit.scaleMs} ms). Give them the same limit.`,
      );
    }
  }
}

/**
 * Whether the test mode stands in for the engine ('fake', 'inline'): no store, no
 * pipeline. The 'memory' test mode runs the engine, on a store of its own.
 */
export function withoutEngine(options: { testing?: string }): boolean {
  return options.testing === 'fake' || options.testing === 'inline';
}

/** The queues this process consumes: those of the pipelines it runs; none in the fake and inline modes. */
export function queuesRunHere(options: {
  pipelines: readonly ResolvedPipeline[];
  runPipelines: readonly string[];
  testing?: string;
}): Set<string> {
  if (withoutEngine(options)) return new Set();
  const running = new Set(options.runPipelines);
  return new Set(options.pipelines.filter((p) => running.has(p.name)).map((p) => p.queue));
}
