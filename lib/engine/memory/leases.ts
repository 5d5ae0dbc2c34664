import { createHash } from 'node:crypto';
import { HISTORY_KEPT_MS, minuteOf } from '../history.js';
import { historyKey, takeRecordKey, type QueueKeys } from '../keys.js';
import type { Lease, TakeReply } from '../lease.js';
import type { DeadSetBounds, Settlement, TakeRequest } from '../store.js';
import { now } from './clock.js';
import { GROUP_MARK, groupOf } from '../groups.js';
import { PRIORITY_MARK } from '../priority.js';
import { addToGroup, GroupTurns, leaseToGroup } from './groups.js';
import { bury, setAsideDocument } from './dead-set.js';
import type { MemoryDb } from './memory-db.js';

// The lease scripts of lua/ (take-12, abandon-take-4, ack-4, renew-1, settle-6,
// requeue-3, recover-5), step for step, over the memory keyspace: the same lease ids,
// recovery counts keyed by sha1(payload), take records and dead-set documents. Each
// header there is the contract; comments here only say where the port differs.

/** The key of the recoveries hash: the sha1 of the payload, as redis.sha1hex gives it. */
function digest(payload: string): string {
  return createHash('sha1').update(payload).digest('hex');
}

/** take-12.lua */
export function take(
  db: MemoryDb,
  keys: QueueKeys,
  queue: string,
  request: TakeRequest,
): TakeReply {
  db.del(takeRecordKey(keys, request.previous));
  let count = request.count;
  let queueFull = false;
  const cap = request.globalConcurrency ?? 0;
  if (cap > 0) {
    const free = cap - db.zcard(keys.processing);
    if (free < count) {
      count = Math.max(free, 0);
      queueFull = true;
    }
    if (count === 0) {
      const waiting =
        db.llen(keys.waiting) > 0 || db.exists(keys.prioritized) || db.exists(keys.groups);
      return waiting ? { leases: [], oversized: [], blockedMs: 0 } : { leases: [], oversized: [] };
    }
  }
  const listed = db.lrange(keys.waiting, 0, count - 1);
  const at = now();
  if (listed.length < count) queueFull = false;

  const usesGroups = db.exists(keys.groups) || db.exists(keys.groupLeases);
  let marks = 0;
  const rejoin = new Map<number, string>();
  listed.forEach((job, i) => {
    if (job === PRIORITY_MARK) marks++;
    else if (job !== GROUP_MARK && usesGroups) {
      const group = groupOf(job);
      if (group !== undefined) rejoin.set(i, group);
    }
  });
  const hasGroups = rejoin.size > 0 || listed.includes(GROUP_MARK) || usesGroups;
  const wanted =
    listed.length < count && db.exists(keys.prioritized) ? marks + count - listed.length : marks;
  const prioritized =
    wanted > 0 ? db.zrange(keys.prioritized, 0, wanted - 1).map(({ member }) => member) : [];

  const limits = request.groups ?? { concurrency: 0, rateCount: 0, rateWindowMs: 0 };
  const turns = new GroupTurns(db, keys, limits, at);
  // Grouped payloads of the list rejoin the head of their groups, newest first.
  for (const [i, group] of [...rejoin].reverse()) addToGroup(db, keys, group, listed[i], true);
  const jobs: string[] = [];
  const groupsOf = new Map<number, string>();
  let keptMarks = 0;
  let nextPrioritized = 0;
  /** Takes the first job of the next group in turn; a mark (`forMark`) none can fill is kept. */
  const takeGrouped = (forMark: boolean): boolean => {
    const next = turns.next();
    if (typeof next === 'string') {
      if (forMark && next === 'blocked') keptMarks++;
      return false;
    }
    groupsOf.set(jobs.length, next.group);
    jobs.push(next.job);
    return true;
  };
  listed.forEach((job, i) => {
    if (job === PRIORITY_MARK) {
      if (nextPrioritized < prioritized.length) jobs.push(prioritized[nextPrioritized++]);
    } else if (job === GROUP_MARK || rejoin.has(i)) {
      takeGrouped(true);
    } else {
      jobs.push(job);
    }
  });
  jobs.push(...prioritized.slice(nextPrioritized));
  // The list ran out: grouped jobs without a mark run too.
  let more = listed.length < count && hasGroups;
  while (more && jobs.length < count) more = takeGrouped(false);
  db.dropHead(keys.waiting, listed.length);
  for (let i = 0; i < keptMarks; i++) db.lpush(keys.waiting, GROUP_MARK);
  if (prioritized.length > 0) db.zremRanks(keys.prioritized, 0, prioritized.length - 1);
  const blocked =
    queueFull || (turns.failed && (turns.full || turns.rateWait === undefined))
      ? 0
      : turns.failed
        ? turns.rateWait
        : undefined;
  const blockedMs = blocked === undefined ? {} : { blockedMs: blocked };
  if (jobs.length === 0) return { leases: [], oversized: [], ...blockedMs };
  const suspects = db.hlen(keys.recoveries) > 0;
  // Lua's #job counts bytes.
  const sizes = jobs.map((job) => Buffer.byteLength(job));
  const leasedAt = jobs.map((_, i) => i).filter((i) => sizes[i] <= request.maxPayloadBytes);
  const leased = leasedAt.map((i) => jobs[i]);
  const tooLarge = jobs.filter((_, i) => sizes[i] > request.maxPayloadBytes);

  const leases: Lease[] = [];
  if (leased.length > 0) {
    const deadline = at + request.leaseMs;
    const first = db.incrby(keys.leaseSeq, leased.length) - leased.length + 1;
    leased.forEach((payload, i) => {
      const id = String(first + i);
      db.zadd(keys.processing, deadline, id);
      db.hset(keys.leases, id, payload);
      const group = groupsOf.get(leasedAt[i]);
      if (group !== undefined) leaseToGroup(db, keys, id, group, limits, at);
      const times = suspects ? db.hget(keys.recoveries, digest(payload)) : undefined;
      leases.push({ id, payload, recoveries: times === undefined ? 0 : Number(times) });
    });
    const record = `${first} ${first + leased.length - 1} ${deadline}`;
    db.set(takeRecordKey(keys, request.token), record, request.recordMs);
  }

  const oversized: number[] = [];
  for (const job of tooLarge) {
    const bytes = Buffer.byteLength(job);
    oversized.push(bytes);
    const reason =
      `the payload is ${bytes} bytes, over maxPayloadBytes (${request.maxPayloadBytes}): ` +
      'set aside without running';
    bury(db, keys.dead, at, setAsideDocument('', queue, reason, at, job), request.dead);
  }
  return { leases, oversized, ...blockedMs };
}

