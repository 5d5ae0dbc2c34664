/**
 * Jobs processed and failed per minute, per queue: counters the ack and settle scripts
 * add to (one INCRBY per script call), each expiring by itself after HISTORY_KEPT_MS.
 */

/** How long a minute's counter is kept: a day, and an hour to spare for the oldest minute. */
export const HISTORY_KEPT_MS = 25 * 60 * 60_000;

/** The longest history that can be read: the last day. */
export const HISTORY_MAX_MINUTES = 24 * 60;

/** Minutes since the epoch: the name of the minute `ms` falls in. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000);
}

/** Per-minute counts of some queues, oldest minute first. */
export interface QueueHistory {
  /** Start of the first minute. */
  from: Date;
  /** Minutes covered: each array below has one count per minute. */
  minutes: number;
  /** Jobs that succeeded, per queue. */
  processed: Record<string, number[]>;
  /** Failed attempts (retried or dead) and jobs set aside unrun, per queue. */
  failed: Record<string, number[]>;
}
