import { GROUP_MARK } from './groups.js';
import { PRIORITY_MARK } from './priority.js';

/** How many marks of each kind a page of the waiting list holds. */
export function countMarks(listed: readonly string[]): { prioritized: number; grouped: number } {
  let prioritized = 0;
  let grouped = 0;
  for (const job of listed) {
    if (job === PRIORITY_MARK) prioritized++;
    else if (job === GROUP_MARK) grouped++;
  }
  return { prioritized, grouped };
}

/**
 * A page of the waiting list as jobs: the n-th priority mark of the page replaced by
 * `prioritized[n]`, the n-th group mark by `grouped[n]`; a mark with no job there (its
 * job was taken meanwhile, or the set was deleted by hand) is left out.
 */
export function replaceMarks(
  listed: readonly string[],
  prioritized: readonly (string | null | undefined)[],
  grouped: readonly (string | null | undefined)[],
): string[] {
  const jobs: string[] = [];
  let p = 0;
  let g = 0;
  for (const job of listed) {
    const stand =
      job === PRIORITY_MARK ? prioritized[p++] : job === GROUP_MARK ? grouped[g++] : job;
    if (stand !== undefined && stand !== null) jobs.push(stand);
  }
  return jobs;
}
