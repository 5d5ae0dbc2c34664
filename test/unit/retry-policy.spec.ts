import { describe, expect, it } from 'vitest';
import { FlumeUnrecoverableError } from '../../lib/index.js';
import { backoffOptionProblem, decideAfterFailure } from '../../lib/engine/retry-policy.js';

const defaults = { initial: 500, max: 10_000 };
const failure = new Error('boom');

describe('decideAfterFailure', () => {
  it('retries while retries are left, then buries with the count and the message', () => {
    expect(
      decideAfterFailure({ retryCount: 0, maxRetries: 2, error: failure, defaults }),
    ).toMatchObject({ kind: 'retry', retryCount: 1 });
    expect(decideAfterFailure({ retryCount: 2, maxRetries: 2, error: failure, defaults })).toEqual({
      kind: 'dead',
      reason: 'failed 3 time(s), out of retries: boom',
    });
  });

  it('buries a FlumeUnrecoverableError at once, retries left or not', () => {
    const error = new FlumeUnrecoverableError('account 7 is gone');
    expect(decideAfterFailure({ retryCount: 0, maxRetries: 5, error, defaults })).toEqual({
      kind: 'dead',
      reason: 'unrecoverable: account 7 is gone',
    });
  });

  it('asks a backoff function with the attempt number and the error', () => {
    const seen: [number, string][] = [];
    const backoff = (attempt: number, error: Error) => {
      seen.push([attempt, error.message]);
      return attempt * 1_000;
    };
    const decision = decideAfterFailure({
      retryCount: 2,
      maxRetries: 5,
      error: failure,
      backoff,
      defaults,
    });
    expect(decision).toEqual({ kind: 'retry', delayMs: 3_000, retryCount: 3 });
    expect(seen).toEqual([[3, 'boom']]);
  });

  it('falls back to the curve when the function throws or returns no delay', () => {
    for (const backoff of [
      () => NaN,
      () => -1,
      () => {
        throw new Error('oops');
      },
    ]) {
      const decision = decideAfterFailure({
        retryCount: 0,
        maxRetries: 1,
        error: failure,
        backoff,
        defaults,
      });
      expect(decision.kind === 'retry' && decision.delayMs).toBeGreaterThanOrEqual(500);
    }
  });

  it('bounds the curve with the worker’s initial and max, the module’s filling the rest', () => {
    for (let retryCount = 0; retryCount < 8; retryCount++) {
      const decision = decideAfterFailure({
        retryCount,
        maxRetries: 10,
        error: failure,
        backoff: { initial: 10, max: 40 },
        defaults,
      });
      expect(decision.kind === 'retry' && decision.delayMs).toBeGreaterThanOrEqual(10);
      expect(decision.kind === 'retry' && decision.delayMs).toBeLessThanOrEqual(40);
    }
  });
});

describe('backoffOptionProblem', () => {
  it('accepts bounds and functions, refuses the rest with the fix', () => {
    expect(backoffOptionProblem({ initial: 10, max: 100 })).toBeUndefined();
    expect(backoffOptionProblem(() => 5)).toBeUndefined();
    expect(backoffOptionProblem(100)).toMatch(/expected \{ initial, max \}/);
    expect(backoffOptionProblem({ initial: -1 })).toMatch(
      /"initial" must be a non-negative integer/,
    );
    expect(backoffOptionProblem({ initial: 100, max: 10 })).toMatch(/must not be less than/);
    expect(backoffOptionProblem({ delay: 5 })).toMatch(/unknown field\(s\) delay/);
  });
});
