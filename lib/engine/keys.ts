/**
 * Every Redis key the engine touches is spelled here and nowhere else.
 *
 * All keys of one queue carry the queue name as a hash tag (`{name}`), so each
 * Lua script works on keys of a single Redis Cluster slot.
 */
export interface QueueKeys {
  /**
   * List of waiting job payloads: RPUSH to enqueue, taken from the head. A job with a
   * priority waits in `prioritized` and stands here as one PRIORITY_MARK, pushed to the
   * head: LLEN counts every waiting job, and a push wakes an idle pipeline either way.
   */
  readonly waiting: string;
  /**
   * Sorted set of waiting jobs with a priority (see lua/includes/push-job.lua); score =
   * (100 - priority) * 2^40 + a sequence number: highest priority first, in order within one.
   */
  readonly prioritized: string;
  /** Counter that orders the jobs of one priority in `prioritized`. */
  readonly prioritySeq: string;
  /**
   * List of the groups that have waiting jobs, each once, in the order the take serves
   * them (round robin; see lua/includes/groups.lua). A group's jobs wait in
   * `groupKey(keys, group)`, each standing in the waiting list as one GROUP_MARK.
   */
  readonly groups: string;
  /** Hash of lease id -> group, for leases of grouped jobs: what counts a group's running jobs. */
  readonly groupLeases: string;
  /** Hash of group -> "1" while the group is paused for every instance. */
  readonly groupsPaused: string;
  /** What the key of a group's waiting list starts with (the group's name follows). */
  readonly groupPrefix: string;
  /** What the key of a group's rate-limit window starts with (the group's name follows). */
  readonly groupLimitPrefix: string;
  /** Sorted set of leased jobs; member = lease id, score = lease deadline (ms). */
  readonly processing: string;
  /** Hash of lease id -> payload of each leased job: the payload is stored once, at take. */
  readonly leases: string;
  /**
   * Hash of sha1(payload) -> times the job's worker stopped mid-job; the count travels
   * with the job while it waits and ends when the job settles.
   */
  readonly recoveries: string;
  /** Counter that hands out lease ids. */
  readonly leaseSeq: string;
  /** Sorted set of jobs enqueued for later; score = due time (ms). */
  readonly scheduled: string;
  /** Sorted set of failed jobs waiting for their next attempt; score = due time (ms). */
  readonly retry: string;
  /** Sorted set of jobs out of retries or unrunnable; score = time of death (ms). */
  readonly dead: string;
  /** Hash of periodic job name -> time of the last tick claimed (ms). */
  readonly periodic: string;
  /** Hash of periodic job name -> "1" while paused for every instance. */
  readonly periodicPaused: string;
}

/** Record of one take (see take-12.lua), named by the taker's token; same hash tag as its queue. */
export function takeRecordKey(keys: QueueKeys, token: string): string {
  return `${keys.waiting}:take:${token}`;
}

/** Lock of a unique job (see enqueue-n.lua); same hash tag as its queue. */
export function uniqueLockKey(keys: QueueKeys, key: string): string {
  return `${keys.waiting}:unique:${key}`;
}

/** List of the waiting jobs of group `group` (see QueueKeys.groups); same hash tag as its queue. */
export function groupKey(keys: QueueKeys, group: string): string {
  return `${keys.groupPrefix}${group}`;
}

/** Sliding window of group `group`'s rate limit (sorted set of lease ids by start time, ms). */
export function groupLimitKey(keys: QueueKeys, group: string): string {
  return `${keys.groupLimitPrefix}${group}`;
}

/** Sliding window of a rate limit; its own hash tag, as pipelines of many queues may share it. */
export function rateLimitKey(namespace: string, key: string): string {
  return `${namespace}:limit:{${key}}`;
}

/** Hash of pipeline name -> "1" for pipelines paused for every instance (`temporary: false`). */
export function pausedPipelinesKey(namespace: string): string {
  return `${namespace}:pipelines:paused`;
}

/** What a history counter counts: jobs that succeeded, or failed attempts. */
export type HistoryKind = 'processed' | 'failed';

/**
 * Counter of the jobs of a queue that `kind` during one minute (`minute`: minutes since
 * the epoch); a string, counted by ack-4.lua and settle-6.lua, expiring by itself.
 */
export function historyKey(keys: QueueKeys, kind: HistoryKind, minute: number): string {
  return `${keys.waiting}:${kind}:${minute}`;
}

/**
 * Sorted set of the ids of the processes that sent a heartbeat (score: when, ms) and
 * the heartbeat of process `id` (a JSON string that expires unless renewed); one hash
 * tag, so one MGET reads them all on a Redis Cluster too.
 */
export function processesKey(namespace: string): string {
  return `${namespace}:processes:{processes}`;
}

export function processKey(namespace: string, id: string): string {
  return `${processesKey(namespace)}:${id}`;
}

const FORBIDDEN_IN_NAMES = /[{}\s]/;

/** Returns why `name` cannot be used in a key, or undefined when it can. */
export function keyNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'expected a non-empty string';
  if (FORBIDDEN_IN_NAMES.test(name)) return 'it must not contain braces or whitespace';
  return undefined;
}

export function queueKeys(namespace: string, queue: string): QueueKeys {
  const base = `${namespace}:queue:{${queue}}`;
  return {
    waiting: base,
    processing: `${base}:processing`,
    leases: `${base}:leases`,
    recoveries: `${base}:recoveries`,
    leaseSeq: `${base}:lease_seq`,
    prioritized: `${base}:prioritized`,
    prioritySeq: `${base}:priority_seq`,
    groups: `${base}:groups`,
    groupLeases: `${base}:group_leases`,
    groupsPaused: `${base}:groups_paused`,
    groupPrefix: `${base}:group:`,
    groupLimitPrefix: `${base}:group_limit:`,
    scheduled: `${base}:scheduled`,
    retry: `${base}:retry`,
    dead: `${base}:dead`,
    periodic: `${base}:periodic`,
    periodicPaused: `${base}:periodic_paused`,
  };
}

/** Like keyNameProblem, phrased for a message that quotes the value. */
export function keyNameProblemFor(name: unknown): string | undefined {
  const problem = keyNameProblem(name);
  return problem && `${problem}, got: ${JSON.stringify(name) ?? String(name)}`;
}
