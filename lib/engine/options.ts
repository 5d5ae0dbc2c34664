import { resolveConnection, type FlumeConnection } from './connection-options.js';
import { FlumeConfigError } from './errors/index.js';
import { keyNameProblem } from './keys.js';
import type { FlumeLogger } from './logger.js';
import { describe } from './payload.js';

export type {
  FlumeConnection,
  FlumeConnectionOptions,
  FlumeNodeAddress,
} from './connection-options.js';

/** One pipeline: a dequeue loop over one Redis queue. */
export interface FlumePipelineOptions {
  /** Unique name, used by `@InjectPipeline(name)` and pause/resume. */
  name: string;
  /** Redis queue the pipeline consumes. */
  queue: string;
  /** Most jobs of this pipeline running at once in this process. Default 500. */
  maxDemand?: number;
  /** With `rateLimitScale`: at most this many jobs start in any window, across all instances. */
  rateLimitCount?: number;
  /** Window of the rate limit, ms. */
  rateLimitScale?: number;
  /** Pipelines with the same key share one rate limit. Default: the queue name. */
  rateLimitKey?: string;
  /** Hands every worker of this pipeline arrays of up to this many jobs' args (see @Batch). */
  batchSize?: number;
  /** Publish events for this pipeline (see FLUME_CHANNELS). Default: the module's `instrument`. */
  instrument?: boolean;
}

/**
 * Test mode: no Redis at all. `'fake'` keeps enqueued jobs in memory until the test
 * drains them; `'inline'` runs each job as it is enqueued.
 */
export type FlumeTestMode = 'fake' | 'inline';

/** Options of `FlumeModule.forRoot`. Durations are in milliseconds. */
export interface FlumeOptions {
  /**
   * Redis: one server, a Redis Cluster or Sentinel (see FlumeConnectionOptions), or an
   * ioredis Redis or Cluster to copy settings from. Default `{ url: 'redis://127.0.0.1:6379' }`.
   */
  connection?: FlumeConnection;
  /** Prefix of every key. Default `'flume'`. */
  namespace?: string;
  /** Pipelines this process runs. Default none (enqueue only). */
  pipelines?: FlumePipelineOptions[];
  /** Retries after the first failed attempt, before the dead set. Default 5. */
  maxRetries?: number;
  /** Delay before the first retry. Default 500. */
  backoffInitial?: number;
  /** Longest delay between retries. Default 10_000. */
  backoffMax?: number;
  /** How long a taken job stays leased without renewal before it is handed out again. Default 600_000. */
  visibilityTimeout?: number;
  /** How long shutdown waits for running jobs before handing them back. Default 25_000. */
  shutdownTimeout?: number;
  /** Longest wait before a due scheduled or retry job is moved to its queue. Default 1_000. */
  schedulerPollInterval?: number;
  /** Longest wait for Redis on an enqueue or query before it rejects. Default 5_000. */
  commandTimeout?: number;
  /** Most jobs kept in a queue's dead set. Default 10_000. */
  deadMaxJobs?: number;
  /** Oldest job kept in a dead set. Default 180 days. */
  deadMaxAge?: number;
  /** Logger for the engine; `false` silences it. Default: Nest's Logger. */
  logger?: FlumeLogger | false;
  /** Log every job's start and end at debug level. Default false. */
  debug?: boolean;
  /** Publish events (enqueue, dequeue, job start/success/failure/retry/dead). Default false. */
  instrument?: boolean;
  /** Largest job payload (JSON bytes) accepted at enqueue. Default 1 MiB. */
  maxPayloadBytes?: number;
  /**
   * How many times a job may be recovered from a worker that stopped renewing its
   * lease (crashed, or killed mid-job) before it goes to the dead set. Default 3.
   */
  maxRecoveries?: number;
  /**
   * Names of the pipelines this process runs, out of `pipelines`; `[]` runs none (an
   * API process that only enqueues). Every process can still declare every pipeline,
   * so `@InjectPipeline` and stored pauses work everywhere. Default: all of them.
   */
  runPipelines?: string[];
  /** Test mode (see README, "Testing your app"): no Redis connection is opened. Default: off. */
  testing?: FlumeTestMode;
}

export interface ResolvedPipeline {
  name: string;
  queue: string;
  maxDemand: number;
  rateLimit?: { count: number; scaleMs: number; key: string };
  batchSize?: number;
  instrument: boolean;
}

/** Options with every default applied; what the engine runs on. */
export interface ResolvedOptions {
  connection: FlumeConnection;
  namespace: string;
  pipelines: ResolvedPipeline[];
  maxRetries: number;
  backoffInitial: number;
  backoffMax: number;
  visibilityTimeout: number;
  shutdownTimeout: number;
  schedulerPollInterval: number;
  commandTimeout: number;
  deadMaxJobs: number;
  deadMaxAge: number;
  logger: FlumeLogger | false | undefined;
  debug: boolean;
  instrument: boolean;
  maxPayloadBytes: number;
  maxRecoveries: number;
  runPipelines: string[];
  testing: FlumeTestMode | undefined;
}

export const DEFAULTS = {
  namespace: 'flume',
  maxDemand: 500,
  maxRetries: 5,
  backoffInitial: 500,
  backoffMax: 10_000,
  visibilityTimeout: 600_000,
  shutdownTimeout: 25_000,
  schedulerPollInterval: 1_000,
  commandTimeout: 5_000,
  deadMaxJobs: 10_000,
  deadMaxAge: 180 * 24 * 3600 * 1000,
  maxPayloadBytes: 1024 * 1024,
  maxRecoveries: 3,
} as const;

