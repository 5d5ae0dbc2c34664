import { groupKey, takeRecordKey, uniqueLockKey, type QueueKeys } from '../keys.js';
import { GROUP_MARK, roundRobin } from '../groups.js';
import { countMarks, replaceMarks } from '../waiting-page.js';
import { addToGroup, isRouted, routeJob, runningByGroup } from './groups.js';
import {
  jidPrefix,
  type DeadSetBounds,
  type FlumeStore,
  type GroupStats,
  type QueueStats,
  type Settlement,
  type TakeRequest,
  type TakeResult,
  type TickClaim,
  type JobPush,
} from '../store.js';
import { now } from './clock.js';
import * as leases from './leases.js';
import { pushJob } from './push-job.js';
import type { MemoryDb } from './memory-db.js';

/**
 * The FlumeStore of one process: every call does what RedisStore's command or script
 * does, on a MemoryDb instead of Redis (the leases in leases.ts, the rest here), and
 * completes before it returns, so nothing interleaves with it. One store per app, as
 * a connection; apps sharing a MemoryDb see each other's jobs as on one Redis.
 */
export class MemoryStore implements FlumeStore {
  private closed = false;

  constructor(readonly db: MemoryDb) {}

  // --- Taking and settling leased jobs ---

  async take(keys: QueueKeys, queue: string, request: TakeRequest): Promise<TakeResult> {
    if (request.acks?.length) leases.ack(this.db, keys, request.acks);
    return leases.take(this.db, keys, queue, request);
  }

  async forgetTake(keys: QueueKeys, token: string): Promise<void> {
    this.db.del(takeRecordKey(keys, token));
  }

  async abandonTake(keys: QueueKeys, token: string): Promise<number> {
    return leases.abandonTake(this.db, keys, token);
  }

  async ack(keys: QueueKeys, ids: readonly string[]): Promise<number> {
    return leases.ack(this.db, keys, ids);
  }

  async renew(keys: QueueKeys, ids: readonly string[], leaseMs: number): Promise<number> {
    return leases.renew(this.db, keys, ids, leaseMs);
  }

  async settle(
    keys: QueueKeys,
    queue: string,
    id: string,
    settlement: Settlement,
    dead: DeadSetBounds,
  ): Promise<boolean> {
    return leases.settle(this.db, keys, queue, id, settlement, dead);
  }

  async requeue(keys: QueueKeys, ids: readonly string[]): Promise<number> {
    return leases.requeue(this.db, keys, ids);
  }

  /** Woken by the push itself: no timeout is needed (`seconds` bounds a Redis wait only). */
  async waitForJobs(keys: QueueKeys, _seconds: number, signal: AbortSignal): Promise<boolean> {
    await this.db.untilPushed(keys.waiting, signal);
    return !signal.aborted;
  }

  // --- Maintenance ---

  /** promote-6.lua */
  async promote(keys: QueueKeys, limit: number): Promise<{ moved: number; nextDueMs: number }> {
    const at = now();
    let moved = 0;
    let nextDueMs = -1;
    for (const setKey of [keys.scheduled, keys.retry]) {
      const due = this.db.zupTo(setKey, at, limit).map(({ member }) => member);
      const routed = due.map(isRouted);
      this.db.rpush(
        keys.waiting,
        due.filter((_, i) => !routed[i]),
      );
      due.forEach((member, i) => {
        if (routed[i]) routeJob(this.db, keys, member);
      });
      for (const member of due) this.db.zrem(setKey, member);
      moved += due.length;
      const [first] = this.db.zrange(setKey, 0, 0);
      if (first) {
        const wait = Math.max(0, first.score - at);
        if (nextDueMs < 0 || wait < nextDueMs) nextDueMs = wait;
      }
    }
    return { moved, nextDueMs };
  }

  async recover(
    keys: QueueKeys,
    queue: string,
    limit: number,
    maxRecoveries: number,
    dead: DeadSetBounds,
  ): Promise<{ handedBack: number; buried: string[] }> {
    return leases.recover(this.db, keys, queue, limit, maxRecoveries, dead);
  }

  // --- New jobs ---

  async push(keys: QueueKeys, payload: string): Promise<void> {
    this.db.rpush(keys.waiting, [payload]);
  }

  /** All at once: there is no command size to bound here. */
  async pushMany(keys: QueueKeys, payloads: readonly string[]): Promise<void> {
    this.db.rpush(keys.waiting, payloads);
  }

  async schedule(keys: QueueKeys, payload: string, dueAt: number): Promise<void> {
    this.db.zadd(keys.scheduled, Math.round(dueAt), payload);
  }

  /** enqueue-n.lua */
  async pushJobs(keys: QueueKeys, jobs: readonly JobPush[]): Promise<string[]> {
    return jobs.map((job) => {
      if (job.lock) {
        const lock = uniqueLockKey(keys, job.lock);
        const holder = this.db.get(lock);
        if (holder !== undefined) return holder;
        this.db.set(lock, job.jid, job.ttlMs);
      }
      if (job.dueAt === undefined && job.group !== undefined) {
        addToGroup(this.db, keys, job.group, job.payload, false);
        this.db.rpush(keys.waiting, [GROUP_MARK]);
      } else if (job.dueAt === undefined) {
        pushJob(this.db, keys, job.payload, job.priority ?? 0);
      } else this.db.zadd(keys.scheduled, Math.round(job.dueAt), job.payload);
      return job.jid;
    });
  }

