import { FlumePayloadError } from './errors/index.js';
import type { Job } from './job.js';
import type { QueueKeys } from './keys.js';
import { decodeJob } from './payload.js';
import type { FlumeStore } from './store.js';

/** The sorted sets of a queue whose jobs can be listed, retried now and deleted. */
export type JobSetName = 'scheduled' | 'retry' | 'dead';

/** Every list of a queue's jobs: its waiting list, its leased (running) jobs and its sets. */
export type JobListName = 'waiting' | 'running' | JobSetName;

export const JOB_SETS: readonly JobSetName[] = ['scheduled', 'retry', 'dead'];
export const JOB_LISTS: readonly JobListName[] = ['waiting', 'running', ...JOB_SETS];

/** A job id as the engine writes them (UUIDs), safe to quote and to search for. */
export const JID = /^[0-9A-Za-z-]{1,64}$/;

/** A job of one of a queue's lists. */
export interface ListedJob {
  /** The job id, or null for a dead payload that was not a job at all. */
  jid: string | null;
  /** The decoded job, or null when the payload is not a valid job. */
  job: Job | null;
  /**
   * Due time (scheduled, retry), time of death (dead), lease deadline (running), or
   * enqueue time (waiting; the epoch for a payload that is not a job).
   */
  at: Date;
  /** The payload as stored. */
  payload: string;
  /** Running jobs: the lease, and the process holding it when its heartbeat says so. */
  lease?: { id: string; process?: string; takenAt?: Date };
}

/** Which jobs of a list to read (see Inspector.page). */
export interface PageRequest {
  /** Index in the list to start reading at (a page's `next`). Default 0. */
  from?: number;
  /** Most jobs returned. Default 50, at most 1,000. */
  limit?: number;
  /** Only jobs of this worker (the job's `class`). */
  worker?: string;
  /** Only the job with this id. */
  jid?: string;
}

/** A page of a list. */
export interface JobPage {
  /** Jobs in the whole list now. */
  total: number;
  jobs: ListedJob[];
  /**
   * Index to read the next page from, or null at the end of the list. With a filter,
   * a page stops after reading SCAN_BUDGET jobs: it may then hold fewer than `limit`
   * jobs and still have a `next`.
   */
  next: number | null;
}

/** Jobs read per round trip while filtering. */
const CHUNK = 1_000;
/** Most jobs one filtered page reads before it returns what it found. */
export const SCAN_BUDGET = 20_000;
const MAX_LIMIT = 1_000;

/** One member of a list as read, before decoding. */
interface Entry {
  payload: string;
  score?: number;
  leaseId?: string;
}

/** Reads entries of one list of a queue by index. */
interface Source {
  length(): Promise<number>;
  read(start: number, count: number): Promise<Entry[]>;
}

function sourceOf(store: FlumeStore, keys: QueueKeys, list: JobListName): Source {
  if (list === 'waiting') {
    return {
      length: () => store.length(keys.waiting, 'list'),
      read: async (start, count) =>
        (await store.waitingRange(keys, start, count)).map((payload) => ({ payload })),
    };
  }
  if (list === 'running') {
    return {
      length: () => store.length(keys.processing, 'zset'),
      read: async (start, count) =>
        (await store.leasedRange(keys, start, count)).map((lease) => ({
          // A lease that ended between the two reads: its job is listed by id only.
          payload: lease.payload ?? '',
          score: lease.deadline,
          leaseId: lease.id,
        })),
    };
  }
  return {
    length: () => store.length(keys[list], 'zset'),
    read: async (start, count) =>
      (await store.range(keys[list], start, count)).map(({ member, score }) => ({
        payload: member,
        score,
      })),
  };
}

function listed(entry: Entry, list: JobListName): ListedJob {
  const decoded = decodeJob(entry.payload);
  const job = decoded.ok ? decoded.job : null;
  const at =
    list === 'waiting' ? new Date(job ? job.enqueued_at * 1000 : 0) : new Date(entry.score ?? 0);
  const item: ListedJob = {
    jid: job?.jid ?? jidOf(entry.payload),
    job,
    at,
    payload: entry.payload,
  };
  if (entry.leaseId !== undefined) item.lease = { id: entry.leaseId };
  return item;
}

/** The id of a document set aside unrun (not a job, but it leads with the jid when known). */
function jidOf(payload: string): string | null {
  const found = /^\{"jid":"([0-9A-Za-z-]{1,64})"/.exec(payload);
  return found ? found[1] : null;
}

/** A filter on raw payloads: a cheap text test first, decoding only the candidates. */
function matcher(request: PageRequest): ((entry: Entry) => boolean) | undefined {
  const { worker, jid } = request;
  if (worker === undefined && jid === undefined) return undefined;
  const jidPrefix = jid === undefined ? undefined : `{"jid":${JSON.stringify(jid)}`;
  const classField = worker === undefined ? undefined : `"class":${JSON.stringify(worker)}`;
  return ({ payload }) => {
    if (jidPrefix !== undefined && !payload.startsWith(jidPrefix)) return false;
    if (classField === undefined) return true;
    if (!payload.includes(classField)) return false;
    const decoded = decodeJob(payload);
    return decoded.ok && decoded.job.class === worker;
  };
}

/** Validates a page request; resolves its defaults. Throws a FlumePayloadError. */
export function checkPageRequest(request: PageRequest): { from: number; limit: number } {
  const from = request.from ?? 0;
  const limit = request.limit ?? 50;
  if (!Number.isSafeInteger(from) || from < 0) {
    throw new FlumePayloadError(`Expected from to be a non-negative integer, got: ${String(from)}`);
  }
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new FlumePayloadError(
      `Expected limit to be an integer from 1 to ${MAX_LIMIT}, got: ${String(limit)}`,
    );
  }
  if (
    request.worker !== undefined &&
    (typeof request.worker !== 'string' || request.worker.length > 200)
  ) {
    throw new FlumePayloadError(
      `Expected worker to be a worker name, got: ${String(request.worker)}`,
    );
  }
  if (request.jid !== undefined && (typeof request.jid !== 'string' || !JID.test(request.jid))) {
    throw new FlumePayloadError(
      `Expected a job id (letters, digits and dashes), got: ${String(request.jid)}`,
    );
  }
  return { from, limit };
}

/**
 * Reads one page of a list (the request checked already): by index, or, with a
 * filter, scanning on from `from`.
 */
export async function readPage(
  store: FlumeStore,
  keys: QueueKeys,
  list: JobListName,
  request: PageRequest & { from: number; limit: number },
): Promise<JobPage> {
  const { from, limit } = request;
  const source = sourceOf(store, keys, list);
  const total = await source.length();
  const matches = matcher(request);
  if (!matches) {
    const entries = await source.read(from, limit);
    const end = from + entries.length;
    return {
      total,
      jobs: entries.map((entry) => listed(entry, list)),
      next: entries.length === limit && end < total ? end : null,
    };
  }
  const jobs: ListedJob[] = [];
  let index = from;
  while (index - from < SCAN_BUDGET) {
    const entries = await source.read(index, CHUNK);
    for (const [i, entry] of entries.entries()) {
      index++;
      if (matches(entry)) jobs.push(listed(entry, list));
      const more = i < entries.length - 1 || entries.length === CHUNK;
      if (jobs.length === limit) return { total, jobs, next: more ? index : null };
    }
    if (entries.length < CHUNK) return { total, jobs, next: null };
  }
  return { total, jobs, next: index };
}