type Check = (value: unknown) => string | undefined;

const integerAtLeast =
  (min: number): Check =>
  (value) =>
    Number.isSafeInteger(value) && (value as number) >= min
      ? undefined
      : min === 0
        ? 'a non-negative integer'
        : `an integer >= ${min}`;

function option<T>(owner: string, key: string, value: unknown, fallback: T, check: Check): T {
  if (value === undefined) return fallback;
  const expected = check(value);
  if (expected !== undefined) {
    throw new FlumeConfigError(
      `Invalid option "${key}"${owner}: expected ${expected}, got: ${describe(value)}`,
    );
  }
  return value as T;
}

const isBoolean: Check = (value) => (typeof value === 'boolean' ? undefined : 'a boolean');

const PIPELINE_OPTIONS = [
  'name',
  'queue',
  'maxDemand',
  'rateLimitCount',
  'rateLimitScale',
  'rateLimitKey',
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

function resolvePipelines(raw: unknown, instrument: boolean): ResolvedPipeline[] {
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
    return {
      name: name as string,
      queue: queue as string,
      maxDemand: option(owner, 'maxDemand', maxDemand, DEFAULTS.maxDemand, integerAtLeast(1)),
      rateLimit: resolveRateLimit(owner, queue as string, fields),
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
function resolveRunPipelines(raw: unknown, pipelines: ResolvedPipeline[]): string[] {
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

function rejectUnknown(rest: Record<string, unknown>, owner: string, known: string[]): void {
  const extra = Object.keys(rest);
  if (extra.length > 0) {
    throw new FlumeConfigError(
      `Unknown option "${extra[0]}"${owner}. Known options: ${known.join(', ')}.`,
    );
  }
}

const KNOWN_OPTIONS = [
  'connection',
  'namespace',
  'pipelines',
  'maxRetries',
  'backoffInitial',
  'backoffMax',
  'visibilityTimeout',
  'shutdownTimeout',
  'schedulerPollInterval',
  'commandTimeout',
  'deadMaxJobs',
  'deadMaxAge',
  'logger',
  'testing',
  'debug',
  'instrument',
  'maxPayloadBytes',
  'maxRecoveries',
  'runPipelines',
];

/** Validates options and applies the defaults, in one place. Throws FlumeConfigError. */
export function resolveOptions(raw: FlumeOptions | undefined): ResolvedOptions {
  if (raw === null || typeof raw !== 'object') {
    throw new FlumeConfigError(`Flume options must be an object, got: ${describe(raw)}`);
  }
  const rest = Object.fromEntries(
    Object.entries(raw).filter(([key]) => !KNOWN_OPTIONS.includes(key)),
  );
  rejectUnknown(rest, '', KNOWN_OPTIONS);

  const ms = (key: keyof typeof DEFAULTS, min = 1) =>
    option<number>(
      '',
      key,
      raw[key as keyof FlumeOptions],
      DEFAULTS[key] as number,
      integerAtLeast(min),
    );

  const namespace = raw.namespace ?? DEFAULTS.namespace;
  const namespaceProblem = keyNameProblem(namespace);
  if (namespaceProblem) {
    throw new FlumeConfigError(
      `Invalid option "namespace": ${namespaceProblem}, got: ${describe(namespace)}`,
    );
  }
  const instrument = option('', 'instrument', raw.instrument, false, isBoolean);
  const resolved: ResolvedOptions = {
    connection: resolveConnection(raw.connection),
    namespace,
    pipelines: resolvePipelines(raw.pipelines, instrument),
    maxRetries: ms('maxRetries', 0),
    backoffInitial: ms('backoffInitial'),
    backoffMax: ms('backoffMax'),
    visibilityTimeout: ms('visibilityTimeout', 1000),
    shutdownTimeout: ms('shutdownTimeout', 0),
    schedulerPollInterval: ms('schedulerPollInterval', 10),
    commandTimeout: ms('commandTimeout'),
    deadMaxJobs: ms('deadMaxJobs', 0),
    deadMaxAge: ms('deadMaxAge'),
    logger: raw.logger,
    debug: option('', 'debug', raw.debug, false, isBoolean),
    instrument,
    maxPayloadBytes: ms('maxPayloadBytes', 64),
    maxRecoveries: ms('maxRecoveries', 0),
    runPipelines: [],
    testing: option<FlumeTestMode | undefined>('', 'testing', raw.testing, undefined, (v) =>
      v === 'fake' || v === 'inline' ? undefined : "'fake' or 'inline'",
    ),
  };
  resolved.runPipelines = resolveRunPipelines(raw.runPipelines, resolved.pipelines);
  if (resolved.backoffMax < resolved.backoffInitial) {
    throw new FlumeConfigError(
      `Invalid option "backoffMax": expected an integer >= backoffInitial (${resolved.backoffInitial}), got: ${resolved.backoffMax}`,
    );
  }
  const logger = raw.logger;
  if (
    logger !== undefined &&
    logger !== false &&
    !(['log', 'warn', 'error'] as const).every(
      (method) => typeof (logger as FlumeLogger)?.[method] === 'function',
    )
  ) {
    throw new FlumeConfigError(
      `Invalid option "logger": expected a LoggerService (log, warn, error) or false, got: ${describe(logger)}`,
    );
  }
  return resolved;
}
