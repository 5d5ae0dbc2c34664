import { groupKey, groupLimitKey, type QueueKeys } from '../keys.js';
import type { GroupLimits } from '../store.js';
import { GROUP_MARK, groupOf } from '../groups.js';
import { priorityOf } from '../priority.js';
import { pushJob } from './push-job.js';
import type { MemoryDb } from './memory-db.js';

// lua/includes/groups.lua and the group steps of take-12.lua, over the memory keyspace.

/** add_to_group: to the tail of the group's list (`front`: the head), listing the group. */
export function addToGroup(
  db: MemoryDb,
  keys: QueueKeys,
  group: string,
  payload: string,
  front: boolean,
): void {
  const list = groupKey(keys, group);
  if (front) db.lpush(list, payload);
  else db.rpush(list, [payload]);
  if (db.llen(list) === 1) db.rpush(keys.groups, [group]);
}

/** is_routed of route-job.lua: whether a payload asks for a group or a priority. */
export function isRouted(payload: string): boolean {
  return groupOf(payload) !== undefined || priorityOf(payload) > 0;
}

/** route_job of route-job.lua: to its group, by its priority, or to the tail. */
export function routeJob(db: MemoryDb, keys: QueueKeys, payload: string): void {
  const group = groupOf(payload);
  if (group === undefined) {
    pushJob(db, keys, payload, priorityOf(payload));
    return;
  }
  addToGroup(db, keys, group, payload, false);
  db.rpush(keys.waiting, [GROUP_MARK]);
}

/** The round robin over a queue's groups during one take (next_grouped of take-12.lua). */
export class GroupTurns {
  /** Set once no group in turn may start a job (the rotation failed). */
  failed = false;
  /** A group was held by its concurrency, or paused. */
  full = false;
  /** The soonest a rate window lets a held group start a job, ms. */
  rateWait?: number;
  private readonly state = new Map<
    string,
    { paused: boolean; running?: number; started?: number }
  >();
  private running?: Map<string, number>;

  constructor(
    private readonly db: MemoryDb,
    private readonly keys: QueueKeys,
    private readonly limits: GroupLimits,
    private readonly at: number,
  ) {}

  /** The first job of the next group in turn that may start, or why there is none. */
  next(): { job: string; group: string } | 'blocked' | 'empty' {
    if (this.failed) return 'blocked';
    const turns = this.db.llen(this.keys.groups);
    if (turns === 0) return 'empty';
    for (let i = 0; i < turns; i++) {
      const group = this.db.rotate(this.keys.groups)!;
      if (!this.mayStart(group)) continue;
      const list = groupKey(this.keys, group);
      const job = this.db.lpop(list);
      if (this.db.llen(list) === 0) this.db.removeLast(this.keys.groups, group);
      if (job === undefined) continue;
      const s = this.state.get(group)!;
      if (s.running !== undefined) s.running++;
      if (s.started !== undefined) s.started++;
      return { job, group };
    }
    this.failed = true;
    return 'blocked';
  }

  private mayStart(group: string): boolean {
    const { concurrency, rateCount, rateWindowMs } = this.limits;
    let s = this.state.get(group);
    if (!s) {
      s = { paused: this.db.hget(this.keys.groupsPaused, group) !== undefined };
      if (concurrency > 0) {
        this.running ??= runningByGroup(this.db, this.keys);
        s.running = this.running.get(group) ?? 0;
      }
      if (rateCount > 0) {
        const window = groupLimitKey(this.keys, group);
        this.db.zremUpTo(window, this.at - rateWindowMs, true);
        s.started = this.db.zcard(window);
      }
      this.state.set(group, s);
    }
    if (s.paused || (concurrency > 0 && s.running! >= concurrency)) {
      this.full = true;
      return false;
    }
    if (rateCount > 0 && s.started! >= rateCount) {
      const [oldest] = this.db.zrange(groupLimitKey(this.keys, group), 0, 0);
      // None yet when this take filled the window: those starts are stamped now.
      const wait = Math.max(1, (oldest?.score ?? this.at) + rateWindowMs - this.at);
      if (this.rateWait === undefined || wait < this.rateWait) this.rateWait = wait;
      return false;
    }
    return true;
  }
}

/** Running jobs per group: the group leases of the processing set (running_counts). */
export function runningByGroup(db: MemoryDb, keys: QueueKeys): Map<string, number> {
  const counts = new Map<string, number>();
  const ids = db.zrange(keys.processing, 0, -1).map(({ member }) => member);
  for (const id of ids) {
    const group = db.hget(keys.groupLeases, id);
    if (group !== undefined) counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  if (db.hlen(keys.groupLeases) > 2 * ids.length + 1_000) {
    const live = new Set(ids);
    for (const id of db.hkeys(keys.groupLeases)) if (!live.has(id)) db.hdel(keys.groupLeases, id);
  }
  return counts;
}

/** Records the group of a lease, and its start in the group's rate window. */
export function leaseToGroup(
  db: MemoryDb,
  keys: QueueKeys,
  id: string,
  group: string,
  limits: GroupLimits,
  at: number,
): void {
  db.hset(keys.groupLeases, id, group);
  if (limits.rateCount > 0) {
    const window = groupLimitKey(keys, group);
    db.zadd(window, at, id);
    db.pexpire(window, limits.rateWindowMs);
  }
}
