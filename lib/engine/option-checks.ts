import { FlumeConfigError } from './errors/index.js';
import { describe } from './payload.js';

// The checks options are validated with: a failed check names the option, the value
// and what is allowed.

/** Says what was expected when `value` does not pass, or undefined when it does. */
export type Check = (value: unknown) => string | undefined;

export const integerAtLeast =
  (min: number): Check =>
  (value) =>
    Number.isSafeInteger(value) && (value as number) >= min
      ? undefined
      : min === 0
        ? 'a non-negative integer'
        : `an integer >= ${min}`;

/** `value`, `fallback` when undefined; a FlumeConfigError naming `key` when `check` fails. */
export function option<T>(
  owner: string,
  key: string,
  value: unknown,
  fallback: T,
  check: Check,
): T {
  if (value === undefined) return fallback;
  const expected = check(value);
  if (expected !== undefined) {
    throw new FlumeConfigError(
      `Invalid option "${key}"${owner}: expected ${expected}, got: ${describe(value)}`,
    );
  }
  return value as T;
}

export const isBoolean: Check = (value) => (typeof value === 'boolean' ? undefined : 'a boolean');

/** A FlumeConfigError naming the first key of `rest`, which holds the options nobody knows. */
export function rejectUnknown(rest: Record<string, unknown>, owner: string, known: string[]): void {
  const extra = Object.keys(rest);
  if (extra.length > 0) {
    throw new FlumeConfigError(
      `Unknown option "${extra[0]}"${owner}. Known options: ${known.join(', ')}.`,
    );
  }
}