/** abandon-take-4.lua */
export function abandonTake(db: MemoryDb, keys: QueueKeys, token: string): number {
  const recordKey = takeRecordKey(keys, token);
  const record = db.get(recordKey);
  if (record === undefined) return 0;
  const [first, last, deadline] = record.split(' ').map(Number);
  // Every lease of one take has the same deadline; leases renewed since are not ours.
  const ids = db
    .zat(keys.processing, deadline)
    .map(({ member }) => Number(member))
    .filter((id) => id >= first && id <= last)
    .sort((a, b) => a - b)
    .map(String);
  const count = handBack(db, keys, ids, false);
  db.del(recordKey);
  return count;
}

/** ack-3.lua */
export function ack(db: MemoryDb, keys: QueueKeys, ids: readonly string[]): number {
  if (db.hlen(keys.recoveries) > 0) {
    for (const id of ids) {
      const payload = db.hget(keys.leases, id);
      if (payload !== undefined) db.hdel(keys.recoveries, digest(payload));
    }
  }
  let ended = 0;
  for (const id of ids) if (db.zrem(keys.processing, id)) ended++;
  for (const id of ids) db.hdel(keys.leases, id);
  countInHistory(db, historyKey(keys, 'processed', minuteOf(now())), ended);
  return ended;
}

/** includes/history.lua: the minute's counter gets its lifetime when it is created. */
function countInHistory(db: MemoryDb, key: string, count: number): void {
  if (count > 0 && db.incrby(key, count) === count) db.pexpire(key, HISTORY_KEPT_MS);
}

