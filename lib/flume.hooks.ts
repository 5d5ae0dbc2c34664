import type { NewJob, RunWrapper } from './engine/index.js';

/**
 * Runs `enqueue` (one enqueue call's write) around what an integration needs, e.g.
 * inside a producer span, and resolves to what it resolved to. It may hand `enqueue`
 * the jobs with fields added (`traceContext`); it must call it once.
 */
export type EnqueueWrapper = <T>(
  queue: string,
  jobs: readonly NewJob[],
  enqueue: (jobs: NewJob[]) => Promise<T>,
) => Promise<T>;

/**
 * What an integration hooks into the engine and FlumeClient (internal). A global
 * module of the integration provides it under FLUME_HOOKS: nestjs-flume/otel does.
 */
export interface FlumeHooks {
  /** Around each handler call (see RunWrapper). */
  wrapRun?: RunWrapper;
  /** Around each enqueue's write. */
  wrapEnqueue?: EnqueueWrapper;
}

/** Injection token of the FlumeHooks an integration provides (internal, optional). */
export const FLUME_HOOKS = Symbol('FLUME_HOOKS');
