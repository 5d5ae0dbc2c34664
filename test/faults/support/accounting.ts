import type { Redis } from 'ioredis';
import { runsKey } from '../fixtures/fixture-config.js';

/** What became of a set of job ids, from the runs the fixture recorded in Redis. */
export interface Accounting {
  /** Ids expected that completed at least once. */
  done: number;
  /** Ids expected that never completed. */
  missing: string[];
  /** Ids that completed more than once. */
  duplicates: string[];
  /** Completions of ids that were not expected (must stay 0). */
  unexpected: string[];
}

/** Reads the runs the fixture recorded: job id -> number of completed runs. */
export async function readRuns(redis: Redis, marks: string): Promise<Map<string, number>> {
  const runs = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, members] = await redis.sscan(runsKey(marks), cursor, 'COUNT', 5_000);
    cursor = next;
    for (const member of members) {
      const id = member.slice(0, member.lastIndexOf('|'));
      runs.set(id, (runs.get(id) ?? 0) + 1);
    }
  } while (cursor !== '0');
  return runs;
}

export async function account(
  redis: Redis,
  marks: string,
  expected: Iterable<string>,
): Promise<Accounting> {
  const runs = await readRuns(redis, marks);
  const wanted = new Set(expected);
  const result: Accounting = { done: 0, missing: [], duplicates: [], unexpected: [] };
  for (const id of wanted) {
    const count = runs.get(id) ?? 0;
    if (count === 0) result.missing.push(id);
    else result.done++;
    if (count > 1) result.duplicates.push(id);
  }
  for (const id of runs.keys()) if (!wanted.has(id)) result.unexpected.push(id);
  return result;
}

/** Every key under `prefix`, sorted (SCAN, so safe on a shared Redis). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

/** The fixture job id inside a stored payload. */
export function jobIdOf(payload: string): string {
  return (JSON.parse(payload) as { args: [string] }).args[0];
}
