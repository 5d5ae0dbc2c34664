import { backoffDelay, type BackoffBounds } from './backoff.js';
import { FlumeUnrecoverableError } from './errors/index.js';

/**
 * A worker's own delay before a retry: `attempt` is the number of the retry about to be
 * filed (1 for the first), `error` what the handler threw. Returns ms.
 */
export type BackoffFunction = (attempt: number, error: Error) => number;

/** A worker's backoff: bounds of the default exponential curve, or a function. */
export type BackoffOption = Partial<BackoffBounds> | BackoffFunction;

/** What a failed attempt leads to. */
export type FailureDecision =
  { kind: 'retry'; delayMs: number; retryCount: number } | { kind: 'dead'; reason: string };

export interface FailedAttempt {
  /** Failed attempts before this one. */
  retryCount: number;
  maxRetries: number;
  error: Error;
  /** The worker's backoff, if it has its own. */
  backoff?: BackoffOption;
  /** The module's backoff bounds. */
  defaults: BackoffBounds;
}

/**
 * The retry policy, in one place: after a failed attempt, retry when (and how soon), or
 * bury. A FlumeUnrecoverableError buries at once; otherwise a job retries while it has
 * retries left, after the worker's backoff (its function, or the exponential curve with
 * its bounds) or the module's.
 */
export function decideAfterFailure(attempt: FailedAttempt): FailureDecision {
  const { retryCount, maxRetries, error } = attempt;
  if (error instanceof FlumeUnrecoverableError) {
    return { kind: 'dead', reason: `unrecoverable: ${error.message}` };
  }
  if (retryCount >= maxRetries) {
    return {
      kind: 'dead',
      reason: `failed ${maxRetries + 1} time(s), out of retries: ${error.message}`,
    };
  }
  return { kind: 'retry', delayMs: retryDelay(attempt), retryCount: retryCount + 1 };
}

function retryDelay({ retryCount, error, backoff, defaults }: FailedAttempt): number {
  if (typeof backoff === 'function') {
    let delayMs: number;
    try {
      delayMs = backoff(retryCount + 1, error);
    } catch {
      delayMs = NaN;
    }
    // A function that throws or returns no usable delay does not lose the retry.
    if (Number.isFinite(delayMs) && delayMs >= 0) return Math.round(delayMs);
    return backoffDelay(retryCount, defaults);
  }
  return backoffDelay(retryCount, { ...defaults, ...backoff });
}

/** Why `backoff` is not a valid worker backoff option, or undefined when it is. */
export function backoffOptionProblem(backoff: unknown): string | undefined {
  if (backoff === undefined || typeof backoff === 'function') return undefined;
  if (backoff === null || typeof backoff !== 'object') {
    return 'expected { initial, max } (ms) or a function (attempt, error) => ms';
  }
  const { initial, max, ...rest } = backoff as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return `unknown field(s) ${unknown.join(', ')}; expected initial, max`;
  for (const [field, value] of [
    ['initial', initial],
    ['max', max],
  ] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0)) {
      return `"${field}" must be a non-negative integer of ms, got: ${String(value)}`;
    }
  }
  if (typeof initial === 'number' && typeof max === 'number' && max < initial) {
    return `"max" (${max}) must not be less than "initial" (${initial})`;
  }
  return undefined;
}
