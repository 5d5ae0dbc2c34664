import { Inject, Injectable, Optional, type Type } from '@nestjs/common';
import {
  asSentence,
  checkQueueName,
  FlumeWorkerError,
  isHandlerMethod,
  notAHandler,
  queuesRunHere,
  type JobSink,
  type NewJob,
  type ResolvedOptions,
  type WorkerRegistry,
} from './engine/index.js';
import { FlumeMetadataAccessor } from './flume-metadata.accessor.js';
import { FLUME_JOB_SINK, FLUME_REGISTRY, FLUME_RESOLVED_OPTIONS } from './flume.constants.js';
import { enqueueOfWorkerNotProvided } from './flume.messages.js';
import { FLUME_HOOKS, type EnqueueWrapper, type FlumeHooks } from './flume.hooks.js';
import { FlumeQueue } from './queues/flume-queue.js';
import type {
  BulkJob,
  EnqueueOptions,
  HandlerArgs,
  HandlerName,
  PerformArgs,
} from './interfaces/enqueue.interface.js';

type WorkerRef = Type<unknown> | string;
/** What a job carries to find its handler. */
type Target = { name: string; method: string | undefined };
/** What an enqueue checks a job against. */
type KnownWorker = { name: string; queue: string; method: string; handlers: ReadonlySet<string> };
type Rest =
  [args: unknown[], opts?: EnqueueOptions] | [fn: string, args: unknown[], opts?: EnqueueOptions];

/**
 * Enqueues jobs. Inject it anywhere once `FlumeModule` is imported.
 *
 * `worker` is the worker class (args are then type-checked against its handler) or
 * its registered name, for code that cannot import the class. Every method
 * validates before writing: args that JSON cannot carry unchanged are refused with
 * a FlumePayloadError, a method that is not a handler of the worker (its default
 * method or one marked `@Handler()`) with a FlumeWorkerError, and nothing is stored.
 */
@Injectable()
export class FlumeClient {
  /** Queues whose jobs this process runs: a worker class for them must be registered here. */
  private readonly runHere: ReadonlySet<string>;

  /** Around each write: a tracing integration's producer span, when one is imported. */
  private readonly wrapEnqueue?: EnqueueWrapper;

  constructor(
    @Inject(FLUME_JOB_SINK) private readonly sink: JobSink,
    @Inject(FLUME_REGISTRY) private readonly registry: WorkerRegistry,
    @Inject(FLUME_RESOLVED_OPTIONS) options: ResolvedOptions,
    private readonly metadata: FlumeMetadataAccessor,
    @Optional() @Inject(FLUME_HOOKS) hooks?: FlumeHooks,
  ) {
    this.runHere = queuesRunHere(options);
    this.wrapEnqueue = hooks?.wrapEnqueue;
  }

  /** Enqueues a job for the worker's `perform` (or its `@Worker({ method })`); resolves to the job id. */
  enqueue<W>(
    queue: string,
    worker: Type<W>,
    args: PerformArgs<W>,
    opts?: EnqueueOptions,
  ): Promise<string>;
  /** Enqueues a job for method `fn` of the worker; resolves to the job id. */
  enqueue<W, M extends HandlerName<W>>(
    queue: string,
    worker: Type<W>,
    fn: M,
    args: HandlerArgs<W, M>,
    opts?: EnqueueOptions,
  ): Promise<string>;
  /** Enqueues a job for the worker registered as `worker`; resolves to the job id. */
  enqueue(queue: string, worker: string, args: unknown[], opts?: EnqueueOptions): Promise<string>;
  /** Enqueues a job for method `fn` of the worker registered as `worker`; resolves to the job id. */
  enqueue(
    queue: string,
    worker: string,
    fn: string,
    args: unknown[],
    opts?: EnqueueOptions,
  ): Promise<string>;
  // async: a bad worker or args rejects the promise, as for enqueueIn/enqueueAt, instead
  // of throwing synchronously past a caller's .catch().
  async enqueue(queue: string, worker: WorkerRef, ...rest: Rest): Promise<string> {
    return this.write(queue, [this.newJob(queue, worker, rest)], ([job]) => this.sink.enqueue(job));
  }

