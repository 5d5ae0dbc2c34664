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
