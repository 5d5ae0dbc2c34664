import type { QueueKeys } from './keys.js';
import type { TakeReply } from './lease.js';

/** What `settle` does with a job that did not succeed. */
export type Settlement =
  /** Filed in the retry set, due after `delayMs`, as `document` (its new retry count, error). */
  | { kind: 'retry'; delayMs: number; document: string }
  /** Filed in the dead set as `document`. */
  | { kind: 'dead'; document: string }
  /** A payload that cannot run: filed in the dead set verbatim beside `reason`. */
  | { kind: 'aside'; reason: string; jid?: string };

/** How every document the engine writes starts: `jid` is always the first field. */
export function jidPrefix(jid: string): string {
  return `{"jid":"${jid}"`;
}

/** A job for pushJobs. */
export interface JobPush {
  jid: string;
  payload: string;
  /** The unique lock's key (the part after the queue's `:unique:`); none: a plain job. */
  lock?: string;
  ttlMs: number;
  /** Due time (ms since the epoch) for a scheduled job; every job of one call alike. */
  dueAt?: number;
  /** 1..MAX_PRIORITY: taken before the jobs without one (see priority.ts); none: 0. */
  priority?: number;
  /** The job's group (see lua/includes/groups.lua); none: a job of no group. */
  group?: string;
}

/** One tick of a periodic job, for claimTick. */
export interface TickClaim {
  name: string;
  /** The tick's time, ms since the epoch. */
  tick: number;
  /** A tick missed while every instance was down: claimed only after an earlier one was. */
  catchUp: boolean;
  jid: string;
  payload: string;
  unique?: { key: string; ttlMs: number };
}

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
  /** Limits of the queue's groups, across instances (0: none). */
  groups?: GroupLimits;
  /** Most jobs of the queue running at once, across instances (0 or none: no limit). */
  globalConcurrency?: number;
}

/** Limits each group of a queue is held to (0: no limit). */
export interface GroupLimits {
  /** Most jobs of one group running at once. */
  concurrency: number;
  /** Most jobs of one group started in any window of `rateWindowMs`. */
  rateCount: number;
  rateWindowMs: number;
}

/** A group of a queue, as the inspector lists it. */
export interface GroupStats {
  group: string;
  waiting: number;
  running: number;
  paused: boolean;
}

/** A take's reply, and whether the acknowledgements sent with it failed. */
export interface TakeResult extends TakeReply {
  /** Set when the acknowledgements sent with the take failed (the take itself did not). */
  ackError?: Error;
}

/**
 * Where jobs are kept, in the engine's words (jobs, leases, sets), never a backend's:
 * the pipelines, acker, taker, maintenance tasks, enqueuer, inspector, pauses and
 * rate limits speak only this. Two stores implement it with the same semantics:
 * RedisStore (the Lua scripts in lua/ define them, and each method names its script)
 * and MemoryStore (memory/, one process). Each call is atomic: nothing else sees a
 * job half way between two places.
 */
export interface FlumeStore {
  // --- Taking and settling leased jobs ---

  /**
   * Leases up to `count` waiting jobs in queue order, prioritized jobs first (take-12.lua); `request.acks` are
   * ended first (as `ack` does), in the same round trip.
   */
  take(keys: QueueKeys, queue: string, request: TakeRequest): Promise<TakeResult>;
  /** Deletes the record of take `token` (its reply arrived; nothing to abandon). */
  forgetTake(keys: QueueKeys, token: string): Promise<void>;
  /** Hands back the jobs of take `token` if it ran but its reply was lost; resolves to how many. */
  abandonTake(keys: QueueKeys, token: string): Promise<number>;
  /** Ends the leases of jobs that succeeded; resolves to how many were still held. */
  ack(keys: QueueKeys, ids: readonly string[]): Promise<number>;
  /** Extends leases `ids` by `leaseMs` from now; resolves to how many were still held. */
  renew(keys: QueueKeys, ids: readonly string[], leaseMs: number): Promise<number>;
  /** Ends lease `id` and files its job; false when the lease was already gone. */
  settle(
    keys: QueueKeys,
    queue: string,
    id: string,
    settlement: Settlement,
    dead: DeadSetBounds,
  ): Promise<boolean>;
  /** Hands leased jobs back to the head of their queue unchanged; resolves to how many. */
  requeue(keys: QueueKeys, ids: readonly string[]): Promise<number>;
  /**
   * Resolves to true once the queue has a job (at once when it has one), without taking
   * it; to false after `seconds`, or when `signal` aborts. On Redis it blocks a connection: call
   * it on the store a backend made for one pipeline's waits (StoreBackend.blocking).
   */
  waitForJobs(keys: QueueKeys, seconds: number, signal: AbortSignal): Promise<boolean>;

