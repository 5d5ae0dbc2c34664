import { FlumeWorkerError } from './errors/index.js';

/** A worker as the engine knows it: found by name, never by evaluating a string. */
export interface WorkerDefinition {
  /** Registered name: what jobs carry in `class`. */
  name: string;
  /** Queue whose jobs this worker runs. */
  queue: string;
  /** Handler method used when a job names none. */
  method: string;
  /** Overrides the module's `maxRetries`. */
  maxRetries?: number;
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
  { ok: true; worker: WorkerDefinition; handler: Handler } | { ok: false; reason: string };

/** True when `method` is a callable method of the worker itself, not one every object has. */
export function isHandlerMethod(instance: object, method: string): boolean {
  if (method === 'constructor' || method in Object.prototype) return false;
  return typeof (instance as Record<string, unknown>)[method] === 'function';
}

/** The registry of discovered workers: the only way from a job to code. */
export class WorkerRegistry {
  private readonly byName = new Map<string, WorkerDefinition>();

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
    this.byName.set(worker.name, worker);
  }

  get(name: string): WorkerDefinition | undefined {
    return this.byName.get(name);
  }

  all(): WorkerDefinition[] {
    return [...this.byName.values()];
  }

  /** Finds the handler for a job read from `queue`; says why when there is none. */
  resolve(queue: string, name: string, method: string | undefined): Resolution {
    const worker = this.byName.get(name);
    if (!worker || worker.queue !== queue) {
      const here = this.all()
        .filter((w) => w.queue === queue)
        .map((w) => w.name);
      return {
        ok: false,
        reason:
          `no worker named "${name}" is registered for queue "${queue}"` +
          ` (registered there: ${here.length ? here.join(', ') : 'none'})`,
      };
    }
    const handlerName = method ?? worker.method;
    if (!isHandlerMethod(worker.instance, handlerName)) {
      return { ok: false, reason: `worker "${name}" has no method "${handlerName}"` };
    }
    const fn = (worker.instance as Record<string, (...args: unknown[]) => unknown>)[handlerName];
    return { ok: true, worker, handler: (args) => fn.apply(worker.instance, args) };
  }
}
