import type { Type } from '@nestjs/common';

/** Options of an enqueue call. */
export interface EnqueueOptions {
  /** JSON object stored with the job, readable by the handler. */
  context?: Record<string, unknown>;
}

/** One job of `bulkEnqueue`. */
export interface BulkJob {
  /** The worker class, or its registered name. */
  worker: Type<unknown> | string;
  /** Handler arguments, in order. */
  args: unknown[];
  /** Handler method; default: the worker's (see `@Worker({ method })`). */
  function?: string;
  /** JSON object stored with the job; overrides the call's `context`. */
  context?: Record<string, unknown>;
}

type AnyFunction = (...args: any[]) => unknown;

/** Names of the methods of worker `W`. */
export type HandlerName<W> = {
  [K in keyof W]: W[K] extends AnyFunction ? K : never;
}[keyof W] &
  string;

/** Parameters of method `M` of worker `W`. */
export type HandlerArgs<W, M extends keyof W> = W[M] extends (...args: infer A) => unknown
  ? A
  : never;

/** Parameters of `perform` when `W` has one; any array otherwise (a custom default method). */
export type PerformArgs<W> = W extends { perform: (...args: infer A) => unknown } ? A : unknown[];