  // --- Maintenance ---

  /** Moves due scheduled and retry jobs to the queue; `nextDueMs` is -1 when none waits. */
  promote(keys: QueueKeys, limit: number): Promise<{ moved: number; nextDueMs: number }>;
  /**
   * Hands jobs with expired leases back to their queue; a job recovered more than
   * `maxRecoveries` times goes to the dead set instead (resolves to those documents).
   */
  recover(
    keys: QueueKeys,
    queue: string,
    limit: number,
    maxRecoveries: number,
    dead: DeadSetBounds,
  ): Promise<{ handedBack: number; buried: string[] }>;

  // --- New jobs ---

  /** Appends a job to its queue. */
  push(keys: QueueKeys, payload: string): Promise<void>;
  /** Appends jobs to their queue, all or none; `chunk` bounds the size of one command. */
  pushMany(keys: QueueKeys, payloads: readonly string[], chunk: number): Promise<void>;
  /** Files a job to run at `dueAt` (ms since the epoch). */
  schedule(keys: QueueKeys, payload: string, dueAt: number): Promise<void>;
  /**
   * Adds jobs a plain push cannot (enqueue-n.lua): each unique job only while no job
   * holds its lock, taking the lock with it; each job with a priority to the prioritized
   * jobs. To the queue, or the scheduled set when `dueAt` is given. Resolves to, per job,
   * the id of the job holding its lock (its own when added).
   */
  pushJobs(keys: QueueKeys, jobs: readonly JobPush[]): Promise<string[]>;
  /** Releases unique lock `lock` if job `jid` still holds it (release-unique-1.lua). */
  releaseUnique(keys: QueueKeys, lock: string, jid: string): Promise<void>;

  // --- Periodic jobs ---

  /**
   * Claims a tick of a periodic job and enqueues its job (claim-tick-4.lua), unless it
   * was claimed (or a later one), the job is paused, or its unique lock is held.
   * `waitMs` > 0: not due yet by the store's clock, nothing done.
   */
  claimTick(keys: QueueKeys, claim: TickClaim): Promise<{ enqueued: boolean; waitMs: number }>;
  /** Last tick claimed (ms) and paused state of periodic jobs `names` of one queue. */
  periodicState(
    keys: QueueKeys,
    names: readonly string[],
  ): Promise<{ lastTick?: number; paused: boolean }[]>;
  /** Pauses (or resumes) periodic job `name` for every instance. */
  setPeriodicPaused(keys: QueueKeys, name: string, paused: boolean): Promise<void>;

  // --- Groups ---

  /** The groups of a queue that have waiting or running jobs, or are paused. */
  groups(keys: QueueKeys): Promise<GroupStats[]>;
  /** Pauses (or resumes) group `group` of a queue for every instance. */
  setGroupPaused(keys: QueueKeys, group: string, paused: boolean): Promise<void>;

  // --- Inspection ---

