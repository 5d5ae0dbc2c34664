import type { Type } from '@nestjs/common';
import type { UniqueOptions } from '../engine/index.js';

/** Options of an enqueue call. */
export interface EnqueueOptions {
  /** JSON object stored with the job, readable by the handler. */
  context?: Record<string, unknown>;
  /**
   * Makes the job unique: while an equal job (same `key`; by default the same worker,
   * method and args) is waiting, scheduled, running or waiting for a retry (`until:
   * 'finished'`, the default) or only until it starts (`until: 'started'`), another
   * enqueue adds nothing and resolves to the id of the job that exists. The lock lasts
   * `ttlMs` at most (default 24 h). `true` takes every default.
   */
  unique?: true | UniqueOptions;
  /**
   * An integer from 0 (the default) to 100: within a queue, a job with a higher
   * priority is taken before every job with a lower one, and jobs of one priority keep
   * their order. A job handed back (its worker stopped, the app shut down) goes to the
   * head of the queue whatever its priority.
   */
  priority?: number;
  /**
   * The job's group (a tenant id, say: at most 200 bytes, no braces or whitespace).
   * Within a queue, jobs of different groups are taken in turn (round robin), so a group
   * with a huge backlog gets its share and no more; jobs of one group keep their order.
   * The pipeline options `groupConcurrency` and `groupRateLimitCount` /
   * `groupRateLimitScale` limit each group across every instance. Not with `priority`.
   */
  group?: string;
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
  /** Makes this job unique (see EnqueueOptions.unique); overrides the call's `unique`. */
  unique?: true | UniqueOptions;
  /** This job's priority (see EnqueueOptions.priority); overrides the call's `priority`. */
  priority?: number;
  /** This job's group (see EnqueueOptions.group); overrides the call's `group`. */
  group?: string;
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
