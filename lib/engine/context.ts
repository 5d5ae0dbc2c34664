import { AsyncLocalStorage } from 'node:async_hooks';

/** What a handler (and any code it calls) can know about the job it runs. */
export interface JobContext {
  /** Job id. */
  readonly jobId: string;
  /** Queue the job came from. */
  readonly queue: string;
  /** Registered worker name. */
  readonly worker: string;
  /** Failed attempts before this one. */
  readonly retryCount: number;
  /** The JSON object given at enqueue (`{}` when none was). */
  readonly context: Readonly<Record<string, unknown>>;
  /** Aborts when the job times out or the app hands the job back at shutdown. */
  readonly signal: AbortSignal;
}

const storage = new AsyncLocalStorage<JobContext | readonly JobContext[]>();

/**
 * The job being run, from anywhere in the handler's async call tree:
 *
 * ```ts
 * const { jobId, context, signal } = FlumeContext.current()!;
 * ```
 */
export class FlumeContext {
  /** The current job, or undefined outside a job (and inside a batch: see `batch()`). */
  static current(): JobContext | undefined {
    const value = storage.getStore();
    return value && !Array.isArray(value) ? (value as JobContext) : undefined;
  }

  /** The jobs of the current batch, in the order the handler got them, or undefined. */
  static batch(): readonly JobContext[] | undefined {
    const value = storage.getStore();
    return Array.isArray(value) ? value : undefined;
  }

  /** @internal Runs `fn(arg)` with `value` as the current job or batch. */
  static run<A, T>(value: JobContext | readonly JobContext[], fn: (arg: A) => T, arg: A): T {
    return storage.run(value, fn, arg);
  }
}
