import type { UniqueLock } from './unique.js';

/**
 * A job as stored in Redis: one JSON document shaped like Flume's, readable with
 * `redis-cli`. `jid` always comes first so a script can find it without parsing.
 */
export interface Job {
  /** Job id (UUID v4). */
  jid: string;
  /** Queue the job was enqueued to. */
  queue: string;
  /** Registered name of the worker that runs it. */
  class: string;
  /** Handler method of the worker; absent means the worker's default method. */
  function?: string;
  /** Arguments spread into the handler. */
  args: unknown[];
  /** Failed attempts so far. */
  retry_count: number;
  /** When the job was enqueued, Unix time in seconds (millisecond precision). */
  enqueued_at: number;
  /** JSON object given at enqueue, readable in the handler. */
  context?: Record<string, unknown>;
  /** When the last attempt failed, Unix time in seconds. */
  failed_at?: number;
  /** Message of the last failure, or why the job could not run at all. */
  error_message?: string;
  /** Stack of the last failure. */
  error_backtrace?: string;
  /** 1 to 100 for a job enqueued with a priority (taken first); absent for none. */
  priority?: number;
  /** The group the job was enqueued in (see the `group` option); absent for none. */
  group?: string;
  /** Set for a unique job: the lock it holds, and when the lock is released. */
  unique?: UniqueLock;
  /**
   * Trace context of the enqueue (W3C `traceparent`, `tracestate`), written when a
   * tracing integration is on, so the job's run joins the enqueue's trace.
   */
  trace_context?: Record<string, string>;
}

/** Current time as Flume stores it: Unix seconds with millisecond precision. */
export function unixSeconds(now = Date.now()): number {
  return now / 1000;
}
