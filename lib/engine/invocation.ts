import { FlumeContext, type JobContext } from './context.js';
import { FlumeBatchError, FlumeTimeoutError } from './errors/index.js';
import type { Job } from './job.js';
import type { JobSignal } from './job-signal.js';
import type { Handler, WorkerDefinition } from './worker-registry.js';

// How a handler is called, shared by the Redis job runner and the test mode: inside
// FlumeContext, within the worker's timeout, batch workers with an array of args.

/** What a handler (and the code it calls) sees of a job; the signal is made on first read. */
export function jobContext(job: Job, worker: WorkerDefinition, signal: JobSignal): JobContext {
  return {
    jobId: job.jid,
    queue: job.queue,
    worker: worker.name,
    retryCount: job.retry_count,
    context: job.context ?? {},
    get signal() {
      return signal.signal;
    },
  };
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
  const contexts = jobs.map((job, i) => jobContext(job, worker, signals[i]));
  try {
    if (batch) {
      const args = [jobs.map((job) => job.args)];
      await FlumeContext.run(contexts, () => withinTimeout(worker, signals, () => handler(args)));
    } else {
      await FlumeContext.run(contexts[0], () =>
        withinTimeout(worker, signals, () => handler(jobs[0].args)),
      );
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
