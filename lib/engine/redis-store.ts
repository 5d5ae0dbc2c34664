import type { RedisClient } from './connection.js';
import { takeRecordKey, type QueueKeys } from './keys.js';
import { parseTakeReply, type TakeReply } from './lease.js';
import { Scripts } from './scripts.js';

/** What `settle` does with a job that did not succeed. */
export type Settlement =
  /** Filed in the retry set, due after `delayMs`, as `document` (its new retry count, error). */
  | { kind: 'retry'; delayMs: number; document: string }
  /** Filed in the dead set as `document`. */
  | { kind: 'dead'; document: string }
  /** A payload that cannot run: filed in the dead set verbatim beside `reason`. */
  | { kind: 'aside'; reason: string; jid?: string };

export interface DeadSetBounds {
  maxJobs: number;
  maxAgeMs: number;
}

/** How many jobs of a queue are where. */
export interface QueueStats {
  waiting: number;
  /** Leased by a worker (running, or about to). */
  processing: number;
  scheduled: number;
  retry: number;
  dead: number;
}

export interface TakeRequest {
  /** Most jobs to lease. */
  count: number;
  leaseMs: number;
  /** Names the record of this take (see abandonTake); `previous` names the last one. */
  token: string;
  previous: string;
  recordMs: number;
  /** Larger payloads are set aside in the dead set, never leased. */
  maxPayloadBytes: number;
  dead: DeadSetBounds;
  /** Leases of jobs that succeeded, ended (as `ack` does) just before the take. */
  acks?: readonly string[];
}

/** A take's reply, and whether the acknowledgements sent with it failed. */
export interface TakeResult extends TakeReply {
  /** Set when the acknowledgements sent with the take failed (the take itself did not). */
  ackError?: Error;
}

/**
 * Every command the engine sends to Redis, in one place: the pipeline, acker,
 * enqueuer, inspector and maintenance tasks speak in jobs and leases through it,
 * never in Redis commands. One store per connection (the command, worker and each
 * blocking connection have their own).
 */
export class RedisStore {
  private readonly scripts: Scripts;

  constructor(readonly redis: RedisClient) {
    this.scripts = new Scripts(redis);
  }

  // --- Taking and settling leased jobs (the pipelines' hot path) ---

  /**
   * Leases up to `count` waiting jobs, oldest first, in one round trip (take-8.lua).
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
      ],
      [
        request.count,
        request.leaseMs,
        request.recordMs,
        request.maxPayloadBytes,
        queue,
        request.dead.maxJobs,
        request.dead.maxAgeMs,
      ],
    ];
    if (!request.acks?.length) return parseTakeReply(await this.scripts.run('flumeTake', ...take));
    const [[ackError], [takeError, reply]] = await this.scripts.runTogether([
      ['flumeAck', this.ackKeys(keys), request.acks],
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

  /** Ends the leases of jobs that succeeded; resolves to how many were still held. */
  async ack(keys: QueueKeys, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.scripts.run('flumeAck', this.ackKeys(keys), ids)) as number;
  }

  private ackKeys(keys: QueueKeys): string[] {
    return [keys.processing, keys.leases, keys.recoveries];
  }

  /** Extends leases `ids` by `leaseMs` from now; resolves to how many were still held. */
  async renew(keys: QueueKeys, ids: readonly string[], leaseMs: number): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.scripts.run('flumeRenew', [keys.processing], [leaseMs, ...ids])) as number;
  }

  /** Ends lease `id` and files its job; false when the lease was already gone. */
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
      [keys.processing, keys.leases, keys.recoveries, keys.retry, keys.dead],
      [id, settlement.kind, delayMs, text, jid, queue, dead.maxJobs, dead.maxAgeMs],
    );
    return moved === 1;
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
   * Blocks (on this store's connection) until the queue has a job, without taking it:
   * resolves to true when one waits, false when `seconds` passed first.
   */
  async waitForJobs(keys: QueueKeys, seconds: number): Promise<boolean> {
    // BLMOVE onto the same end of the same list: wakes on the first RPUSH, moves nothing.
    return (await this.redis.blmove(keys.waiting, keys.waiting, 'LEFT', 'LEFT', seconds)) !== null;
  }

  // --- Maintenance ---

  /** Moves due scheduled and retry jobs to the queue. */
  async promote(keys: QueueKeys, limit: number): Promise<{ moved: number; nextDueMs: number }> {
    const [moved, nextDueMs] = (await this.scripts.run(
      'flumePromote',
      [keys.scheduled, keys.retry, keys.waiting],
      [limit],
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
        `{"jid":"${jid}"*`,
        'COUNT',
        1000,
      );
      if (found.length > 0) return found[0];
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
      (await this.scripts.run('flumeMoveToQueue', [from, keys.waiting], [member, payload])) === 1
    );
  }

  /** Deletes `member` of a job set; false when it was gone. */
  async remove(setKey: string, member: string): Promise<boolean> {
    return (await this.redis.zrem(setKey, member)) === 1;
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

  // --- The server ---

  /** INFO server and memory, for the boot-time checks. */
  async serverInfo(): Promise<string> {
    return (await this.redis.info('server')) + (await this.redis.info('memory'));
  }
}
