import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { processesKey, processKey } from './keys.js';
import type { FlumeLogger } from './logger.js';
import type { PipelineRunner } from './pipeline-runner.js';
import type { HeartbeatDocument } from './processes.js';
import type { FlumeStore } from './store.js';
import { delay } from './wait.js';
import type { WorkerRegistry } from './worker-registry.js';

/** How often a process writes its heartbeat. */
export const HEARTBEAT_MS = 5_000;
/** How long a heartbeat lives unless written again: three missed beats and the process is gone. */
export const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_MS;
/** Most leases of one pipeline listed in a heartbeat (they say which process runs a job). */
const LEASES_LISTED = 1_000;

/** The version of this package, from its package.json (wherever the compiled files sit). */
function packageVersion(): string {
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const found = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (found.name === 'nestjs-flume' && typeof found.version === 'string') return found.version;
    } catch {
      // Not there: try the next place.
    }
  }
  return 'unknown';
}

const VERSION = packageVersion();

/**
 * Tells every instance that this process is alive: a JSON document in Redis with a
 * TTL, written again every HEARTBEAT_MS, that expires by itself when the process dies
 * and is deleted when it shuts down. Written in every process, also one that runs no
 * pipeline; read by the inspector (FlumeInspector.processes, the dashboard).
 */
export class Heartbeat {
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly startedAt = Date.now();
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;

  constructor(
    private readonly store: FlumeStore,
    private readonly namespace: string,
    /** The pipelines this process runs. */
    private readonly runners: readonly PipelineRunner[],
    private readonly registry: WorkerRegistry,
    private readonly logger: FlumeLogger,
  ) {}

  /** Starts beating once `after` has resolved. */
  start(after: Promise<void>): void {
    this.loop ??= after.then(() => this.beat());
  }

  /** Stops beating and deletes the heartbeat: the process is gone at once. */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (!this.loop) return;
    await this.loop;
    const index = processesKey(this.namespace);
    await this.store
      .forgetProcess(index, processKey(this.namespace, this.id), this.id)
      .catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const signal = this.stopping.signal;
    const index = processesKey(this.namespace);
    const key = processKey(this.namespace, this.id);
    let failing = false;
    while (!signal.aborted) {
      await this.store.ready(signal);
      if (signal.aborted) break;
      try {
        const document = JSON.stringify(this.document());
        await this.store.beat(index, key, this.id, document, HEARTBEAT_TTL_MS);
        failing = false;
      } catch (err) {
        // A dropped connection is logged by the connection itself; a refusal (an ACL
        // without the command, an out-of-memory Redis) is said once.
        if (this.store.isReady) {
          if (!failing) {
            this.logger.warn(
              `Could not write this process's heartbeat (the dashboard will not list it): ${(err as Error).message}`,
            );
          }
          failing = true;
        }
      }
      await delay(HEARTBEAT_MS, signal);
    }
  }

  private document(): HeartbeatDocument {
    const workers: Record<string, string[]> = {};
    for (const worker of this.registry.all()) {
      if (!Object.hasOwn(workers, worker.queue)) {
        Object.defineProperty(workers, worker.queue, { value: [], enumerable: true });
      }
      workers[worker.queue].push(worker.name);
    }
    return {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      version: VERSION,
      node: process.version,
      startedAt: this.startedAt,
      at: Date.now(),
      pipelines: this.runners.map((runner) => ({
        name: runner.name,
        queue: runner.queue,
        maxDemand: runner.maxDemand,
        running: runner.pendingJobsCount,
        paused: runner.isPaused,
        leases: [...runner.heldLeases].slice(0, LEASES_LISTED),
      })),
      workers,
    };
  }
}
