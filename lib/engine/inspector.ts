import type { StoreBackend } from './backend.js';
import { FlumePayloadError } from './errors/index.js';
import type { Job } from './job.js';
import { keyNameProblemFor, queueKeys, type QueueKeys } from './keys.js';
import { decodeJob, encodeJob } from './payload.js';
import type { FlumeStore, QueueStats } from './store.js';

/** The sorted sets of a queue whose jobs can be listed, retried now and deleted. */
export type JobSetName = 'scheduled' | 'retry' | 'dead';

export type { QueueStats };

/** A job of a scheduled, retry or dead set. */
export interface ListedJob {
  /** The job id, or null for a dead payload that was not a job at all. */
  jid: string | null;
  /** The decoded job, or null when the payload is not a valid job. */
  job: Job | null;
  /** Due time (scheduled, retry) or time of death (dead). */
  at: Date;
  /** The payload as stored. */
  payload: string;
}

/** Where a job is now. `gone`: in none of the queue's places (it succeeded, or was deleted). */
export type JobState = 'waiting' | 'running' | 'scheduled' | 'retry' | 'dead' | 'gone';

/** A job found by id (see Inspector.find). */
export interface FoundJob {
  state: JobState;
  /** The decoded job; null when gone, or when the stored document is not a valid job. */
  job: Job | null;
  /** The document as stored; undefined when gone. */
  payload?: string;
  /**
   * running: when its lease runs out unless renewed; scheduled, retry: when it is due;
   * dead: when it died. Undefined for waiting and gone.
   */
  at?: Date;
}

const JOB_SETS: readonly JobSetName[] = ['scheduled', 'retry', 'dead'];
const JID = /^[0-9A-Za-z-]{1,64}$/;

/**
 * The payload a dead job is enqueued with to run again: a job starts over with its
 * full retries; a payload set aside unrun (kept verbatim in `payload`) goes back as it was.
 */
function revived(member: string): string {
  const decoded = decodeJob(member);
  if (decoded.ok) return encodeJob({ ...decoded.job, retry_count: 0 });
  let document: unknown;
  try {
    document = JSON.parse(member);
  } catch {
    return member;
  }
  const kept = (document as { payload?: unknown } | null)?.payload;
  return typeof kept === 'string' ? kept : member;
}

function checkJid(jid: string): void {
  if (typeof jid !== 'string' || !JID.test(jid)) {
    throw new FlumePayloadError(
      `Expected a job id (letters, digits and dashes), got: ${String(jid)}`,
    );
  }
}

/** Reads and edits the job sets of queues: the engine's admin surface. */
export class Inspector {
  constructor(
    private readonly backend: Pick<StoreBackend, 'send'>,
    private readonly store: FlumeStore,
    private readonly namespace: string,
  ) {}

  async queueStats(queue: string): Promise<QueueStats> {
    const keys = this.keysOf(queue);
    // Inside send: a command Redis refused (NOPERM, WRONGTYPE) becomes a FlumeConnectionError too.
    return this.send(() => this.store.stats(keys));
  }

  /**
   * Where job `jid` of `queue` is, and the job: leased (running), waiting, scheduled,
   * retry, dead, or gone. Reads the waiting list in chunks: O(queue length), for admin use.
   */
  async find(queue: string, jid: string): Promise<FoundJob> {
    const keys = this.keysOf(queue);
    checkJid(jid);
    const found = (state: JobState, payload: string, at?: number): FoundJob => {
      const decoded = decodeJob(payload);
      return {
        state,
        job: decoded.ok ? decoded.job : null,
        payload,
        at: at === undefined ? undefined : new Date(at),
      };
    };
    const leased = await this.send(() => this.store.findLeased(keys, jid));
    if (leased) return found('running', leased.payload, leased.deadline);
    const waiting = await this.send(() => this.store.findWaiting(keys, jid));
    if (waiting !== undefined) return found('waiting', waiting);
    for (const set of JOB_SETS) {
      const member = await this.send(() => this.store.findByJid(keys[set], jid));
      if (member === undefined) continue;
      const score = await this.send(() => this.store.score(keys[set], member));
      return found(set, member, score ?? undefined);
    }
    return { state: 'gone', job: null };
  }

  /** Jobs of `set`, soonest (or oldest death) first. */
  async list(queue: string, set: JobSetName, offset = 0, limit = 50): Promise<ListedJob[]> {
    const key = this.setKey(queue, set);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new FlumePayloadError(
        `Expected offset to be a non-negative integer, got: ${String(offset)}`,
      );
    }
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new FlumePayloadError(`Expected limit to be a positive integer, got: ${String(limit)}`);
    }
    const members = await this.send(() => this.store.range(key, offset, limit));
    return members.map(({ member, score }) => {
      const decoded = decodeJob(member);
      const job = decoded.ok ? decoded.job : null;
      return { jid: job?.jid ?? null, job, at: new Date(score), payload: member };
    });
  }

  /**
   * Moves job `jid` of `set` to its queue to run now; a dead job starts over with
   * its full retries. Resolves to false when no such job is in the set.
   */
  async retryNow(queue: string, set: JobSetName, jid: string): Promise<boolean> {
    const keys = this.keysOf(queue);
    const member = await this.findInSet(this.setKey(queue, set), jid);
    if (member === undefined) return false;
    const payload = set === 'dead' ? revived(member) : member;
    return this.send(() => this.store.moveToQueue(keys[set], keys, member, payload));
  }

  /** Deletes job `jid` of `set`; resolves to false when no such job is in the set. */
  async remove(queue: string, set: JobSetName, jid: string): Promise<boolean> {
    const key = this.setKey(queue, set);
    const member = await this.findInSet(key, jid);
    return member !== undefined && (await this.send(() => this.store.remove(key, member)));
  }

  /** Finds a member by job id: payloads start with `{"jid":"<id>"`, so a ZSCAN MATCH finds it. */
  private async findInSet(key: string, jid: string): Promise<string | undefined> {
    checkJid(jid);
    return this.send(() => this.store.findByJid(key, jid));
  }

  private setKey(queue: string, set: JobSetName): string {
    if (!JOB_SETS.includes(set)) {
      throw new FlumePayloadError(
        `Expected a job set (${JOB_SETS.join(', ')}), got: ${String(set)}`,
      );
    }
    return this.keysOf(queue)[set];
  }

  private keysOf(queue: string): QueueKeys {
    const problem = keyNameProblemFor(queue);
    if (problem) throw new FlumePayloadError(`Invalid queue name: ${problem}`);
    return queueKeys(this.namespace, queue);
  }

  /** Runs a command once the store answers; failures become FlumeConnectionError. */
  private send<T>(command: () => Promise<T>): Promise<T> {
    return this.backend.send('did not answer the inspector', command);
  }
}
