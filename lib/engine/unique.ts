import { createHash } from 'node:crypto';
import { FlumePayloadError } from './errors/index.js';
import { describe } from './describe.js';

/** When a unique job's lock is released, so that an equal job can be enqueued again. */
export type UniqueUntil = 'started' | 'finished';

/** The `unique` option of an enqueue. */
export interface UniqueOptions {
  /**
   * What makes two jobs the same. Default: the worker, the method and the args (a sha1 of
   * them), so the same call twice is one job.
   */
  key?: string;
  /** The lock lasts at most this long (ms), whatever happens to the job. Default 24 h. */
  ttlMs?: number;
  /**
   * `'finished'` (default): another equal enqueue adds nothing while the job waits, is
   * scheduled, runs or waits for a retry, until it succeeds or dies. `'started'`: only
   * until it starts running.
   */
  until?: UniqueUntil;
}

/** What a unique job carries in its JSON: its lock and when to release it. */
export interface UniqueLock {
  key: string;
  until: UniqueUntil;
}

export const DEFAULT_UNIQUE_TTL_MS = 24 * 3600 * 1000;
const MAX_KEY_LENGTH = 200;

/** A unique option checked and completed: the lock key, its lifetime, its release. */
export interface ResolvedUnique extends UniqueLock {
  ttlMs: number;
}

/**
 * Checks `unique` (true, or UniqueOptions) and completes it; throws a FlumePayloadError
 * saying what is wrong. `identity` is what makes the job itself (worker, method, args).
 */
export function resolveUnique(unique: unknown, identity: () => unknown[]): ResolvedUnique {
  const options = unique === true ? {} : unique;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new FlumePayloadError(
      `unique must be true or { key?, ttlMs?, until? }, got: ${describe(unique)}`,
    );
  }
  const { key, ttlMs, until, ...rest } = options as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new FlumePayloadError(
      `unique has unknown field(s) ${unknown.join(', ')}; expected key, ttlMs, until`,
    );
  }
  if (key !== undefined && (typeof key !== 'string' || key === '' || key.length > MAX_KEY_LENGTH)) {
    throw new FlumePayloadError(
      `unique.key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters, got: ${describe(key)}`,
    );
  }
  if (ttlMs !== undefined && !(Number.isSafeInteger(ttlMs) && (ttlMs as number) > 0)) {
    throw new FlumePayloadError(
      `unique.ttlMs must be a positive integer of ms, got: ${describe(ttlMs)}`,
    );
  }
  if (until !== undefined && until !== 'started' && until !== 'finished') {
    throw new FlumePayloadError(
      `unique.until must be 'started' or 'finished', got: ${describe(until)}`,
    );
  }
  return {
    key:
      (key as string | undefined) ??
      createHash('sha1').update(JSON.stringify(identity())).digest('hex'),
    ttlMs: (ttlMs as number | undefined) ?? DEFAULT_UNIQUE_TTL_MS,
    until: (until as UniqueUntil | undefined) ?? 'finished',
  };
}
