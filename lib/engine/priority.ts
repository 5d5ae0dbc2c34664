import { describe } from './describe.js';
import { FlumePayloadError } from './errors/index.js';
import { storedField } from './stored-field.js';

// Job priorities. A job with a priority waits in its queue's prioritized set and stands
// in the waiting list as one PRIORITY_MARK at the head; the take hands out, for each
// mark, the first job of the set. lua/includes/push-job.lua is the contract; the memory
// store and the inspector's pages (waiting-page.ts) follow it from here.

/** What stands in the waiting list for one job of the prioritized set. */
export const PRIORITY_MARK = '*';

/** Highest priority a job may have; 0 (the default) is none. */
export const MAX_PRIORITY = 100;

/** 2^40 sequence numbers per priority: a score stays exact in a double up to 2^53. */
const PRIORITY_STEP = 2 ** 40;

/** The score of a job of `priority` pushed as number `seq`: lowest is taken first. */
export function priorityScore(priority: number, seq: number): number {
  return (MAX_PRIORITY - priority) * PRIORITY_STEP + seq;
}

/**
 * Checks the `priority` option: an integer from 0 to MAX_PRIORITY. Returns it (0 when
 * left out); throws a FlumePayloadError that says what is allowed otherwise.
 */
export function checkPriority(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_PRIORITY) {
    throw new FlumePayloadError(
      `priority must be an integer from 0 (the default) to ${MAX_PRIORITY}, ` +
        `higher runs first, got: ${describe(value)}`,
    );
  }
  return value;
}

/**
 * The priority a stored payload asks for (as priority_of in push-job.lua): 1 to
 * MAX_PRIORITY, or 0 for none, or a payload that cannot be read.
 */
export function priorityOf(payload: string): number {
  const priority = storedField(payload, 'priority');
  return typeof priority === 'number' &&
    Number.isInteger(priority) &&
    priority >= 1 &&
    priority <= MAX_PRIORITY
    ? priority
    : 0;
}
