import type { StoreBackend } from './backend.js';
import type { Instrumentation } from './instrumentation.js';
import type { JobSink } from './job-sink.js';
import type { ResolvedOptions } from './options.js';
import { checkDueAt, encodeBulk, keysOfQueue } from './new-jobs.js';
import { encodeNewJob, type EncodedNewJob, type NewJob } from './payload.js';
import { PushCoalescer } from './push-coalescer.js';
import type { FlumeStore, JobPush } from './store.js';

/** Jobs per RPUSH in a bulk enqueue: keeps each command a reasonable size. */
const BULK_CHUNK = 5_000;

/**
 * Writes new jobs. A job is validated and encoded before anything is sent, and each
 * call is one round trip: RPUSH for a job that can run now (shared by the enqueues to
 * its queue made in the same turn, see PushCoalescer), ZADD for a job due later, one
 * script for unique jobs (each job added together with its lock, or not at all), jobs
 * with a priority and grouped jobs.
 */
export class Enqueuer implements JobSink {
  private readonly pushes = new PushCoalescer((keys, payloads) =>
    this.send(() => this.store.pushMany(keys, payloads, BULK_CHUNK)),
  );

  constructor(
    private readonly backend: Pick<StoreBackend, 'send'>,
    private readonly store: FlumeStore,
    private readonly options: Pick<ResolvedOptions, 'namespace' | 'maxPayloadBytes' | 'instrument'>,
    private readonly instrumentation: Instrumentation,
  ) {}

  /** Enqueues one job to run now; resolves to its id. */
  async enqueue(job: NewJob): Promise<string> {
    const keys = this.keysOf(job.queue);
    const encoded = this.encode(job);
    if (encoded.unique || encoded.priority > 0 || encoded.group !== undefined) {
      return (await this.enqueueScripted(job.queue, [encoded]))[0];
    }
    await this.pushes.push(keys, encoded.payload);
    this.emit(job.queue, [encoded.payload]);
    return encoded.jid;
  }

  /** Enqueues one job to run at `dueAt` (ms since the epoch); resolves to its id. */
  async enqueueAt(job: NewJob, dueAt: number): Promise<string> {
    checkDueAt(dueAt);
    // Already due: straight to the queue, so it runs at once (an idle pipeline is woken
    // by the RPUSH) instead of at the scheduler's next poll.
    if (dueAt <= Date.now()) return this.enqueue(job);
    const keys = this.keysOf(job.queue);
    const encoded = this.encode(job);
    // A scheduled job keeps its priority and group in its payload, read when it is due.
    if (encoded.unique) return (await this.enqueueScripted(job.queue, [encoded], dueAt))[0];
    await this.send(() => this.store.schedule(keys, encoded.payload, dueAt));
    this.emit(job.queue, [encoded.payload]);
    return encoded.jid;
  }

  /** Enqueues many jobs to one queue, all or none, in one round trip; resolves to their ids. */
  async bulkEnqueue(queue: string, jobs: NewJob[]): Promise<string[]> {
    const keys = this.keysOf(queue);
    const encoded = encodeBulk(jobs, this.options.maxPayloadBytes);
    if (encoded.length === 0) return [];
    if (encoded.some((job) => job.unique || job.priority > 0 || job.group !== undefined)) {
      return this.enqueueScripted(queue, encoded);
    }
    const payloads = encoded.map((job) => job.payload);
    await this.send(() => this.store.pushMany(keys, payloads, BULK_CHUNK));
    this.emit(queue, payloads);
    return encoded.map((job) => job.jid);
  }

  /**
   * Adds unique, prioritized and grouped jobs (and the plain jobs of the same bulk, in
   * order) in one script: each unique job only while no equal job holds its lock.
   * Resolves to, per job, the id of the job that holds its lock (its own when added).
   */
  private async enqueueScripted(
    queue: string,
    jobs: EncodedNewJob[],
    dueAt?: number,
  ): Promise<string[]> {
    const keys = this.keysOf(queue);
    const pushes: JobPush[] = jobs.map((job) => ({
      jid: job.jid,
      payload: job.payload,
      lock: job.unique?.key,
      ttlMs: job.unique?.ttlMs ?? 0,
      dueAt,
      priority: job.priority,
      group: job.group,
    }));
    const ids = await this.send(() => this.store.pushJobs(keys, pushes));
    const added = jobs.filter((job, i) => ids[i] === job.jid).map((job) => job.payload);
    if (added.length > 0) this.emit(queue, added);
    return ids;
  }

  /** Number of waiting jobs of each queue. */
  async jobCounts(queues: readonly string[]): Promise<Record<string, number>> {
    const keys = queues.map((queue) => this.keysOf(queue));
    const lengths = await this.backend.send('did not count the jobs', () =>
      this.store.waitingCounts(keys),
    );
    // Own properties, "__proto__" too: an assignment would set the prototype instead.
    return Object.fromEntries(queues.map((queue, i) => [queue, lengths[i]]));
  }

  private encode(job: NewJob) {
    return encodeNewJob(job, Date.now(), this.options.maxPayloadBytes);
  }

  private emit(queue: string, payloads: string[]): void {
    if (!this.options.instrument) return;
    let payloadBytes = 0;
    for (const payload of payloads) payloadBytes += Buffer.byteLength(payload);
    this.instrumentation.emit({ type: 'enqueue', queue, count: payloads.length, payloadBytes });
  }

  private keysOf(queue: string) {
    return keysOfQueue(this.options.namespace, queue);
  }

  /** Runs a command once the store answers; turns connection trouble into FlumeConnectionError. */
  private send<T>(command: () => Promise<T>): Promise<T> {
    return this.backend.send(
      'did not take the job',
      command,
      'The job may or may not be stored; enqueue it again once Redis is reachable ' +
        '(with the `unique` option, enqueuing it again cannot add it twice).',
    );
  }
}
