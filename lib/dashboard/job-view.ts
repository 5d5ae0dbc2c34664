import type { ListedJob } from '../engine/index.js';

/** A job as the page gets it: plain JSON, times in ms since the epoch. */
export interface JobView {
  jid: string | null;
  worker: string | null;
  method: string | null;
  args: unknown[] | null;
  context: Record<string, unknown> | null;
  retryCount: number | null;
  enqueuedAt: number | null;
  /** Due, died, lease deadline or enqueued, by list (see ListedJob.at). */
  at: number;
  failedAt: number | null;
  error: string | null;
  backtrace: string | null;
  /** The payload as stored, when it is not a job the engine can read. */
  payload: string | null;
  lease: { id: string; process: string | null; takenAt: number | null } | null;
}

const seconds = (value: number | undefined): number | null =>
  typeof value === 'number' ? Math.round(value * 1000) : null;

/** The reason kept in a document set aside unrun (not a job: see settle-6.lua). */
function asideReason(payload: string): string | null {
  try {
    const document = JSON.parse(payload) as { error_message?: unknown } | null;
    return typeof document?.error_message === 'string' ? document.error_message : null;
  } catch {
    return null;
  }
}

/** What the page shows of a listed job; the page puts every string in as text. */
export function jobView(listed: ListedJob): JobView {
  const job = listed.job;
  const lease = listed.lease;
  return {
    jid: listed.jid,
    worker: job?.class ?? null,
    method: job?.function ?? null,
    args: job?.args ?? null,
    context: job?.context ?? null,
    retryCount: job?.retry_count ?? null,
    enqueuedAt: seconds(job?.enqueued_at),
    at: listed.at.getTime(),
    failedAt: seconds(job?.failed_at),
    error: job ? (job.error_message ?? null) : asideReason(listed.payload),
    backtrace: job?.error_backtrace ?? null,
    payload: job ? null : listed.payload,
    lease: lease
      ? {
          id: lease.id,
          process: lease.process ?? null,
          takenAt: lease.takenAt?.getTime() ?? null,
        }
      : null,
  };
}
