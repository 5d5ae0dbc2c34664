import { FlumeContext, type JobContext } from './context.js';
import { FlumeBatchError, FlumeTimeoutError } from './errors/index.js';
import type { Job } from './job.js';
import type { JobSignal } from './job-signal.js';
import type { Handler, WorkerDefinition } from './worker-registry.js';

// How a handler is called, shared by the Redis job runner and the test mode: inside
// FlumeContext, within the worker's timeout, batch workers with an array of args.

/**
 * What a handler (and the code it calls) sees of a job. A class, so that a job's
 * context is one small object (no closure per job); the signal is made on first read.
 */
class RunningJobContext implements JobContext {
  readonly jobId: string;
  readonly queue: string;
  readonly worker: string;
  readonly retryCount: number;
  readonly context: Readonly<Record<string, unknown>>;
  readonly #signal: JobSignal;

  constructor(job: Job, worker: WorkerDefinition, signal: JobSignal) {
    this.jobId = job.jid;
    this.queue = job.queue;
    this.worker = worker.name;
    this.retryCount = job.retry_count;
    this.context = job.context ?? {};
    this.#signal = signal;
  }

  get signal(): AbortSignal {
    return this.#signal.signal;
  }
}

/** What a handler (and the code it calls) sees of a job; the signal is made on first read. */
export function jobContext(job: Job, worker: WorkerDefinition, signal: JobSignal): JobContext {
  return new RunningJobContext(job, worker, signal);
}

/** One handler call, as a RunWrapper sees it. */
export interface RunCall {
  /** The jobs of the call: one, or a batch's. */
  jobs: readonly Job[];
  /** The registered name of the worker. */
  worker: string;
  /** True for a batch worker's call, however many jobs it has. */
  batch: boolean;
}

/**
 * Runs `run` (one handler call) around what an integration needs, e.g. inside a
 * tracing span, and resolves to what `run` resolved to: the failures by job index.
 * A wrapper that throws does not fail the jobs: the call runs (or counts) without it.
 */
export type RunWrapper = (
  call: RunCall,
  run: () => Promise<ReadonlyMap<number, unknown>>,
) => Promise<ReadonlyMap<number, unknown>>;

/** No failures: shared, as most calls succeed. */
const NO_FAILURES: ReadonlyMap<number, unknown> = new Map();

/**
 * Calls `handler` with `args` inside FlumeContext (one job's context, or a batch's):
 * every handler call of the engine and of the test mode goes through here.
 */
function callInContext(
  context: JobContext | readonly JobContext[],
  handler: Handler,
  args: unknown[],
): unknown {
  return FlumeContext.run(context, handler, args);
}

/**
 * Calls `handler` for one job (not a batch worker's). Returns what the handler
 * returned, a promise or not; throws what it threw synchronously. With a worker
 * timeout, a promise that rejects with a FlumeTimeoutError once it passes. The fast
 * path of the job runner: no promise of its own when the worker has no timeout.
 */
export function invokeOne(
  worker: WorkerDefinition,
  handler: Handler,
  job: Job,
  signal: JobSignal,
): unknown {
  const context = new RunningJobContext(job, worker, signal);
  if (worker.timeout === undefined) return callInContext(context, handler, job.args);
  return withinTimeout(worker, [signal], () => callInContext(context, handler, job.args));
}

/**
 * Calls `handler` for `jobs`: a batch worker gets every job's args in one call,
 * any other worker `jobs[0]` only. Resolves to the failure of each job, by index
 * (a FlumeBatchError names some items; any other error fails them all); never
 * rejects. Each job's signal aborts when the worker's timeout passes.
 */
export async function invokeHandler(
  worker: WorkerDefinition,
  handler: Handler,
  jobs: readonly Job[],
  signals: readonly JobSignal[],
  batch: boolean,
  wrapRun?: RunWrapper,
): Promise<ReadonlyMap<number, unknown>> {
  if (!wrapRun) return callHandler(worker, handler, jobs, signals, batch);
  let ran: Promise<ReadonlyMap<number, unknown>> | undefined;
  const run = () => (ran ??= callHandler(worker, handler, jobs, signals, batch));
  try {
    return await wrapRun({ jobs, worker: worker.name, batch }, run);
  } catch {
    return run();
  }
}

async function callHandler(
  worker: WorkerDefinition,
  handler: Handler,
  jobs: readonly Job[],
  signals: readonly JobSignal[],
  batch: boolean,
): Promise<ReadonlyMap<number, unknown>> {
  try {
    if (batch) {
      const contexts = jobs.map((job, i) => jobContext(job, worker, signals[i]));
      const args = [jobs.map((job) => job.args)];
      await withinTimeout(worker, signals, () => callInContext(contexts, handler, args));
    } else {
      await invokeOne(worker, handler, jobs[0], signals[0]);
    }
    return NO_FAILURES;
  } catch (err) {
    if (batch && err instanceof FlumeBatchError) {
      return new Map(err.failures.map((failure) => [failure.index, failure.error]));
    }
    return new Map(jobs.map((_, index) => [index, err]));
  }
}

async function withinTimeout(
  worker: WorkerDefinition,
  signals: readonly JobSignal[],
  call: () => unknown,
): Promise<unknown> {
  if (worker.timeout === undefined) return call();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new FlumeTimeoutError(
        `Job ran longer than its worker's timeout of ${worker.timeout} ms`,
      );
      for (const signal of signals) signal.abort(error);
      reject(error);
    }, worker.timeout);
  });
  try {
    return await Promise.race([Promise.resolve().then(call), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
