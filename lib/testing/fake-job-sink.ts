import { unixSeconds } from '../engine/job.js';
import type { JobSink, NewJob, ResolvedOptions } from '../engine/index.js';
import type { JobPerformer } from './job-performer.js';
import { checkDueAt, checkQueue, decodeStored, encodeBulk, encodeOne } from './test-job-codec.js';
import type { FlumeTestJob } from './testing.interfaces.js';

interface StoredJob {
  queue: string;
  /** Worker name and method (`class#function`), to gather a batch without decoding. */
  handler: string;
  /** The JSON Redis would hold: jobs are decoded from it each time they are read. */
  payload: string;
  /** Due time in ms for enqueueIn / enqueueAt; absent for a job that can run now. */
  dueAt?: number;
  /** The job's priority (0: none): a drain takes higher priorities first, as Redis does. */
  priority: number;
}

/** Which kept jobs a take may pick. */
export interface TakeFilter {
  queue?: string;
  /** `class#function` of the jobs a batch may gather (see `handlerOf`). */
  handler?: string;
  /** Also jobs not due yet, soonest first, once no due job matches. */
  withScheduled: boolean;
}

/**
 * The job sink of the fake mode: keeps each job as the JSON Redis would store, in
 * enqueue order, until the test drains or clears it. Nothing touches Redis.
 */
export class FakeJobSink implements JobSink {
  private jobs: StoredJob[] = [];

  constructor(
    /** Runs the jobs when the test drains them. */
    readonly performer: JobPerformer,
    private readonly options: Pick<ResolvedOptions, 'maxPayloadBytes'>,
  ) {}

  async enqueue(job: NewJob): Promise<string> {
    const { jid, payload, priority } = encodeOne(job, this.options.maxPayloadBytes);
    this.jobs.push({ queue: job.queue, handler: handlerOf(job), payload, priority });
    return jid;
  }

  async enqueueAt(job: NewJob, dueAt: number): Promise<string> {
    checkDueAt(dueAt);
    const { jid, payload, priority } = encodeOne(job, this.options.maxPayloadBytes);
    this.jobs.push({
      queue: job.queue,
      handler: handlerOf(job),
      payload,
      dueAt: Math.round(dueAt),
      priority,
    });
    return jid;
  }

  async bulkEnqueue(queue: string, jobs: NewJob[]): Promise<string[]> {
    const encoded = encodeBulk(queue, jobs, this.options.maxPayloadBytes);
    encoded.forEach(({ payload, priority }, i) =>
      this.jobs.push({ queue, handler: handlerOf(jobs[i]), payload, priority }),
    );
    return encoded.map((job) => job.jid);
  }

  /** Jobs that can run now (scheduled ones once due), like the length of the Redis list. */
  async jobCounts(queues: readonly string[]): Promise<Record<string, number>> {
    queues.forEach((queue) => checkQueue(queue));
    const now = Date.now();
    const counts: Record<string, number> = {};
    for (const queue of queues) {
      counts[queue] = this.jobs.filter((job) => job.queue === queue && isDue(job, now)).length;
    }
    return counts;
  }

  /** The jobs kept (of `queue`, or all), oldest first, as fresh objects. */
  list(queue?: string): FlumeTestJob[] {
    return this.jobs.filter((job) => queue === undefined || job.queue === queue).map(toTestJob);
  }

  /** Forgets the jobs kept (of `queue`, or all). */
  clear(queue?: string): void {
    this.jobs = queue === undefined ? [] : this.jobs.filter((job) => job.queue !== queue);
  }

  /**
   * Removes and returns the job a drain runs next: the oldest matching job of the highest
   * priority that is due, else (with `withScheduled`) the one due soonest. Undefined when
   * none matches.
   */
  takeNext(filter: TakeFilter): FlumeTestJob | undefined {
    const index = this.nextIndex(filter);
    if (index < 0) return undefined;
    const [job] = this.jobs.splice(index, 1);
    return toTestJob(job);
  }

  /** Whether a take with `filter` would find a job. */
  hasNext(filter: TakeFilter): boolean {
    return this.nextIndex(filter) >= 0;
  }

  private nextIndex({ queue, handler, withScheduled }: TakeFilter): number {
    const now = Date.now();
    let soonest = -1;
    let due = -1;
    for (let i = 0; i < this.jobs.length; i++) {
      const job = this.jobs[i];
      if (queue !== undefined && job.queue !== queue) continue;
      if (handler !== undefined && job.handler !== handler) continue;
      if (isDue(job, now)) {
        if (due < 0 || job.priority > this.jobs[due].priority) due = i;
      } else if (withScheduled && (soonest < 0 || job.dueAt! < this.jobs[soonest].dueAt!)) {
        soonest = i;
      }
    }
    return due >= 0 ? due : soonest;
  }
}

/** One batch, one handler call: jobs naming another method of the worker form their own. */
export function handlerOf(job: { worker?: string; class?: string; function?: string }): string {
  return `${job.worker ?? job.class}#${job.function ?? ''}`;
}

function isDue(job: StoredJob, now: number): boolean {
  return job.dueAt === undefined || job.dueAt <= now;
}

function toTestJob(stored: StoredJob): FlumeTestJob {
  const job: FlumeTestJob = decodeStored(stored.payload);
  if (stored.dueAt !== undefined) job.scheduled_at = unixSeconds(stored.dueAt);
  return job;
}