  /** release-unique-1.lua */
  async releaseUnique(keys: QueueKeys, lock: string, jid: string): Promise<void> {
    const key = uniqueLockKey(keys, lock);
    if (this.db.get(key) === jid) this.db.del(key);
  }

  // --- Periodic jobs ---

  /** claim-tick-4.lua */
  async claimTick(
    keys: QueueKeys,
    claim: TickClaim,
  ): Promise<{ enqueued: boolean; waitMs: number }> {
    const at = now();
    if (claim.tick > at) return { enqueued: false, waitMs: claim.tick - at };
    const last = this.db.hget(keys.periodic, claim.name);
    if (claim.catchUp && last === undefined) return { enqueued: false, waitMs: 0 };
    if (last !== undefined && Number(last) >= claim.tick) return { enqueued: false, waitMs: 0 };
    this.db.hset(keys.periodic, claim.name, String(claim.tick));
    if (this.db.hget(keys.periodicPaused, claim.name) !== undefined) {
      return { enqueued: false, waitMs: 0 };
    }
    if (claim.unique) {
      const lock = uniqueLockKey(keys, claim.unique.key);
      if (this.db.get(lock) !== undefined) return { enqueued: false, waitMs: 0 };
      this.db.set(lock, claim.jid, claim.unique.ttlMs);
    }
    this.db.rpush(keys.waiting, [claim.payload]);
    return { enqueued: true, waitMs: 0 };
  }

  async periodicState(
    keys: QueueKeys,
    names: readonly string[],
  ): Promise<{ lastTick?: number; paused: boolean }[]> {
    return names.map((name) => {
      const last = this.db.hget(keys.periodic, name);
      return {
        lastTick: last === undefined ? undefined : Number(last),
        paused: this.db.hget(keys.periodicPaused, name) !== undefined,
      };
    });
  }

  async setPeriodicPaused(keys: QueueKeys, name: string, paused: boolean): Promise<void> {
    if (paused) this.db.hset(keys.periodicPaused, name, '1');
    else this.db.hdel(keys.periodicPaused, name);
  }

  // --- Groups ---

  async groups(keys: QueueKeys): Promise<GroupStats[]> {
    const listed = this.db.lrange(keys.groups, 0, -1);
    const running = runningByGroup(this.db, keys);
    const paused = this.db.hkeys(keys.groupsPaused);
    const names = [...new Set([...listed, ...running.keys(), ...paused])].sort();
    return names.map((group) => ({
      group,
      waiting: this.db.llen(groupKey(keys, group)),
      running: running.get(group) ?? 0,
      paused: paused.includes(group),
    }));
  }

  async setGroupPaused(keys: QueueKeys, group: string, paused: boolean): Promise<void> {
    if (paused) this.db.hset(keys.groupsPaused, group, '1');
    else this.db.hdel(keys.groupsPaused, group);
  }

  // --- Inspection ---

  async findWaiting(keys: QueueKeys, jid: string): Promise<string | undefined> {
    const prefix = jidPrefix(jid);
    const lists = [
      ...this.db.lrange(keys.groups, 0, -1).map((group) => groupKey(keys, group)),
      keys.waiting,
    ];
    return (
      (await this.findByJid(keys.prioritized, jid)) ??
      lists
        .map((list) => this.db.lrange(list, 0, -1).find((payload) => payload.startsWith(prefix)))
        .find((found) => found !== undefined)
    );
  }

  async findLeased(
    keys: QueueKeys,
    jid: string,
  ): Promise<{ payload: string; deadline: number } | undefined> {
    const prefix = jidPrefix(jid);
    for (const id of this.db.hkeys(keys.leases)) {
      const payload = this.db.hget(keys.leases, id)!;
      const deadline = this.db.zscore(keys.processing, id);
      if (payload.startsWith(prefix) && deadline !== undefined) return { payload, deadline };
    }
    return undefined;
  }

  async score(setKey: string, member: string): Promise<number | null> {
    return this.db.zscore(setKey, member) ?? null;
  }

  async waitingCounts(keys: readonly QueueKeys[]): Promise<number[]> {
    return keys.map((key) => this.db.llen(key.waiting));
  }

  async stats(keys: QueueKeys): Promise<QueueStats> {
    return {
      waiting: this.db.llen(keys.waiting),
      processing: this.db.zcard(keys.processing),
      scheduled: this.db.zcard(keys.scheduled),
      retry: this.db.zcard(keys.retry),
      dead: this.db.zcard(keys.dead),
    };
  }

  async range(
    setKey: string,
    offset: number,
    limit: number,
  ): Promise<{ member: string; score: number }[]> {
    return this.db.zrange(setKey, offset, offset + limit - 1);
  }

  async findByJid(setKey: string, jid: string): Promise<string | undefined> {
    const prefix = jidPrefix(jid);
    return this.db.zrange(setKey, 0, -1).find(({ member }) => member.startsWith(prefix))?.member;
  }

