import {
  FlumeBatchError,
  FlumeContext,
  FlumeTimeoutError,
  FlumeWorkerError,
  type BatchOptions,
  type Job,
  type JobContext,
  type ResolvedOptions,
  type WorkerDefinition,
  type WorkerRegistry,
} from '../engine/index.js';
import { cannotRunHere } from './testing.messages.js';

/** A job's worker as the test mode runs it. */
export interface ResolvedJob {
  worker: WorkerDefinition;
  handler: (args: unknown[]) => unknown;
  /** Set for a batch worker (`@Batch`, or the `batchSize` of the pipeline on its queue). */
  batch?: BatchOptions;
}

/**
 * Runs test-mode jobs through the app's workers as the Redis job runner does
 * (lib/engine/job-runner.ts): inside `FlumeContext`, with the worker's timeout, and
 * batch workers get an array of args. Unlike Redis: one attempt, never a retry.
 */
export class JobPerformer {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly options: ResolvedOptions,
  ) {}

  /** The worker of `job`; a FlumeWorkerError when no worker of this app can run it. */
  resolve(job: Job): ResolvedJob {
    const resolved = this.registry.resolve(job.queue, job.class, job.function);
    if (!resolved.ok) throw new FlumeWorkerError(cannotRunHere(job.jid, resolved.reason));
    const { worker, handler } = resolved;
    const batchSize = this.options.pipelines.find((p) => p.queue === job.queue)?.batchSize;
    const batch = worker.batch ?? (batchSize ? { size: batchSize, timeout: 0 } : undefined);
    return { worker, handler, batch };
  }

  /** Runs one job (a batch of one for a batch worker); rejects with what the handler threw. */
  async performOne(job: Job): Promise<void> {
    const failures = await this.perform([job], this.resolve(job));
    if (failures.has(0)) throw failures.get(0);
  }

  /**
   * Runs `jobs` of one worker in one handler call if it is a batch worker (else only
   * `jobs[0]`). Resolves to the error of each failed job, by index; never rejects.
   */
  async perform(jobs: Job[], { worker, handler, batch }: ResolvedJob): Promise<Map<number, Error>> {
    const controllers = jobs.map(() => new AbortController());
    const contexts = jobs.map((job, i) => contextOf(job, worker, controllers[i]));
    try {
      if (batch) {
        const batchArgs = [jobs.map((job) => job.args)];
        await FlumeContext.run(contexts, () =>
          withTimeout(worker, controllers, () => handler(batchArgs)),
        );
      } else {
        await FlumeContext.run(contexts[0], () =>
          withTimeout(worker, controllers, () => handler(jobs[0].args)),
        );
      }
      return new Map();
    } catch (err) {
      if (batch && err instanceof FlumeBatchError) {
        return new Map(err.failures.map((failure) => [failure.index, asError(failure.error)]));
      }
      return new Map(jobs.map((_, index) => [index, asError(err)]));
    }
  }
}

/** What a handler threw, as an Error (handlers may throw anything). */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

async function withTimeout(
  worker: WorkerDefinition,
  controllers: AbortController[],
  call: () => unknown,
): Promise<unknown> {
  if (worker.timeout === undefined) return call();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new FlumeTimeoutError(
        `Job ran longer than its worker's timeout of ${worker.timeout} ms`,
      );
      for (const controller of controllers) controller.abort(error);
      reject(error);
    }, worker.timeout);
  });
  try {
    return await Promise.race([Promise.resolve().then(call), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function contextOf(job: Job, worker: WorkerDefinition, controller: AbortController): JobContext {
  return {
    jobId: job.jid,
    queue: job.queue,
    worker: worker.name,
    retryCount: job.retry_count,
    context: job.context ?? {},
    signal: controller.signal,
  };
}
