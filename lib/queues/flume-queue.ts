import type { Type } from '@nestjs/common';
import type { FlumeClient } from '../flume.client.js';
import type {
  BulkJob,
  EnqueueOptions,
  HandlerArgs,
  HandlerName,
  PerformArgs,
} from '../interfaces/enqueue.interface.js';

type Call = (...args: unknown[]) => Promise<any>;

/**
 * The enqueue methods of `FlumeClient`, bound to one queue. Inject it with
 * `@InjectQueue('emails')`, or get one from `FlumeClient.queue('emails')`:
 *
 * ```ts
 * constructor(@InjectQueue('emails') private readonly emails: FlumeQueue) {}
 * ...
 * await this.emails.enqueue(Mailer, ['ada@example.com']);
 * ```
 *
 * Every method checks and fails as its `FlumeClient` counterpart does.
 */
export class FlumeQueue {
  /** @internal Made by FlumeClient.queue. */
  constructor(
    private readonly client: FlumeClient,
    /** The queue every method enqueues to. */
    readonly name: string,
  ) {}

  /** Enqueues a job for the worker's `perform` (or its `@Worker({ method })`); resolves to the job id. */
  enqueue<W>(worker: Type<W>, args: PerformArgs<W>, opts?: EnqueueOptions): Promise<string>;
  /** Enqueues a job for method `fn` of the worker; resolves to the job id. */
  enqueue<W, M extends HandlerName<W>>(
    worker: Type<W>,
    fn: M,
    args: HandlerArgs<W, M>,
    opts?: EnqueueOptions,
  ): Promise<string>;
  /** Enqueues a job for the worker registered as `worker`; resolves to the job id. */
  enqueue(worker: string, args: unknown[], opts?: EnqueueOptions): Promise<string>;
  /** Enqueues a job for method `fn` of the worker registered as `worker`; resolves to the job id. */
  enqueue(worker: string, fn: string, args: unknown[], opts?: EnqueueOptions): Promise<string>;
  enqueue(...rest: unknown[]): Promise<string> {
    return (this.client.enqueue as Call).call(this.client, this.name, ...rest);
  }

  /** Enqueues a job to run `delayMs` from now; resolves to the job id. */
  enqueueIn<W>(
    delayMs: number,
    worker: Type<W>,
    args: PerformArgs<W>,
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueIn<W, M extends HandlerName<W>>(
    delayMs: number,
    worker: Type<W>,
    fn: M,
    args: HandlerArgs<W, M>,
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueIn(
    delayMs: number,
    worker: string,
    args: unknown[],
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueIn(
    delayMs: number,
    worker: string,
    fn: string,
    args: unknown[],
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueIn(...rest: unknown[]): Promise<string> {
    return (this.client.enqueueIn as Call).call(this.client, this.name, ...rest);
  }

  /** Enqueues a job to run at `at`; resolves to the job id. A time in the past runs at once. */
  enqueueAt<W>(
    at: Date,
    worker: Type<W>,
    args: PerformArgs<W>,
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueAt<W, M extends HandlerName<W>>(
    at: Date,
    worker: Type<W>,
    fn: M,
    args: HandlerArgs<W, M>,
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueAt(at: Date, worker: string, args: unknown[], opts?: EnqueueOptions): Promise<string>;
  enqueueAt(
    at: Date,
    worker: string,
    fn: string,
    args: unknown[],
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueAt(...rest: unknown[]): Promise<string> {
    return (this.client.enqueueAt as Call).call(this.client, this.name, ...rest);
  }

  /** Enqueues many jobs in one round trip, all or none; resolves to their ids in order. */
  bulkEnqueue(jobs: BulkJob[], opts?: EnqueueOptions): Promise<string[]> {
    return this.client.bulkEnqueue(this.name, jobs, opts);
  }

  /** The number of jobs waiting in this queue (not scheduled, retrying or running). */
  async jobCounts(): Promise<number> {
    const counts = await this.client.jobCounts([this.name]);
    return counts[this.name];
  }
}