/** renew-1.lua: ZADD XX CH, so a lease already at the new deadline does not count. */
export function renew(db: MemoryDb, keys: QueueKeys, ids: readonly string[], leaseMs: number) {
  const deadline = now() + leaseMs;
  let renewed = 0;
  for (const id of ids) {
    const score = db.zscore(keys.processing, id);
    if (score === undefined || score === deadline) continue;
    db.zadd(keys.processing, deadline, id);
    renewed++;
  }
  return renewed;
}

/** settle-5.lua */
export function settle(
  db: MemoryDb,
  keys: QueueKeys,
  queue: string,
  id: string,
  settlement: Settlement,
  dead: DeadSetBounds,
): boolean {
  if (!db.zrem(keys.processing, id)) return false;
  const payload = db.hget(keys.leases, id);
  db.hdel(keys.leases, id);
  if (payload !== undefined && db.hlen(keys.recoveries) > 0) {
    db.hdel(keys.recoveries, digest(payload));
  }
  const at = now();
  if (settlement.kind === 'retry') {
    db.zadd(keys.retry, at + Math.round(settlement.delayMs), settlement.document);
  } else if (settlement.kind === 'dead') {
    bury(db, keys.dead, at, settlement.document, dead);
  } else {
    const document = setAsideDocument(
      settlement.jid ?? '',
      queue,
      settlement.reason,
      at,
      payload ?? '',
    );
    bury(db, keys.dead, at, document, dead);
  }
  countInHistory(db, historyKey(keys, 'failed', minuteOf(at)), 1);
  return true;
}

/** requeue-3.lua */
export function requeue(db: MemoryDb, keys: QueueKeys, ids: readonly string[]): number {
  return handBack(db, keys, ids, true);
}

/**
 * Puts the payloads of leases `ids` (oldest first) back at the head of the queue, in
 * order, and ends the leases. With `onlyHeld`, an id no longer in the processing set
 * is skipped (requeue); without, its payload goes back if the leases hash has it
 * (abandon-take, which found the ids in the set itself).
 */
function handBack(db: MemoryDb, keys: QueueKeys, ids: readonly string[], onlyHeld: boolean) {
  let count = 0;
  // LPUSH one at a time from the newest, so the oldest ends up first.
  for (let i = ids.length - 1; i >= 0; i--) {
    const held = db.zrem(keys.processing, ids[i]);
    if (onlyHeld && !held) continue;
    const payload = db.hget(keys.leases, ids[i]);
    if (payload !== undefined) {
      db.lpush(keys.waiting, payload);
      count++;
    }
    db.hdel(keys.leases, ids[i]);
  }
  return count;
}

/** recover-5.lua */
export function recover(
  db: MemoryDb,
  keys: QueueKeys,
  queue: string,
  limit: number,
  maxRecoveries: number,
  dead: DeadSetBounds,
): { handedBack: number; buried: string[] } {
  const at = now();
  const expired = db.zupTo(keys.processing, at, limit).map(({ member }) => member);
  let handedBack = 0;
  const buried: string[] = [];
  // LPUSH reverses: walk from the newest so the oldest ends up first.
  for (let i = expired.length - 1; i >= 0; i--) {
    const id = expired[i];
    const payload = db.hget(keys.leases, id);
    // No payload: a take that failed half way left the id alone; nothing to hand back.
    if (payload !== undefined) {
      const key = digest(payload);
      const count = db.hincrby(keys.recoveries, key, 1);
      if (count > maxRecoveries) {
        const reason =
          `its worker stopped while running it ${count} times ` +
          '(crashed, was killed, or stalled past the visibility timeout)';
        const document =
          payload.startsWith('{') && payload.endsWith('}') && payload.length > 2
            ? `${payload.slice(0, -1)},"error_message":${JSON.stringify(reason)},"failed_at":${at / 1000}}`
            : setAsideDocument('', queue, reason, at, payload);
        bury(db, keys.dead, at, document, dead);
        db.hdel(keys.recoveries, key);
        buried.push(document);
      } else {
        db.lpush(keys.waiting, payload);
        handedBack++;
      }
    }
    db.zrem(keys.processing, id);
    db.hdel(keys.leases, id);
  }
  return { handedBack, buried };
}