  /** move-to-queue-5.lua */
  async moveToQueue(
    from: string,
    keys: QueueKeys,
    member: string,
    payload: string,
  ): Promise<boolean> {
    if (!this.db.zrem(from, member)) return false;
    routeJob(this.db, keys, payload);
    return true;
  }

  async remove(setKey: string, member: string): Promise<boolean> {
    return this.db.zrem(setKey, member);
  }

  // --- Pages of jobs, heartbeats and history ---

  async length(key: string, type: 'list' | 'zset'): Promise<number> {
    return type === 'list' ? this.db.llen(key) : this.db.zcard(key);
  }

  async waitingRange(keys: QueueKeys, start: number, count: number): Promise<string[]> {
    const listed = this.db.lrange(keys.waiting, start, start + count - 1);
    const marks = countMarks(listed);
    if (marks.prioritized === 0 && marks.grouped === 0) return listed;
    const before = countMarks(start === 0 ? [] : this.db.lrange(keys.waiting, 0, start - 1));
    const prioritized = this.db
      .zrange(keys.prioritized, before.prioritized, before.prioritized + marks.prioritized - 1)
      .map(({ member }) => member);
    const turns = this.db.lrange(keys.groups, 0, -1).map((group) => ({
      group,
      waiting: this.db.llen(groupKey(keys, group)),
    }));
    const grouped = roundRobin(turns, before.grouped, marks.grouped).map(
      ({ group, index }) => this.db.lrange(groupKey(keys, group), index, index)[0],
    );
    return replaceMarks(listed, prioritized, grouped);
  }

  async leasedRange(
    keys: QueueKeys,
    start: number,
    count: number,
  ): Promise<{ id: string; deadline: number; payload: string | null }[]> {
    return this.db.zrange(keys.processing, start, start + count - 1).map(({ member, score }) => ({
      id: member,
      deadline: score,
      payload: this.db.hget(keys.leases, member) ?? null,
    }));
  }

  async removeAll(setKey: string, members: readonly string[]): Promise<number> {
    let removed = 0;
    for (const member of members) if (this.db.zrem(setKey, member)) removed++;
    return removed;
  }

  async beat(index: string, key: string, id: string, document: string, ttlMs: number) {
    this.db.set(key, document, ttlMs);
    this.db.zadd(index, now(), id);
  }

  async forgetProcess(index: string, key: string, id: string): Promise<void> {
    this.db.del(key);
    this.db.zrem(index, id);
  }

  async heartbeats(index: string, keyOf: (id: string) => string): Promise<string[]> {
    const documents: string[] = [];
    for (const { member: id } of this.db.zrange(index, 0, -1)) {
      const document = this.db.get(keyOf(id));
      if (document === undefined) this.db.zrem(index, id);
      else documents.push(document);
    }
    return documents;
  }

  async counters(keys: readonly string[]): Promise<number[]> {
    return keys.map((key) => Number(this.db.get(key) ?? 0) || 0);
  }

  // --- Rate limits ---

  /** limit-1.lua */
  async limit(
    key: string,
    count: number,
    windowMs: number,
    wanted: number,
    prefix: string,
  ): Promise<{ granted: number; waitMs: number; stampedAt: number }> {
    const at = now();
    this.db.zremUpTo(key, at - windowMs, true);
    const granted = Math.min(wanted, count - this.db.zcard(key));
    if (granted <= 0) {
      const [oldest] = this.db.zrange(key, 0, 0);
      return { granted: 0, waitMs: Math.max(1, oldest.score + windowMs - at + 1), stampedAt: at };
    }
    for (let i = 1; i <= granted; i++) this.db.zadd(key, at, `${prefix}${i}`);
    this.db.pexpire(key, windowMs * 2);
    return { granted, waitMs: 0, stampedAt: at };
  }

  /** ZADD XX GT: only members still in the window, only later. */
  async restampPermits(key: string, members: readonly string[], atMs: number): Promise<void> {
    for (const member of members) {
      const score = this.db.zscore(key, member);
      if (score !== undefined && atMs > score) this.db.zadd(key, atMs, member);
    }
  }

  async releasePermits(key: string, members: readonly string[]): Promise<void> {
    for (const member of members) this.db.zrem(key, member);
  }

  // --- Pauses for every instance ---

  async pausedPipelines(key: string): Promise<string[]> {
    return this.db.hkeys(key);
  }

  async setPaused(key: string, names: readonly string[], paused: boolean): Promise<void> {
    for (const name of names) {
      if (paused) this.db.hset(key, name, '1');
      else this.db.hdel(key, name);
    }
  }

  // --- Readiness: always, until the app closes its store ---

  get isReady(): boolean {
    return !this.closed;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async ready(): Promise<void> {}

  readonly sharesRoundTrips = false;

  async ping(): Promise<void> {
    if (this.closed) throw new Error('the memory store is closed (the app shut down)');
  }

  /** Marks the store closed (the app shut down); the data stays, as on a Redis server. */
  close(): void {
    this.closed = true;
  }
}
