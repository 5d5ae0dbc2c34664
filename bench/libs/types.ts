import type { Redis } from 'ioredis';
import type { LibName } from '../config.js';
import type { Probe } from '../probe.js';

/** Where and how a session runs. Every session gets a namespace (prefix) of its own. */
export interface SessionOptions {
  port: number;
  /** flume `namespace` / BullMQ `prefix`: fresh for each session, so each starts empty. */
  namespace: string;
  /** Row 8: jobs go to a @Batch({ size: batchSize }) worker (nestjs-flume only). */
  batchSize?: number;
  /** When set, the session also consumes, as a user's worker would. */
  consume?: {
    concurrency: number;
    probe: Probe;
    /** The handler awaits a timer of this many ms after reporting its start; 0: a no-op. */
    handlerMs: number;
    /** Row 12: the pipeline's `groupConcurrency` (nestjs-flume only). */
    groupConcurrency?: number;
    /** nestjs-flume's pipeline option `prefetch` (nestjs-flume only). */
    prefetch?: number;
  };
}

/**
 * One library, used as its users use it: nestjs-flume through its Nest module
 * (FlumeModule.forRoot + a @Worker + FlumeClient), BullMQ through Queue and Worker.
 * Job `i` carries `i`, and the handler reports it to the probe.
 */
export interface BenchSession {
  /**
   * Enqueues jobs `from` .. `from + count - 1`, `chunk` jobs per bulk call, one call at a
   * time; with `groupOf`, job i goes to group `groupOf(i)` (row 12, nestjs-flume only:
   * BullMQ's open-source version has no groups).
   */
  enqueueBulk(
    from: number,
    count: number,
    chunk: number,
    groupOf?: (index: number) => string,
  ): Promise<void>;
  /** Enqueues job `index` alone. */
  enqueueOne(index: number): Promise<void>;
  /**
   * Jobs not yet settled in Redis (waiting, leased or active, kept after completion):
   * all zero once every job ran and was acknowledged.
   */
  leftovers(admin: Redis): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface BenchLib {
  readonly name: LibName;
  /** Whether the library can run row 8; a string says why not. */
  readonly batchSupport: true | string;
  open(options: SessionOptions): Promise<BenchSession>;
}
