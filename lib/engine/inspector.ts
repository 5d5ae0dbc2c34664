import type { StoreBackend } from './backend.js';
import { FlumePayloadError } from './errors/index.js';
import { HISTORY_MAX_MINUTES, minuteOf, type QueueHistory } from './history.js';
import {
  JID,
  JOB_LISTS,
  JOB_SETS,
  checkPageRequest,
  readPage,
  type JobListName,
  type JobPage,
  type JobSetName,
  type ListedJob,
  type PageRequest,
} from './job-pages.js';
import {
  historyKey,
  keyNameProblemFor,
  pausedPipelinesKey,
  processesKey,
  processKey,
  queueKeys,
  type QueueKeys,
} from './keys.js';
import type { Job } from './job.js';
import { decodeJob, encodeJob } from './payload.js';
import { parseHeartbeat, type FlumeProcess, type Heartbeat } from './processes.js';
import { checkGroup } from './groups.js';
import type { FlumeStore, GroupStats, QueueStats } from './store.js';

export type { JobListName, JobPage, JobSetName, ListedJob, PageRequest, QueueHistory, QueueStats };

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

/** Most jobs one retryAll / deleteAll call moves: bigger sets take several calls. */
const MAX_CHUNK = 1_000;

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

  /** Jobs of `list`, in the list's order (soonest due, oldest death, head of the queue). */
  async list(queue: string, list: JobListName, offset = 0, limit = 50): Promise<ListedJob[]> {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new FlumePayloadError(
        `Expected offset to be a non-negative integer, got: ${String(offset)}`,
      );
    }
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new FlumePayloadError(`Expected limit to be a positive integer, got: ${String(limit)}`);
    }
    const { jobs } = await this.read(queue, list, { from: offset, limit });
    return jobs;
  }

  /**
   * A page of `list`, filtered by worker or job id when asked; running jobs name the
   * process holding their lease (from its heartbeat) when it says so.
   */
  page(queue: string, list: JobListName, request: PageRequest = {}): Promise<JobPage> {
    return this.read(queue, list, { ...request, ...checkPageRequest(request) });
  }

  private async read(
    queue: string,
    list: JobListName,
    request: PageRequest & { from: number; limit: number },
  ): Promise<JobPage> {
    const keys = this.keysOf(queue);
    if (!JOB_LISTS.includes(list)) {
      throw new FlumePayloadError(
        `Expected a list of jobs (${JOB_LISTS.join(', ')}), got: ${String(list)}`,
      );
    }
    const page = await this.send(() => readPage(this.store, keys, list, request));
    if (list === 'running' && page.jobs.length > 0) {
      const holders = new Map<string, { process: string; takenAt: number }>();
      for (const { process, leases } of await this.heartbeats()) {
        for (const [id, takenAt] of leases.get(queue) ?? []) {
          holders.set(id, { process: process.id, takenAt });
        }
      }
      for (const job of page.jobs) {
        const holder = job.lease && holders.get(job.lease.id);
        if (holder) {
          job.lease!.process = holder.process;
          job.lease!.takenAt = new Date(holder.takenAt);
        }
      }
    }
    return page;
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

  /**
   * Moves up to `limit` jobs of `set` (its first ones) to their queue to run now, as
   * retryNow does; resolves to how many moved and how many are left in the set.
   */
  async retryAll(
    queue: string,
    set: JobSetName,
    limit: number,
  ): Promise<{ done: number; left: number }> {
    const keys = this.keysOf(queue);
    const key = this.setKey(queue, set);
    const count = this.chunk(limit);
    const members = await this.send(() => this.store.range(key, 0, count));
    const moved = await this.send(() =>
      Promise.all(
        members.map(({ member }) =>
          this.store.moveToQueue(key, keys, member, set === 'dead' ? revived(member) : member),
        ),
      ),
    );
    const left = await this.send(() => this.store.length(key, 'zset'));
    return { done: moved.filter(Boolean).length, left };
  }

  /** Deletes up to `limit` jobs of `set` (its first ones); resolves as retryAll does. */
  async deleteAll(
    queue: string,
    set: JobSetName,
    limit: number,
  ): Promise<{ done: number; left: number }> {
    const key = this.setKey(queue, set);
    const count = this.chunk(limit);
    const members = await this.send(() => this.store.range(key, 0, count));
    const done = await this.send(() =>
      this.store.removeAll(
        key,
        members.map(({ member }) => member),
      ),
    );
    const left = await this.send(() => this.store.length(key, 'zset'));
    return { done, left };
  }

  /** The processes alive: those whose heartbeat has not expired, oldest first. */
  async processes(): Promise<FlumeProcess[]> {
    const processes = (await this.heartbeats()).map(({ process }) => process);
    return processes.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
  }

  /** Jobs processed and failed per minute over the last `minutes` minutes, per queue. */
  async history(queues: readonly string[], minutes: number): Promise<QueueHistory> {
    if (!Number.isSafeInteger(minutes) || minutes < 1 || minutes > HISTORY_MAX_MINUTES) {
      throw new FlumePayloadError(
        `Expected minutes to be an integer from 1 to ${HISTORY_MAX_MINUTES}, got: ${String(minutes)}`,
      );
    }
    const first = minuteOf(Date.now()) - minutes + 1;
    const range = Array.from({ length: minutes }, (_, i) => first + i);
    const history: QueueHistory = {
      from: new Date(first * 60_000),
      minutes,
      processed: {},
      failed: {},
    };
    for (const queue of queues) {
      const keys = this.keysOf(queue);
      // One queue, one hash tag: each MGET stays on one Cluster slot.
      const [processed, failed] = await this.send(() =>
        Promise.all([
          this.store.counters(range.map((minute) => historyKey(keys, 'processed', minute))),
          this.store.counters(range.map((minute) => historyKey(keys, 'failed', minute))),
        ]),
      );
      Object.defineProperty(history.processed, queue, { value: processed, enumerable: true });
      Object.defineProperty(history.failed, queue, { value: failed, enumerable: true });
    }
    return history;
  }

  /** Names of the pipelines paused for every instance. */
  pausedPipelines(): Promise<string[]> {
    return this.send(() => this.store.pausedPipelines(pausedPipelinesKey(this.namespace)));
  }

  /**
   * Pauses (or resumes) pipeline `name` for every instance, by name: also a pipeline
   * this process does not declare. Instances follow within a second.
   */
  async setPaused(name: string, paused: boolean): Promise<void> {
    const problem = keyNameProblemFor(name);
    if (problem) throw new FlumePayloadError(`Invalid pipeline name: ${problem}`);
    await this.send(() => this.store.setPaused(pausedPipelinesKey(this.namespace), [name], paused));
  }

  private async heartbeats(): Promise<Heartbeat[]> {
    const documents = await this.send(() =>
      this.store.heartbeats(processesKey(this.namespace), (id) => processKey(this.namespace, id)),
    );
    return documents.map(parseHeartbeat).filter((heartbeat) => heartbeat !== undefined);
  }

  private chunk(limit: number): number {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_CHUNK) {
      throw new FlumePayloadError(
        `Expected limit to be an integer from 1 to ${MAX_CHUNK}, got: ${String(limit)}`,
      );
    }
    return limit;
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

  /** The groups of `queue` with waiting or running jobs, or paused, by name. */
  async groups(queue: string): Promise<GroupStats[]> {
    const keys = this.keysOf(queue);
    return this.send(() => this.store.groups(keys));
  }

  /** Pauses (or resumes) group `group` of `queue` for every instance. */
  async setGroupPaused(queue: string, group: string, paused: boolean): Promise<void> {
    const keys = this.keysOf(queue);
    const name = checkGroup(group);
    if (name === undefined) throw new FlumePayloadError('Expected a group name, got: undefined');
    await this.send(() => this.store.setGroupPaused(keys, name, paused));
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
