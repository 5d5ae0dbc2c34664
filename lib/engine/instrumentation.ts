import { channel } from 'node:diagnostics_channel';

interface JobEventBase {
  pipeline: string;
  queue: string;
  worker: string;
  jobId: string;
  /** Failed attempts before this one. */
  retryCount: number;
  /**
   * From the job's `enqueued_at` to this start, ms: for a scheduled job or a retry
   * this includes the planned delay (the job does not record when it became due).
   */
  waitMs: number;
}

/** Everything the engine reports when instrumentation is on. Durations in ms. */
export type FlumeEvent =
  | { type: 'enqueue'; queue: string; count: number; payloadBytes: number }
  | {
      type: 'dequeue';
      pipeline: string;
      queue: string;
      count: number;
      latencyMs: number;
      payloadBytes: number;
    }
  | ({ type: 'job:start' } & JobEventBase)
  | ({ type: 'job:success'; runMs: number } & JobEventBase)
  | ({ type: 'job:failure'; runMs: number; error: string } & JobEventBase)
  | ({ type: 'job:retry'; delayMs: number; error: string } & JobEventBase)
  | ({ type: 'job:dead'; reason: string } & Omit<JobEventBase, 'waitMs'>)
  /** A job still running at shutdown, handed back to its queue unchanged (no retry used up). */
  | ({ type: 'job:handed-back'; runMs: number } & JobEventBase);

export type FlumeEventType = FlumeEvent['type'];

/**
 * The `diagnostics_channel` names events are published on, one per event type:
 * `flume:enqueue`, `flume:dequeue`, `flume:job:start`, `flume:job:success`,
 * `flume:job:failure`, `flume:job:retry`, `flume:job:dead`, `flume:job:handed-back`.
 */
export const FLUME_CHANNELS: Readonly<Record<FlumeEventType, string>> = {
  enqueue: 'flume:enqueue',
  dequeue: 'flume:dequeue',
  'job:start': 'flume:job:start',
  'job:success': 'flume:job:success',
  'job:failure': 'flume:job:failure',
  'job:retry': 'flume:job:retry',
  'job:dead': 'flume:job:dead',
  'job:handed-back': 'flume:job:handed-back',
};

const channels = Object.fromEntries(
  Object.entries(FLUME_CHANNELS).map(([type, name]) => [type, channel(name)]),
) as Record<FlumeEventType, ReturnType<typeof channel>>;

/**
 * Publishes events to `diagnostics_channel` (what APM tools subscribe to) and to
 * in-process listeners. Callers check `enabled` first, so a pipeline without
 * instrumentation does not even build the event.
 */
export class Instrumentation {
  private readonly listeners = new Set<(event: FlumeEvent) => void>();

  emit(event: FlumeEvent): void {
    const published = channels[event.type];
    if (published.hasSubscribers) published.publish(event);
    for (const listener of this.listeners) listener(event);
  }

  /** Calls `listener` with every event; returns the function that stops it. */
  subscribe(listener: (event: FlumeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