  /** Waiting jobs of each queue. */
  waitingCounts(keys: readonly QueueKeys[]): Promise<number[]>;
  /** How many jobs of one queue are where. */
  stats(keys: QueueKeys): Promise<QueueStats>;
  /** Members of a job set with their scores, from `offset`, lowest score first. */
  range(
    setKey: string,
    offset: number,
    limit: number,
  ): Promise<{ member: string; score: number }[]>;
  /** Finds a member of a job set by job id: documents start with `{"jid":"<id>"`. */
  findByJid(setKey: string, jid: string): Promise<string | undefined>;
  /** The waiting payload of job `jid` (prioritized or in the list). */
  findWaiting(keys: QueueKeys, jid: string): Promise<string | undefined>;
  /** The leased job `jid`: its payload and lease deadline (ms). */
  findLeased(
    keys: QueueKeys,
    jid: string,
  ): Promise<{ payload: string; deadline: number } | undefined>;
  /** The score of `member` in a job set (due time or time of death, ms); null when gone. */
  score(setKey: string, member: string): Promise<number | null>;
  /** Moves `member` of set `from` to the tail of the queue as `payload`; false when gone. */
  moveToQueue(from: string, keys: QueueKeys, member: string, payload: string): Promise<boolean>;
  /** Deletes `member` of a job set; false when it was gone. */
  remove(setKey: string, member: string): Promise<boolean>;

  // --- Pages of jobs, heartbeats and history (the dashboard's reads) ---

  /** Length of a waiting list (`list`) or of a job set. */
  length(key: string, type: 'list' | 'zset'): Promise<number>;
  /** Up to `count` waiting jobs from index `start`, head (next to run) first. */
  waitingRange(keys: QueueKeys, start: number, count: number): Promise<string[]>;
  /**
   * Up to `count` leases from index `start`, soonest deadline first, with their payloads:
   * null for a lease that ended between the two reads.
   */
  leasedRange(
    keys: QueueKeys,
    start: number,
    count: number,
  ): Promise<{ id: string; deadline: number; payload: string | null }[]>;
  /** Deletes `members` of a job set; resolves to how many were there. */
  removeAll(setKey: string, members: readonly string[]): Promise<number>;
  /** Writes heartbeat `document` of process `id` under `key`, kept `ttlMs` unless written again. */
  beat(index: string, key: string, id: string, document: string, ttlMs: number): Promise<void>;
  /** Deletes the heartbeat of process `id` (it is shutting down). */
  forgetProcess(index: string, key: string, id: string): Promise<void>;
  /** The heartbeats still alive; ids whose heartbeat expired leave the index. */
  heartbeats(index: string, keyOf: (id: string) => string): Promise<string[]>;
  /** Values of counters, 0 for those that do not exist. */
  counters(keys: readonly string[]): Promise<number[]>;

  // --- Rate limits ---

  /**
   * Takes up to `wanted` permits of the rate limit whose window is `key`; members
   * are `prefix1..prefixN`. Resolves to the permits granted and, when none was, how
   * long until one frees, and the time (the store's clock, ms) they are stamped with.
   */
  limit(
    key: string,
    count: number,
    windowMs: number,
    wanted: number,
    prefix: string,
  ): Promise<{ granted: number; waitMs: number; stampedAt: number }>;
  /** Moves permits still in the window later, to `atMs` (never earlier). */
  restampPermits(key: string, members: readonly string[], atMs: number): Promise<void>;
  /** Gives back permits taken with `limit` but not used. */
  releasePermits(key: string, members: readonly string[]): Promise<void>;

  // --- Pauses for every instance ---

  /** Names of the pipelines paused for every instance. */
  pausedPipelines(key: string): Promise<string[]>;
  /** Stores (or lifts) the pause of `names` for every instance. */
  setPaused(key: string, names: readonly string[], paused: boolean): Promise<void>;

  // --- Readiness ---

  /**
   * True when each call is a round trip worth sharing (Redis): acknowledgements then wait
   * a moment to ride with the next take, and a busy pipeline lingers before it takes
   * again. False for the memory store, where nothing is saved by waiting (and a test's
   * fake clock would hold them).
   */
  readonly sharesRoundTrips: boolean;
  /** Resolves when the store answers a round trip (PING on Redis); rejects otherwise. */
  ping(): Promise<void>;
  /** Whether the store answers now (false while Redis is away or connecting). */
  readonly isReady: boolean;
  /** Whether the store is closed for good: nothing sent to it will get through. */
  readonly isClosed: boolean;
  /** Resolves once the store answers (at once when it does), or when `signal` aborts. Never rejects. */
  ready(signal: AbortSignal): Promise<void>;
}
