import type { RedisClient } from './connection.js';
import { HISTORY_KEPT_MS, minuteOf } from './history.js';
import {
  groupKey,
  historyKey,
  takeRecordKey,
  uniqueLockKey,
  type HistoryKind,
  type QueueKeys,
} from './keys.js';
import { parseTakeReply, type TakeReply } from './lease.js';
import { GROUP_MARK, roundRobin } from './groups.js';
import { PRIORITY_MARK } from './priority.js';
import { countMarks, replaceMarks } from './waiting-page.js';
import { Scripts } from './scripts.js';
import type {
  DeadSetBounds,
  FlumeStore,
  GroupStats,
  QueueStats,
  Settlement,
  TakeRequest,
  TakeResult,
  TickClaim,
  JobPush,
} from './store.js';
import { jidPrefix } from './store.js';
import { untilReady } from './wait.js';

/**
 * Every command the engine sends to Redis, in one place: the FlumeStore on Redis. One
 * store per connection (the command, worker and each blocking connection have their own).
 */
export class RedisStore implements FlumeStore {
  private readonly scripts: Scripts;

  constructor(readonly redis: RedisClient) {
    this.scripts = new Scripts(redis);
  }

  // --- Taking and settling leased jobs (the pipelines' hot path) ---

  /**
   * Leases up to `count` waiting jobs, in queue order, in one round trip (take-12.lua).
   * `request.acks` are ended first (ack-3.lua), sent in the same write: one wake-up of
   * Redis for both. Rejects when the take fails.
   */
  async take(keys: QueueKeys, queue: string, request: TakeRequest): Promise<TakeResult> {
    const take: [readonly string[], readonly (string | number)[]] = [
      [
        keys.waiting,
        keys.processing,
        keys.leases,
        keys.leaseSeq,
        keys.recoveries,
        keys.dead,
        takeRecordKey(keys, request.token),
        takeRecordKey(keys, request.previous),
        keys.prioritized,
        keys.groups,
        keys.groupLeases,
        keys.groupsPaused,
      ],
      [
        request.count,
        request.leaseMs,
        request.recordMs,
        request.maxPayloadBytes,
        queue,
        request.dead.maxJobs,
        request.dead.maxAgeMs,
        keys.groupPrefix,
        keys.groupLimitPrefix,
        request.groups?.concurrency ?? 0,
        request.groups?.rateCount ?? 0,
        request.groups?.rateWindowMs ?? 0,
        request.globalConcurrency ?? 0,
      ],
    ];
    if (!request.acks?.length) return parseTakeReply(await this.scripts.run('flumeTake', ...take));
    const [[ackError], [takeError, reply]] = await this.scripts.runTogether([
      ['flumeAck', this.ackKeys(keys), this.ackArgs(request.acks)],
      ['flumeTake', ...take],
    ]);
    if (takeError) throw takeError;
    const taken = parseTakeReply(reply);
    return ackError ? { ...taken, ackError } : taken;
  }

  /** Deletes the record of take `token` (its reply arrived; nothing to abandon). */
  async forgetTake(keys: QueueKeys, token: string): Promise<void> {
    await this.redis.del(takeRecordKey(keys, token));
  }

  /** Hands back the jobs of take `token` if it ran but its reply was lost; resolves to how many. */
  async abandonTake(keys: QueueKeys, token: string): Promise<number> {
    return (await this.scripts.run(
      'flumeAbandonTake',
      [takeRecordKey(keys, token), keys.processing, keys.leases, keys.waiting],
      [],
    )) as number;
  }