  /** Enqueues a job to run `delayMs` from now; resolves to the job id. */
  enqueueIn<W>(
    queue: string,
    delayMs: number,
    worker: Type<W>,
    args: PerformArgs<W>,
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueIn<W, M extends HandlerName<W>>(
    queue: string,
    delayMs: number,
    worker: Type<W>,
    fn: M,
    args: HandlerArgs<W, M>,
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueIn(
    queue: string,
    delayMs: number,
    worker: string,
    args: unknown[],
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueIn(
    queue: string,
    delayMs: number,
    worker: string,
    fn: string,
    args: unknown[],
    opts?: EnqueueOptions,
  ): Promise<string>;
  async enqueueIn(
    queue: string,
    delayMs: number,
    worker: WorkerRef,
    ...rest: Rest
  ): Promise<string> {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new FlumeWorkerError(
        `enqueueIn: expected delayMs to be a non-negative number of ms, got: ${String(delayMs)}`,
      );
    }
    const dueAt = Date.now() + delayMs;
    const job = this.newJob(queue, worker, rest);
    return this.write(queue, [job], ([traced]) => this.sink.enqueueAt(traced, dueAt));
  }

  /** Enqueues a job to run at `at`; resolves to the job id. A time in the past runs at once. */
  enqueueAt<W>(
    queue: string,
    at: Date,
    worker: Type<W>,
    args: PerformArgs<W>,
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueAt<W, M extends HandlerName<W>>(
    queue: string,
    at: Date,
    worker: Type<W>,
    fn: M,
    args: HandlerArgs<W, M>,
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueAt(
    queue: string,
    at: Date,
    worker: string,
    args: unknown[],
    opts?: EnqueueOptions,
  ): Promise<string>;
  enqueueAt(
    queue: string,
    at: Date,
    worker: string,
    fn: string,
    args: unknown[],
    opts?: EnqueueOptions,
  ): Promise<string>;
  async enqueueAt(queue: string, at: Date, worker: WorkerRef, ...rest: Rest): Promise<string> {
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
      throw new FlumeWorkerError(`enqueueAt: expected a valid Date, got: ${String(at)}`);
    }
    const job = this.newJob(queue, worker, rest);
    return this.write(queue, [job], ([traced]) => this.sink.enqueueAt(traced, at.getTime()));
  }

  /**
   * Enqueues many jobs to one queue in one round trip, all or none; resolves to
   * their ids in order. `opts.context` applies to jobs that have none of their own.
   */
  async bulkEnqueue(queue: string, jobs: BulkJob[], opts: EnqueueOptions = {}): Promise<string[]> {
    if (!Array.isArray(jobs)) {
      throw new FlumeWorkerError(
        'bulkEnqueue: expected an array of { worker, args, function?, context? }',
      );
    }
    // A bulk usually repeats a few workers: check each worker and method once.
    const targets = new Map<WorkerRef, Map<string | undefined, Target>>();
    const newJobs = jobs.map((job, index) => {
      if (job === null || typeof job !== 'object') {
        throw new FlumeWorkerError(
          `bulkEnqueue: job ${index} must be { worker, args, function?, context? }`,
        );
      }
      let byMethod = targets.get(job.worker);
      if (!byMethod) targets.set(job.worker, (byMethod = new Map()));
      let target = byMethod.get(job.function);
      if (!target)
        byMethod.set(job.function, (target = this.target(queue, job.worker, job.function)));
      const context = job.context ?? opts.context;
      const unique = job.unique ?? opts.unique;
      const priority = job.priority ?? opts.priority;
      const group = job.group ?? opts.group;
      return {
        queue,
        worker: target.name,
        function: target.method,
        args: job.args,
        context,
        unique,
        priority,
        group,
      };
    });
    return this.write(queue, newJobs, (traced) => this.sink.bulkEnqueue(queue, traced));
  }

  /**
   * The handle of queue `name`: these methods bound to it (what `@InjectQueue(name)`
   * injects). A FlumePayloadError for a name Redis keys cannot carry.
   */
  queue(name: string): FlumeQueue {
    checkQueueName(name);
    return new FlumeQueue(this, name);
  }

  /** Waiting jobs of each queue: `{ [queue]: count }`. */
  jobCounts(queues: string[]): Promise<Record<string, number>> {
    return this.sink.jobCounts(queues);
  }

  /** Writes checked jobs through the sink, inside the integration's wrapper if any. */
  private write<T>(
    queue: string,
    jobs: NewJob[],
    send: (jobs: NewJob[]) => Promise<T>,
  ): Promise<T> {
    return this.wrapEnqueue ? this.wrapEnqueue(queue, jobs, send) : send(jobs);
  }

  private newJob(queue: string, worker: WorkerRef, rest: Rest): NewJob {
    const [fn, args, opts] =
      typeof rest[0] === 'string'
        ? (rest as [string, unknown[], EnqueueOptions?])
        : [undefined, ...(rest as [unknown[], EnqueueOptions?])];
    const target = this.target(queue, worker, fn);
    return {
      queue,
      worker: target.name,
      function: target.method,
      args,
      context: opts?.context,
      unique: opts?.unique,
      priority: opts?.priority,
      group: opts?.group,
    };
  }

  /** The name and method a job for `worker` carries, checked against what this app knows of it. */
  private target(queue: string, worker: WorkerRef, fn: string | undefined): Target {
    if (typeof worker === 'function') {
      const metadata = this.metadata.getWorkerMetadata(worker);
      if (!metadata) {
        throw new FlumeWorkerError(
          `${worker.name} is not a worker: decorate it with @Worker('${queue}') and list it in a module's providers.`,
        );
      }
      // The registered worker is the one that runs the job here: check against it.
      const registered = this.registry.get(metadata.name);
      if (registered) return this.checked(queue, registered, fn, registered.instance);
      const handlers = this.metadata.getHandlers(worker, metadata.method);
      const target = this.checked(queue, { ...metadata, handlers }, fn, worker.prototype as object);
      // An app that only enqueues need not list the class; one that runs its queue must.
      if (this.runHere.has(metadata.queue)) {
        throw new FlumeWorkerError(enqueueOfWorkerNotProvided(worker.name, metadata.queue));
      }
      return target;
    }
    if (typeof worker !== 'string' || worker === '') {
      throw new FlumeWorkerError(
        `Expected a worker class or a worker name, got: ${String(worker)}`,
      );
    }
    const known = this.registry.get(worker);
    if (!known) return { name: worker, method: fn };
    return this.checked(queue, known, fn, known.instance);
  }

  private checked(queue: string, worker: KnownWorker, fn: string | undefined, target: object) {
    if (worker.queue !== queue) {
      throw new FlumeWorkerError(
        `Worker "${worker.name}" handles queue "${worker.queue}" (see its @Worker), not "${queue}". ` +
          `Enqueue it to "${worker.queue}", or declare the worker on "${queue}".`,
      );
    }
    const method = fn ?? worker.method;
    // The same rule as the registry's resolve, so a job refused there is refused here.
    if (!worker.handlers.has(method) || !isHandlerMethod(target, method)) {
      throw new FlumeWorkerError(asSentence(notAHandler(worker.name, method, worker.handlers)));
    }
    return { name: worker.name, method };
  }
}
