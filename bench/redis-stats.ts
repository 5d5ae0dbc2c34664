import type { Redis } from 'ioredis';

/**
 * Commands the bench itself or a connection's set-up sends (INFO, CONFIG, HELLO,
 * CLIENT SETNAME, ...): not part of any job's path, so left out of the per-job count.
 */
const HARNESS_COMMANDS = new Set([
  'info',
  'config|resetstat',
  'config|get',
  'config',
  'client|setname',
  'client|setinfo',
  'client',
  'hello',
  'ping',
  'select',
  'flushall',
  'quit',
  'script|load',
  'script',
]);

/** True for commands that are connection set-up or the bench's own, not a job's. */
export function isHarnessCommand(name: string): boolean {
  return HARNESS_COMMANDS.has(name);
}

export interface CommandCounts {
  /** Calls per command since the last reset (commands run by scripts included). */
  calls: Record<string, number>;
  /** Time Redis spent in each command (µs; a script's own time includes its commands'). */
  usec: Record<string, number>;
  /** Sum over the job path: every command but HARNESS_COMMANDS. */
  total: number;
  /** Left out of total. */
  harness: number;
}

/** `counts` minus `times` x the calls of `cost`: takes the bench's own probing off a count. */
export function withoutCost(
  counts: CommandCounts,
  cost: CommandCounts,
  times: number,
): CommandCounts {
  const calls: Record<string, number> = {};
  let total = 0;
  for (const [name, count] of Object.entries(counts.calls)) {
    const left = count - times * (cost.calls[name] ?? 0);
    calls[name] = left;
    if (!HARNESS_COMMANDS.has(name)) total += left;
  }
  return { calls, total, harness: counts.harness, usec: counts.usec };
}

/** Calls made between two readings. */
export function delta(after: CommandCounts, before: CommandCounts): CommandCounts {
  const calls: Record<string, number> = {};
  const usec: Record<string, number> = {};
  for (const [name, count] of Object.entries(after.calls)) {
    const diff = count - (before.calls[name] ?? 0);
    if (diff !== 0) calls[name] = diff;
    usec[name] = (after.usec[name] ?? 0) - (before.usec[name] ?? 0);
  }
  return {
    calls,
    usec,
    total: after.total - before.total,
    harness: after.harness - before.harness,
  };
}

/** Zeroes Redis' command statistics (INFO commandstats). */
export async function resetCommandStats(redis: Redis): Promise<void> {
  await redis.config('RESETSTAT');
}

/**
 * Reads INFO commandstats. Redis counts every command run inside EVAL/EVALSHA as
 * well as the EVALSHA itself, so this is what a job really costs Redis.
 */
export async function readCommandStats(redis: Redis): Promise<CommandCounts> {
  const text = String(await redis.info('commandstats'));
  const calls: Record<string, number> = {};
  const usec: Record<string, number> = {};
  let total = 0;
  let harness = 0;
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    const [, name, count, spent] = match;
    calls[name] = Number(count);
    usec[name] = Number(spent);
    if (HARNESS_COMMANDS.has(name)) harness += Number(count);
    else total += Number(count);
  }
  return { calls, usec, total, harness };
}

/**
 * CPU seconds the redis-server process has used (user + system, INFO cpu): parsing,
 * running commands and scripts, and socket I/O. The server is the bench's own, so the
 * difference between two readings is what the library in between cost Redis.
 */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const text = String(await redis.info('cpu'));
  const read = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(text)?.[1]);
  return read('used_cpu_user') + read('used_cpu_sys');
}

/** Bytes Redis uses for data now (INFO memory used_memory). */
export async function usedMemory(redis: Redis): Promise<number> {
  const text = String(await redis.info('memory'));
  return Number(/^used_memory:(\d+)/m.exec(text)?.[1] ?? NaN);
}

/** Clients blocked in a blocking command (BLMOVE, BZPOPMIN, ...) right now. */
export async function blockedClients(redis: Redis): Promise<number> {
  const text = String(await redis.info('clients'));
  return Number(/^blocked_clients:(\d+)/m.exec(text)?.[1] ?? 0);
}
