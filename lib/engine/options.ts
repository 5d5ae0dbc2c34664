import { resolveConnection, type FlumeConnection } from './connection-options.js';
import { DEFAULTS } from './defaults.js';
import { FlumeConfigError } from './errors/index.js';
import { keyNameProblem } from './keys.js';
import type { FlumeLogger } from './logger.js';
import { isMemoryConnection, type FlumeMemoryConnection } from './memory/memory-connection.js';
import { memoryRunsEveryPipeline } from './memory/memory-messages.js';
import type { PeriodicDeclaration } from './periodic.js';
import { integerAtLeast, isBoolean, option, rejectUnknown } from './option-checks.js';
import type { RunWrapper } from './invocation.js';
import { describe } from './payload.js';
import {
  resolvePipelines,
  resolveRunPipelines,
  type FlumePipelineOptions,
  type ResolvedPipeline,
} from './pipeline-options.js';

export { DEFAULTS } from './defaults.js';
export type { FlumePipelineOptions, ResolvedPipeline } from './pipeline-options.js';
export type {
  FlumeConnection,
  FlumeConnectionOptions,
  FlumeNodeAddress,
} from './connection-options.js';
export type { FlumeMemoryConnection } from './memory/memory-connection.js';

/**
 * Test mode: no Redis at all. `'memory'` runs the pipelines for real on a memory store
 * of the app's own, empty at boot (retries, scheduling, rate limits, pauses, events,
 * inspector); `'fake'` keeps enqueued jobs in memory until the test drains them;
 * `'inline'` runs each job as it is enqueued.
 */
export type FlumeTestMode = 'fake' | 'inline' | 'memory';

/** Options of `FlumeModule.forRoot`. Durations are in milliseconds. */
export interface FlumeOptions {
  /**
   * Redis: one server, a Redis Cluster or Sentinel (see FlumeConnectionOptions), or an
   * ioredis Redis or Cluster to copy settings from; or `{ memory: true }`: jobs kept in
   * this process's memory (one process, not durable). Default `{ url: 'redis://127.0.0.1:6379' }`.
   */
  connection?: FlumeConnection | FlumeMemoryConnection;
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
  /** How long a taken job stays leased without renewal before it is handed out again: a crashed worker's jobs run again within about this long plus a sweep (at most 5 s). Default 30_000. */
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
  /**
   * Periodic jobs: each enqueued once per tick of its cron pattern, across every
   * instance (see docs/workers.md, Periodic jobs). `@Periodic` on a worker class declares them too.
   */
  periodic?: FlumePeriodicOptions[];
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
  /** Test mode (see docs/testing.md): no Redis connection is opened. Default: off. */
  testing?: FlumeTestMode;
}

/** Options with every default applied; what the engine runs on. */
export interface ResolvedOptions {
  connection: FlumeConnection | FlumeMemoryConnection;
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
  /** Runs each handler call (see RunWrapper); set by an integration, not an option. */
  wrapRun?: RunWrapper;
  periodic: FlumePeriodicOptions[];
}

/** A periodic job of the module options: its worker by class or by registered name. */
export interface FlumePeriodicOptions extends Omit<PeriodicDeclaration, 'worker'> {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  worker: string | Function;
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
  'periodic',
];

/** The `periodic` option: a list of objects, each checked in full once its worker is known. */
function resolvePeriodicList(raw: unknown): FlumePeriodicOptions[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((item) => item === null || typeof item !== 'object')) {
    throw new FlumeConfigError(
      `Invalid option "periodic": expected a list of { cron, worker, ... }, got: ${describe(raw)}`,
    );
  }
  return raw as FlumePeriodicOptions[];
}

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
    periodic: resolvePeriodicList(raw.periodic),
    testing: option<FlumeTestMode | undefined>('', 'testing', raw.testing, undefined, (v) =>
      v === 'fake' || v === 'inline' || v === 'memory' ? undefined : "'fake', 'inline' or 'memory'",
    ),
  };
  resolved.runPipelines = resolveRunPipelines(raw.runPipelines, resolved.pipelines);
  checkMemoryRunsEverything(resolved);
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

/**
 * The memory store lives in one process: a declared pipeline that this process does
 * not run would never run anywhere, so `runPipelines` may not leave one out.
 */
function checkMemoryRunsEverything(options: ResolvedOptions): void {
  const inMemory =
    options.testing === 'memory' || (!options.testing && isMemoryConnection(options.connection));
  if (!inMemory) return;
  const leftOut = options.pipelines
    .map((pipeline) => pipeline.name)
    .filter((name) => !options.runPipelines.includes(name));
  if (leftOut.length > 0) {
    throw new FlumeConfigError(memoryRunsEveryPipeline(leftOut, options.testing === 'memory'));
  }
}