  /**
   * Ends the leases of jobs that succeeded and counts them in this minute's history;
   * resolves to how many were still held.
   */
  async ack(keys: QueueKeys, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.scripts.run('flumeAck', this.ackKeys(keys), this.ackArgs(ids))) as number;
  }

  /** The keys of ack-4.lua: the lease keys, and this minute's history counter. */
  private ackKeys(keys: QueueKeys): string[] {
    return [keys.processing, keys.leases, keys.recoveries, this.historyNow(keys, 'processed')];
  }

  private ackArgs(ids: readonly string[]): (string | number)[] {
    return [HISTORY_KEPT_MS, ...ids];
  }

  /** Extends leases `ids` by `leaseMs` from now; resolves to how many were still held. */
  async renew(keys: QueueKeys, ids: readonly string[], leaseMs: number): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.scripts.run('flumeRenew', [keys.processing], [leaseMs, ...ids])) as number;
  }

  /**
   * Ends lease `id`, files its job and counts it in this minute's history of failures;
   * false when the lease was already gone.
   */
  async settle(
    keys: QueueKeys,
    queue: string,
    id: string,
    settlement: Settlement,
    dead: DeadSetBounds,
  ): Promise<boolean> {
    const [delayMs, text, jid] =
      settlement.kind === 'retry'
        ? [Math.round(settlement.delayMs), settlement.document, '']
        : settlement.kind === 'dead'
          ? [0, settlement.document, '']
          : [0, settlement.reason, settlement.jid ?? ''];
    const moved = await this.scripts.run(
      'flumeSettle',
      [
        keys.processing,
        keys.leases,
        keys.recoveries,
        keys.retry,
        keys.dead,
        this.historyNow(keys, 'failed'),
      ],
      [
        id,
        settlement.kind,
        delayMs,
        text,
        jid,
        queue,
        dead.maxJobs,
        dead.maxAgeMs,
        HISTORY_KEPT_MS,
      ],
    );
    return moved === 1;
  }

  /** The history counter of this minute (this process's clock: a minute's edge may blur). */
  private historyNow(keys: QueueKeys, kind: HistoryKind): string {
    return historyKey(keys, kind, minuteOf(Date.now()));
  }

  /** Hands leased jobs back to the head of their queue unchanged; resolves to how many. */
  async requeue(keys: QueueKeys, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.scripts.run(
      'flumeRequeue',
      [keys.processing, keys.leases, keys.waiting],
      ids,
    )) as number;
  }

  /**
   * Blocks this store's connection until the queue has a job, without taking it:
   * resolves to true when one waits, false when `seconds` passed first (or on abort).
   * An abort cuts the wait by dropping the connection: it must be one of the pipeline's own.
   */
  async waitForJobs(keys: QueueKeys, seconds: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    const cut = () => this.redis.disconnect();
    signal.addEventListener('abort', cut, { once: true });
    try {
      // BLMOVE onto the same end of the same list: wakes on the first RPUSH, moves nothing.
      const moved = await this.redis.blmove(keys.waiting, keys.waiting, 'LEFT', 'LEFT', seconds);
      return moved !== null;
    } finally {
      signal.removeEventListener('abort', cut);
    }
  }

  // --- Maintenance ---

  /** Moves due scheduled and retry jobs to the queue. */
  async promote(keys: QueueKeys, limit: number): Promise<{ moved: number; nextDueMs: number }> {
    const [moved, nextDueMs] = (await this.scripts.run(
      'flumePromote',
      [keys.scheduled, keys.retry, keys.waiting, keys.prioritized, keys.prioritySeq, keys.groups],
      [limit, keys.groupPrefix],
    )) as [number, number];
    return { moved, nextDueMs };
  }

  /**
   * Hands jobs with expired leases back to their queue; a job recovered more than
   * `maxRecoveries` times goes to the dead set instead (resolves to those documents).
   */
  async recover(
    keys: QueueKeys,
    queue: string,
    limit: number,
    maxRecoveries: number,
    dead: DeadSetBounds,
  ): Promise<{ handedBack: number; buried: string[] }> {
    const [handedBack, ...buried] = (await this.scripts.run(
      'flumeRecover',
      [keys.processing, keys.leases, keys.waiting, keys.dead, keys.recoveries],
      [limit, maxRecoveries, dead.maxJobs, dead.maxAgeMs, queue],
    )) as [number, ...string[]];
    return { handedBack, buried };
  }

  // --- New jobs ---

  /** Appends a job to its queue (the enqueuer coalesces single enqueues into pushMany). */
  async push(keys: QueueKeys, payload: string): Promise<void> {
    await this.redis.rpush(keys.waiting, payload);
  }

  /** Appends jobs to their queue, all or none (a MULTI when sent in several commands). */
  async pushMany(keys: QueueKeys, payloads: readonly string[], chunk: number): Promise<void> {
    if (payloads.length <= chunk) {
      await this.redis.rpush(keys.waiting, ...payloads);
      return;
    }
    const transaction = this.redis.multi();
    for (let i = 0; i < payloads.length; i += chunk) {
      transaction.rpush(keys.waiting, ...payloads.slice(i, i + chunk));
    }
    const results = await transaction.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('the transaction was discarded');
  }

  /**
   * Adds jobs a plain RPUSH cannot (enqueue-n.lua): a unique job only while no job holds
   * its lock, taking the lock with it; a job with a priority to the prioritized set. To
   * the queue, or the scheduled set when `dueAt` is given. Resolves to, per job, the id
   * of the job holding its lock (its own when added).
   */
  async pushJobs(keys: QueueKeys, jobs: readonly JobPush[]): Promise<string[]> {
    const scheduled = jobs[0]?.dueAt !== undefined;
    const locks = jobs.map((job) => (job.lock ? uniqueLockKey(keys, job.lock) : keys.waiting));
    const args = jobs.flatMap((job) => [
      job.lock ? job.ttlMs : 0,
      job.jid,
      job.payload,
      Math.round(job.dueAt ?? 0),
      job.priority ?? 0,
      job.group ?? '',
    ]);
    return (await this.scripts.run(
      'flumeEnqueue',
      [
        scheduled ? keys.scheduled : keys.waiting,
        keys.prioritized,
        keys.prioritySeq,
        keys.groups,
        ...locks,
      ],
      [scheduled ? 'zset' : 'list', keys.groupPrefix, ...args],
    )) as string[];
  }

  /** Releases the unique lock `lock` if job `jid` still holds it. */
  async releaseUnique(keys: QueueKeys, lock: string, jid: string): Promise<void> {
    await this.scripts.run('flumeReleaseUnique', [uniqueLockKey(keys, lock)], [jid]);
  }

  /**
   * Claims tick `tick` of periodic `name` and enqueues its job, unless another instance
   * claimed it (or a later one), it is paused, or its unique lock is held. `waitMs` > 0:
   * not due yet by Redis' clock, nothing done.
   */
  async claimTick(
    keys: QueueKeys,
    claim: TickClaim,
  ): Promise<{ enqueued: boolean; waitMs: number }> {
    const lock = claim.unique ? uniqueLockKey(keys, claim.unique.key) : keys.waiting;
    const [enqueued, waitMs] = (await this.scripts.run(
      'flumeClaimTick',
      [keys.periodic, keys.periodicPaused, keys.waiting, lock],
      [
        claim.name,
        claim.tick,
        claim.catchUp ? 'catch-up' : 'tick',
        claim.payload,
        claim.jid,
        claim.unique?.ttlMs ?? 0,
      ],
    )) as [number, number];
    return { enqueued: enqueued === 1, waitMs };
  }

  /** Last tick claimed (ms) and paused state of periodic jobs `names` of one queue. */
  async periodicState(
    keys: QueueKeys,
    names: readonly string[],
  ): Promise<{ lastTick?: number; paused: boolean }[]> {
    if (names.length === 0) return [];
    const [last, paused] = await Promise.all([
      this.redis.hmget(keys.periodic, ...names),
      this.redis.hmget(keys.periodicPaused, ...names),
    ]);
    return names.map((_, i) => ({
      lastTick: last[i] === null ? undefined : Number(last[i]),
      paused: paused[i] !== null,
    }));
  }

  /** Pauses (or resumes) periodic job `name` for every instance: its ticks enqueue nothing. */
  async setPeriodicPaused(keys: QueueKeys, name: string, paused: boolean): Promise<void> {
    if (paused) await this.redis.hset(keys.periodicPaused, name, '1');
    else await this.redis.hdel(keys.periodicPaused, name);
  }

  // --- Groups ---

  /**
   * The groups of a queue with waiting or running jobs, or paused: the groups list, the
   * group leases of the processing set, and the paused groups (one slot: one pipeline).
   */
  async groups(keys: QueueKeys): Promise<GroupStats[]> {
    const [listed, ids, paused] = await Promise.all([
      this.redis.lrange(keys.groups, 0, -1),
      this.redis.zrange(keys.processing, '0', '-1'),
      this.redis.hkeys(keys.groupsPaused),
    ]);
    const running = new Map<string, number>();
    for (let i = 0; i < ids.length; i += 1_000) {
      const groups = await this.redis.hmget(keys.groupLeases, ...ids.slice(i, i + 1_000));
      for (const group of groups)
        if (group !== null) running.set(group, (running.get(group) ?? 0) + 1);
    }
    const names = [...new Set([...listed, ...running.keys(), ...paused])].sort();
    const waiting = await Promise.all(names.map((group) => this.redis.llen(groupKey(keys, group))));
    const pausedSet = new Set(paused);
    return names.map((group, i) => ({
      group,
      waiting: waiting[i],
      running: running.get(group) ?? 0,
      paused: pausedSet.has(group),
    }));
  }

  /** Pauses (or resumes) group `group` for every instance: the take skips its jobs. */
  async setGroupPaused(keys: QueueKeys, group: string, paused: boolean): Promise<void> {
    if (paused) await this.redis.hset(keys.groupsPaused, group, '1');
    else await this.redis.hdel(keys.groupsPaused, group);
  }

  /** Files a job to run at `dueAt` (ms since the epoch). */
  async schedule(keys: QueueKeys, payload: string, dueAt: number): Promise<void> {
    await this.redis.zadd(keys.scheduled, Math.round(dueAt), payload);
  }

  // --- Inspection ---

  /** Waiting jobs of each queue: one LLEN per queue, sent together (not one pipeline, which a Cluster refuses across slots). */
  waitingCounts(keys: readonly QueueKeys[]): Promise<number[]> {
    return Promise.all(keys.map((key) => this.redis.llen(key.waiting)));
  }

  /** How many jobs of one queue are where; rejects with the first command's error. */
  async stats(keys: QueueKeys): Promise<QueueStats> {
    // One queue, one slot: a pipeline is fine on a cluster too.
    const results = await this.redis
      .pipeline()
      .llen(keys.waiting)
      .zcard(keys.processing)
      .zcard(keys.scheduled)
      .zcard(keys.retry)
      .zcard(keys.dead)
      .exec();
    const [waiting, processing, scheduled, retry, dead] = results!.map(([err, count]) => {
      if (err) throw err;
      return count as number;
    });
    return { waiting, processing, scheduled, retry, dead };
  }

  /** Members of a job set with their scores, from `offset`. */
  async range(
    setKey: string,
    offset: number,
    limit: number,
  ): Promise<{ member: string; score: number }[]> {
    const flat = await this.redis.zrange(
      setKey,
      String(offset),
      String(offset + limit - 1),
      'WITHSCORES',
    );
    const members: { member: string; score: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      members.push({ member: flat[i], score: Number(flat[i + 1]) });
    }
    return members;
  }

  /** Finds a member of a job set by job id: documents start with `{"jid":"<id>"`. */
  async findByJid(setKey: string, jid: string): Promise<string | undefined> {
    let cursor = '0';
    do {
      const [next, found] = await this.redis.zscan(
        setKey,
        cursor,
        'MATCH',
        `${jidPrefix(jid)}*`,
        'COUNT',
        1000,
      );
      if (found.length > 0) return found[0];
      cursor = next;
    } while (cursor !== '0');
    return undefined;
  }

  /**
   * The waiting payload of job `jid`: in the prioritized set, a group's list, or the
   * queue's list, read in chunks (never one long command).
   */
  async findWaiting(keys: QueueKeys, jid: string, chunk = 1_000): Promise<string | undefined> {
    const prioritized = await this.findByJid(keys.prioritized, jid);
    if (prioritized !== undefined) return prioritized;
    const prefix = jidPrefix(jid);
    for (const group of await this.redis.lrange(keys.groups, 0, -1)) {
      const found = await this.findInList(groupKey(keys, group), prefix, chunk);
      if (found !== undefined) return found;
    }
    return this.findInList(keys.waiting, prefix, chunk);
  }

  /** The first item of list `key` that starts with `prefix`, read in chunks. */
  private async findInList(
    key: string,
    prefix: string,
    chunk: number,
  ): Promise<string | undefined> {
    for (let start = 0; ; start += chunk) {
      const payloads = await this.redis.lrange(key, start, start + chunk - 1);
      const found = payloads.find((payload) => payload.startsWith(prefix));
      if (found !== undefined || payloads.length < chunk) return found;
    }
  }

  /** The leased job `jid`: its payload and lease deadline (ms), read with HSCAN. */
  async findLeased(
    keys: QueueKeys,
    jid: string,
  ): Promise<{ payload: string; deadline: number } | undefined> {
    const prefix = jidPrefix(jid);
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(keys.leases, cursor, 'COUNT', 1000);
      for (let i = 1; i < flat.length; i += 2) {
        if (!flat[i].startsWith(prefix)) continue;
        const score = await this.redis.zscore(keys.processing, flat[i - 1]);
        if (score !== null) return { payload: flat[i], deadline: Number(score) };
      }
      cursor = next;
    } while (cursor !== '0');
    return undefined;
  }

  /** Moves `member` of set `from` to the tail of the queue as `payload`; false when gone. */
  async moveToQueue(
    from: string,
    keys: QueueKeys,
    member: string,
    payload: string,
  ): Promise<boolean> {
    return (
      (await this.scripts.run(
        'flumeMoveToQueue',
        [from, keys.waiting, keys.prioritized, keys.prioritySeq, keys.groups],
        [member, payload, keys.groupPrefix],
      )) === 1
    );
  }

  /** The score of `member` in a job set (due time or time of death, ms); null when gone. */
  async score(setKey: string, member: string): Promise<number | null> {
    const score = await this.redis.zscore(setKey, member);
    return score === null ? null : Number(score);
  }

  /** Deletes `member` of a job set; false when it was gone. */
  async remove(setKey: string, member: string): Promise<boolean> {
    return (await this.redis.zrem(setKey, member)) === 1;
  }

  // --- Pages of jobs, heartbeats and history (the dashboard's reads) ---

  /** Length of a waiting list (`list`) or of a job set. */
  length(key: string, type: 'list' | 'zset'): Promise<number> {
    return type === 'list' ? this.redis.llen(key) : this.redis.zcard(key);
  }

  /**
   * Up to `count` waiting jobs from index `start`, head (next to run) first: each
   * priority mark of the list shows the prioritized job it stands for, each group mark
   * the job the round robin gives it when no group limit holds.
   */
  async waitingRange(keys: QueueKeys, start: number, count: number): Promise<string[]> {
    const listed = await this.redis.lrange(keys.waiting, start, start + count - 1);
    const marks = countMarks(listed);
    if (marks.prioritized === 0 && marks.grouped === 0) return listed;
    // The marks before `start` stand for the first jobs: skip as many.
    const before = async (mark: string, inPage: number) =>
      start === 0 || inPage === 0
        ? 0
        : (await this.redis.lpos(keys.waiting, mark, 'COUNT', 0, 'MAXLEN', start)).length;
    const [prioritizedBefore, groupedBefore] = await Promise.all([
      before(PRIORITY_MARK, marks.prioritized),
      before(GROUP_MARK, marks.grouped),
    ]);
    const prioritized =
      marks.prioritized === 0
        ? []
        : await this.redis.zrange(
            keys.prioritized,
            String(prioritizedBefore),
            String(prioritizedBefore + marks.prioritized - 1),
          );
    let grouped: (string | null)[] = [];
    if (marks.grouped > 0) {
      const turns = await this.redis.lrange(keys.groups, 0, -1);
      const waiting = await Promise.all(
        turns.map((group) => this.redis.llen(groupKey(keys, group))),
      );
      const picks = roundRobin(
        turns.map((group, i) => ({ group, waiting: waiting[i] })),
        groupedBefore,
        marks.grouped,
      );
      grouped = await Promise.all(
        picks.map(({ group, index }) => this.redis.lindex(groupKey(keys, group), index)),
      );
    }
    return replaceMarks(listed, prioritized, grouped);
  }

  /**
   * Up to `count` leases from index `start`, soonest deadline first, with their
   * payloads: null for a lease that ended between the two reads.
   */
  async leasedRange(
    keys: QueueKeys,
    start: number,
    count: number,
  ): Promise<{ id: string; deadline: number; payload: string | null }[]> {
    const leases = await this.range(keys.processing, start, count);
    if (leases.length === 0) return [];
    const payloads = await this.redis.hmget(keys.leases, ...leases.map((lease) => lease.member));
    return leases.map((lease, i) => ({
      id: lease.member,
      deadline: lease.score,
      payload: payloads[i],
    }));
  }

  /** Deletes `members` of a job set; resolves to how many were there. */
  async removeAll(setKey: string, members: readonly string[]): Promise<number> {
    return members.length === 0 ? 0 : this.redis.zrem(setKey, ...members);
  }

  /** Writes heartbeat `document` of process `id`, kept `ttlMs` unless written again. */
  async beat(index: string, key: string, id: string, document: string, ttlMs: number) {
    // Same hash tag: one pipeline, on a Cluster too.
    const results = await this.redis
      .pipeline()
      .set(key, document, 'PX', ttlMs)
      .zadd(index, Date.now(), id)
      .exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** Deletes the heartbeat of process `id` (it is shutting down). */
  async forgetProcess(index: string, key: string, id: string): Promise<void> {
    const results = await this.redis.pipeline().del(key).zrem(index, id).exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** The heartbeats still alive; ids whose heartbeat expired leave the index. */
  async heartbeats(index: string, keyOf: (id: string) => string): Promise<string[]> {
    const ids = await this.redis.zrange(index, '0', '-1');
    const documents = await this.mget(ids.map(keyOf));
    const expired = ids.filter((_, i) => documents[i] === null);
    if (expired.length > 0) await this.redis.zrem(index, ...expired);
    return documents.filter((document): document is string => document !== null);
  }

  /** Values of counters, 0 for those that do not exist; on a Cluster, keys of one slot only. */
  async counters(keys: readonly string[]): Promise<number[]> {
    return (await this.mget(keys)).map((value) => Number(value ?? 0) || 0);
  }

  private async mget(keys: readonly string[]): Promise<(string | null)[]> {
    const values: (string | null)[] = [];
    for (let i = 0; i < keys.length; i += 500) {
      values.push(...(await this.redis.mget(...keys.slice(i, i + 500))));
    }
    return values;
  }

  // --- Rate limits ---

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
    const [granted, waitMs, stampedAt] = (await this.scripts.run(
      'flumeLimit',
      [key],
      [count, windowMs, wanted, prefix],
    )) as [number, number, number];
    return { granted, waitMs, stampedAt };
  }

  /** Moves permits still in the window later, to `atMs` (never earlier: ZADD XX GT). */
  async restampPermits(key: string, members: readonly string[], atMs: number): Promise<void> {
    if (members.length === 0) return;
    await this.redis.zadd(key, 'XX', 'GT', ...members.flatMap((member) => [atMs, member]));
  }

  /** Gives back permits taken with `limit` but not used. */
  async releasePermits(key: string, members: readonly string[]): Promise<void> {
    if (members.length > 0) await this.redis.zrem(key, ...members);
  }

  // --- Pauses for every instance ---

  /** Names of the pipelines paused for every instance. */
  pausedPipelines(key: string): Promise<string[]> {
    return this.redis.hkeys(key);
  }

  /** Stores (or lifts) the pause of `names` for every instance. */
  async setPaused(key: string, names: readonly string[], paused: boolean): Promise<void> {
    if (names.length === 0) return;
    if (paused) await this.redis.hset(key, Object.fromEntries(names.map((n) => [n, '1'])));
    else await this.redis.hdel(key, ...names);
  }

  // --- Readiness ---

  get isReady(): boolean {
    return this.redis.status === 'ready';
  }

  get isClosed(): boolean {
    return this.redis.status === 'end';
  }

  ready(signal: AbortSignal): Promise<void> {
    return untilReady(this.redis, signal);
  }

  readonly sharesRoundTrips = true;

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  // --- The server ---

  /** INFO server and memory, for the boot-time checks. */
  async serverInfo(): Promise<string> {
    return (await this.redis.info('server')) + (await this.redis.info('memory'));
  }
}
