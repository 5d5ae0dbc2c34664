import type { RedisClient, RedisConnections } from './connection.js';
import { FlumePayloadError } from './errors/index.js';
import type { Job } from './job.js';
import { keyNameProblemFor, queueKeys, type QueueKeys } from './keys.js';
import { decodeJob, encodeJob } from './payload.js';
import type { Scripts } from './scripts.js';

/** The sorted sets of a queue whose jobs can be listed, retried now and deleted. */
export type JobSetName = 'scheduled' | 'retry' | 'dead';

/** How many jobs of a queue are where. */
export interface QueueStats {
  waiting: number;
  /** Leased by a worker (running, or about to). */
  processing: number;
  scheduled: number;
  retry: number;
  dead: number;
}

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

const JOB_SETS: readonly JobSetName[] = ['scheduled', 'retry', 'dead'];
const JID = /^[0-9A-Za-z-]{1,64}$/;

/** Reads and edits the job sets of queues: the engine's admin surface. */
export class Inspector {
  constructor(
    private readonly connections: RedisConnections,
    private readonly scripts: Scripts,
    private readonly namespace: string,
  ) {}

  async queueStats(queue: string): Promise<QueueStats> {
    const keys = this.keysOf(queue);
    // One queue, one slot: a pipeline is fine on a cluster too.
    const results = await this.send((redis) =>
      redis
        .pipeline()
        .llen(keys.waiting)
        .zcard(keys.processing)
        .zcard(keys.scheduled)
        .zcard(keys.retry)
        .zcard(keys.dead)
        .exec(),
    );
    const [waiting, processing, scheduled, retry, dead] = results!.map(([err, count]) => {
      if (err) throw err;
      return count as number;
    });
    return { waiting, processing, scheduled, retry, dead };
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
    const flat = await this.send((redis) =>
      redis.zrange(key, String(offset), String(offset + limit - 1), 'WITHSCORES'),
    );
    const listed: ListedJob[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const decoded = decodeJob(flat[i]);
      const job = decoded.ok ? decoded.job : null;
      listed.push({
        jid: job?.jid ?? null,
        job,
        at: new Date(Number(flat[i + 1])),
        payload: flat[i],
      });
    }
    return listed;
  }

  /**
   * Moves job `jid` of `set` to its queue to run now; a dead job starts over with
   * its full retries. Resolves to false when no such job is in the set.
   */
  async retryNow(queue: string, set: JobSetName, jid: string): Promise<boolean> {
    const keys = this.keysOf(queue);
    const member = await this.find(this.setKey(queue, set), jid);
    if (member === undefined) return false;
    let payload = member;
    const decoded = decodeJob(member);
    if (set === 'dead' && decoded.ok) {
      // A fresh start: full retries, and a clean recovery count for a job buried as poison.
      payload = encodeJob({ ...decoded.job, retry_count: 0, recoveries: undefined });
    }
    return this.send(() => this.scripts.moveToQueue(keys[set], keys, member, payload));
  }

  /** Deletes job `jid` of `set`; resolves to false when no such job is in the set. */
  async remove(queue: string, set: JobSetName, jid: string): Promise<boolean> {
    const key = this.setKey(queue, set);
    const member = await this.find(key, jid);
    return member !== undefined && (await this.send((redis) => redis.zrem(key, member))) === 1;
  }

  /** Finds a member by job id: payloads start with `{"jid":"<id>"`, so a ZSCAN MATCH finds it. */
  private async find(key: string, jid: string): Promise<string | undefined> {
    if (typeof jid !== 'string' || !JID.test(jid)) {
      throw new FlumePayloadError(
        `Expected a job id (letters, digits and dashes), got: ${String(jid)}`,
      );
    }
    let cursor = '0';
    do {
      const [next, found] = await this.send((redis) =>
        redis.zscan(key, cursor, 'MATCH', `{"jid":"${jid}"*`, 'COUNT', 1000),
      );
      if (found.length > 0) return found[0];
      cursor = next;
    } while (cursor !== '0');
    return undefined;
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

  /** Runs a command once Redis is ready; failures become FlumeConnectionError. */
  private send<T>(command: (redis: RedisClient) => Promise<T>): Promise<T> {
    return this.connections.send('did not answer the inspector', command);
  }
}
