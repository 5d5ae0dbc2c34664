import {
  FlumeWorkerError,
  invokeHandler,
  JobSignal,
  type BatchOptions,
  type Job,
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
 * (lib/engine/invocation.ts, shared with the job runner): inside `FlumeContext`, with the worker's timeout, and
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
    const signals = jobs.map(() => new JobSignal());
    const failures = await invokeHandler(worker, handler, jobs, signals, batch !== undefined);
    return new Map([...failures].map(([index, error]) => [index, asError(error)]));
  }
}

/** What a handler threw, as an Error (handlers may throw anything). */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
