import type { BackoffOption } from './retry-policy.js';
import { FlumeWorkerError } from './errors/index.js';
import { notAHandler, unknownWorker } from './worker-messages.js';

/** A worker as the engine knows it: found by name, never by evaluating a string. */
export interface WorkerDefinition {
  /** Registered name: what jobs carry in `class`. */
  name: string;
  /** Queue whose jobs this worker runs. */
  queue: string;
  /** Handler method used when a job names none. */
  method: string;
  /**
   * Every method a job may name: the default `method` and those marked `@Handler()`.
   * A job naming any other (a helper, a lifecycle hook, an inherited method) is refused.
   */
  handlers: ReadonlySet<string>;
  /** Overrides the module's `maxRetries`. */
  maxRetries?: number;
  /** Overrides the module's backoff (see retry-policy.ts). */
  backoff?: BackoffOption;
  /** Longest run of one job (ms) before it fails with a FlumeTimeoutError. */
  timeout?: number;
  /** Set for a batch worker: its handler gets many jobs' args at once. */
  batch?: BatchOptions;
  /** The object whose methods run the jobs. */
  instance: object;
  /** Class name, for messages. */
  className: string;
}

/** Options of a batch worker (see @Batch). */
export interface BatchOptions {
  /** Most jobs per handler call. */
  size: number;
  /** Longest wait (ms) for a partial batch to fill before it is handed over; 0 = no wait. */
  timeout: number;
}

export type Handler = (args: unknown[]) => unknown;

export type Resolution =
  | { ok: true; worker: WorkerDefinition; handler: Handler }
  | {
      ok: false;
      reason: string;
      /**
       * True when no worker of that name runs the queue here: during a rolling deploy a
       * new worker's jobs reach an old process, and another process (or this one once
       * updated) may run them. False when the worker is here and the job can never run.
       */
      retryable: boolean;
    };

/**
 * True when `method` is a callable member of the worker, not one every object has.
 * Necessary for a handler, not sufficient: see `WorkerDefinition.handlers`.
 */
export function isHandlerMethod(instance: object, method: string): boolean {
  if (method === 'constructor' || method in Object.prototype) return false;
  return typeof (instance as Record<string, unknown>)[method] === 'function';
}

/** The registry of discovered workers: the only way from a job to code. */
export class WorkerRegistry {
  private readonly byName = new Map<string, WorkerDefinition>();
  /** Handlers found so far, per worker and method: one closure each, not one per job. */
  private readonly found = new WeakMap<WorkerDefinition, Map<string, Resolution>>();

  register(worker: WorkerDefinition): void {
    const existing = this.byName.get(worker.name);
    if (existing) {
      throw new FlumeWorkerError(
        `Two workers are named "${worker.name}": classes ${existing.className} and ${worker.className}. ` +
          `Give one another name with @Worker('${worker.queue}', { name: '...' }).`,
      );
    }
    if (!isHandlerMethod(worker.instance, worker.method)) {
      throw new FlumeWorkerError(
        `Worker class "${worker.className}" has no method "${worker.method}". ` +
          `Add it, or name another method with @Worker('${worker.queue}', { method: '...' }).`,
      );
    }
    if (!worker.handlers.has(worker.method)) {
      // The discovery builds `handlers`; a worker's default method is always one.
      throw new FlumeWorkerError(
        `Worker class "${worker.className}": its default method "${worker.method}" is missing from its handlers.`,
      );
    }
    for (const handler of worker.handlers) {
      if (!isHandlerMethod(worker.instance, handler)) {
        throw new FlumeWorkerError(
          `Worker class "${worker.className}" has no method "${handler}" to run as a handler.`,
        );
      }
    }
    this.byName.set(worker.name, worker);
  }

  get(name: string): WorkerDefinition | undefined {
    return this.byName.get(name);
  }

  all(): WorkerDefinition[] {
    return [...this.byName.values()];
  }

  /**
   * Finds the handler for a job read from `queue`: only a method the worker declares as
   * a handler runs. Says why when there is none, and whether another process may run it.
   */
  resolve(queue: string, name: string, method: string | undefined): Resolution {
    const worker = this.byName.get(name);
    if (!worker || worker.queue !== queue) {
      const here = this.all()
        .filter((w) => w.queue === queue)
        .map((w) => w.name);
      return { ok: false, reason: unknownWorker(name, queue, here), retryable: true };
    }
    const handlerName = method ?? worker.method;
    let found = this.found.get(worker);
    if (!found) this.found.set(worker, (found = new Map()));
    const known = found.get(handlerName);
    if (known) return known;
    // A Set, not an object: `__proto__` or `toString` from Redis finds nothing here.
    if (!worker.handlers.has(handlerName) || !isHandlerMethod(worker.instance, handlerName)) {
      return {
        ok: false,
        reason: notAHandler(name, handlerName, worker.handlers),
        retryable: false,
      };
    }
    const fn = (worker.instance as Record<string, (...args: unknown[]) => unknown>)[handlerName];
    const resolution: Resolution = {
      ok: true,
      worker,
      handler: (args) => fn.apply(worker.instance, args),
    };
    // Only handlers are kept: a method name read from Redis that is none is not stored.
    found.set(handlerName, resolution);
    return resolution;
  }
}
