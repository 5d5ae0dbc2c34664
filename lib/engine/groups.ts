import { describe } from './describe.js';
import { FlumePayloadError } from './errors/index.js';
import { storedField } from './stored-field.js';

// Job groups. A grouped job waits in its group's list and stands in the waiting list as
// one GROUP_MARK; the take fills each mark with the next group in turn that may start
// (round robin, under the group limits). lua/includes/groups.lua is the contract; the
// memory store follows it from here.

/** What stands in the waiting list for one job of some group. */
export const GROUP_MARK = '#';

/** Longest group name. */
export const MAX_GROUP_LENGTH = 200;

const FORBIDDEN = /[{}\s]/;

/**
 * Checks the `group` option: a non-empty string of at most 200 bytes without
 * braces or whitespace (it becomes part of a Redis key). Returns it, or undefined when
 * left out; throws a FlumePayloadError that says what is allowed otherwise.
 */
export function checkGroup(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    Buffer.byteLength(value) > MAX_GROUP_LENGTH ||
    FORBIDDEN.test(value)
  ) {
    throw new FlumePayloadError(
      `group must be a non-empty string of at most ${MAX_GROUP_LENGTH} bytes without ` +
        `braces or whitespace (a tenant id, say), got: ${describe(value)}`,
    );
  }
  return value;
}

/** The group a stored payload names (as group_of in groups.lua), or undefined. */
export function groupOf(payload: string): string | undefined {
  const group = storedField(payload, 'group');
  return typeof group === 'string' &&
    group.length > 0 &&
    Buffer.byteLength(group) <= MAX_GROUP_LENGTH &&
    !FORBIDDEN.test(group)
    ? group
    : undefined;
}

/**
 * Which job each group mark of the waiting list will most likely stand for: the round
 * robin over `groups` (in turn order, with their waiting counts), marks `skip` to
 * `skip + count - 1`. A group a limit holds at take time gives its turn to the next, so
 * this is the order when no limit holds. O(skip + count).
 */
export function roundRobin(
  groups: readonly { group: string; waiting: number }[],
  skip: number,
  count: number,
): { group: string; index: number }[] {
  const turns = groups.filter((g) => g.waiting > 0).map((g) => ({ ...g, next: 0 }));
  const picked: { group: string; index: number }[] = [];
  let at = 0;
  for (let mark = 0; mark < skip + count && turns.length > 0; mark++) {
    at %= turns.length;
    const turn = turns[at];
    if (mark >= skip) picked.push({ group: turn.group, index: turn.next });
    turn.next++;
    if (turn.next >= turn.waiting) turns.splice(at, 1);
    else at++;
  }
  return picked;
}
