import { readFileSync } from 'node:fs';
import type { RedisClient } from './connection.js';
import { takeRecordKey, type QueueKeys } from './keys.js';

/** The Lua scripts, by file name; the number in the name is how many KEYS it takes. */
const SCRIPTS = {
  flumeTake: 'take-5.lua',
  flumeAbandonTake: 'abandon-take-3.lua',
  flumeSettle: 'settle-3.lua',
  flumePromote: 'promote-3.lua',
  flumeRecover: 'recover-3.lua',
  flumeRequeue: 'requeue-2.lua',
  flumeRenew: 'renew-1.lua',
  flumeLimit: 'limit-1.lua',
  flumeMoveToQueue: 'move-to-queue-2.lua',
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptCall = (...keysThenArgs: (string | number)[]) => Promise<unknown>;

function loadScript(file: string): { lua: string; numberOfKeys: number } {
  const lua = readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');
  const numberOfKeys = Number(/-(\d+)\.lua$/.exec(file)![1]);
  return { lua, numberOfKeys };
}

const LOADED = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, file]) => [name, loadScript(file)]),
) as Record<ScriptName, { lua: string; numberOfKeys: number }>;

/** What `settle` does with a job that did not succeed. */
export type Settlement = { kind: 'retry'; delayMs: number } | { kind: 'dead' };

export interface DeadSetBounds {
  maxJobs: number;
  maxAgeMs: number;
}

/**
 * The only place that runs the engine's Lua scripts. ioredis sends them by SHA
 * and falls back to EVAL once per connection when Redis does not know them yet.
 */
export class Scripts {
  constructor(private readonly redis: RedisClient) {
    for (const [name, script] of Object.entries(LOADED)) {
      if (!(name in redis)) redis.defineCommand(name, script);
    }
  }

  private run(name: ScriptName): ScriptCall {
    return (this.redis as unknown as Record<ScriptName, ScriptCall>)[name].bind(this.redis);
  }

  /**
   * Leases up to `count` waiting jobs; resolves to the leases, oldest first. `token`
   * names a record of the take, kept `recordMs`, for `abandonTake`; the record of
   * `previous` (a take whose reply arrived) is deleted.
   */
  async take(
    keys: QueueKeys,
    count: number,
    leaseMs: number,
    token: string,
    previous: string,
    recordMs: number,
  ): Promise<string[]> {
    const leases = await this.run('flumeTake')(
      keys.waiting,
      keys.processing,
      keys.leaseSeq,
      takeRecordKey(keys, token),
      takeRecordKey(keys, previous),
      count,
      leaseMs,
      recordMs,
    );
    return leases as string[];
  }

  /** Deletes the record of take `token` (its reply arrived; nothing to abandon). */
  async forgetTake(keys: QueueKeys, token: string): Promise<void> {
    await this.redis.del(takeRecordKey(keys, token));
  }

  /** Hands back the jobs of take `token` if it ran but its reply was lost; resolves to how many. */
  async abandonTake(keys: QueueKeys, token: string): Promise<number> {
    return (await this.run('flumeAbandonTake')(
      takeRecordKey(keys, token),
      keys.processing,
      keys.waiting,
    )) as number;
  }

  /** Ends a lease and files the job's new payload under retry or dead. */
  async settle(
    keys: QueueKeys,
    lease: string,
    payload: string,
    settlement: Settlement,
    dead: DeadSetBounds,
  ): Promise<boolean> {
    const moved = await this.run('flumeSettle')(
      keys.processing,
      keys.retry,
      keys.dead,
      lease,
      payload,
      settlement.kind,
      settlement.kind === 'retry' ? Math.round(settlement.delayMs) : 0,
      dead.maxJobs,
      dead.maxAgeMs,
    );
    return moved === 1;
  }

  /** Moves due scheduled and retry jobs to the queue. */
  async promote(keys: QueueKeys, limit: number): Promise<{ moved: number; nextDueMs: number }> {
    const [moved, nextDueMs] = (await this.run('flumePromote')(
      keys.scheduled,
      keys.retry,
      keys.waiting,
      limit,
    )) as [number, number];
    return { moved, nextDueMs };
  }

  /**
   * Hands jobs with expired leases back to their queue; a job recovered more than
   * `maxRecoveries` times goes to the dead set instead.
   */
  async recover(
    keys: QueueKeys,
    limit: number,
    maxRecoveries: number,
    dead: DeadSetBounds,
  ): Promise<{ handedBack: number; buried: string[] }> {
    const [handedBack, ...buried] = (await this.run('flumeRecover')(
      keys.processing,
      keys.waiting,
      keys.dead,
      limit,
      maxRecoveries,
      dead.maxJobs,
      dead.maxAgeMs,
    )) as [number, ...string[]];
    return { handedBack, buried };
  }

  /** Hands leased jobs back to their queue unchanged. */
  async requeue(keys: QueueKeys, leases: readonly string[]): Promise<number> {
    if (leases.length === 0) return 0;
    return (await this.run('flumeRequeue')(keys.processing, keys.waiting, ...leases)) as number;
  }

  /**
   * Takes up to `wanted` permits of the rate limit whose window is `key`; members
   * are `prefix1..prefixN`. Resolves to the permits granted and, when none was,
   * how long until one frees, and the time (Redis clock, ms) they are stamped with.
   */
  async limit(
    key: string,
    count: number,
    windowMs: number,
    wanted: number,
    prefix: string,
  ): Promise<{ granted: number; waitMs: number; stampedAt: number }> {
    const [granted, waitMs, stampedAt] = (await this.run('flumeLimit')(
      key,
      count,
      windowMs,
      wanted,
      prefix,
    )) as [number, number, number];
    return { granted, waitMs, stampedAt };
  }

  /** Moves `member` of the sorted set `from` to the queue as `payload`; false when it was gone. */
  async moveToQueue(
    from: string,
    keys: QueueKeys,
    member: string,
    payload: string,
  ): Promise<boolean> {
    return (await this.run('flumeMoveToQueue')(from, keys.waiting, member, payload)) === 1;
  }

  /** Moves permits still in the window later, to `atMs` (never earlier: ZADD XX GT). */
  async restampPermits(key: string, members: readonly string[], atMs: number): Promise<void> {
    if (members.length === 0) return;
    await this.redis.zadd(key, 'XX', 'GT', ...members.flatMap((member) => [atMs, member]));
  }

  /** Gives back permits taken with `limit` but not used (plain ZREM). */
  async releasePermits(key: string, members: readonly string[]): Promise<void> {
    if (members.length > 0) await this.redis.zrem(key, ...members);
  }

  /** Extends leases of running jobs by `leaseMs` from now. */
  async renew(keys: QueueKeys, leases: readonly string[], leaseMs: number): Promise<number> {
    if (leases.length === 0) return 0;
    return (await this.run('flumeRenew')(keys.processing, leaseMs, ...leases)) as number;
  }
}
