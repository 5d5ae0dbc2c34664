import type { LibName } from '../config.js';

/** What the parent tells a worker process at start (as its one argument, JSON). */
export interface WorkerProcessSpec {
  lib: LibName;
  port: number;
  namespace: string;
  concurrency: number;
  /**
   * Job indexes of the row (0 .. expected - 1), all processes of the row together: a
   * process of a row with two workers sees about half of them.
   */
  expected: number;
  /** Distinct job counts (of this process) at which it reports. */
  milestones: number[];
  /** Take the after-GC memory samples (row 7). Off where a GC would disturb a timing. */
  gcSamples: boolean;
  /** The handler awaits a timer of this many ms after reporting its start; 0: a no-op. */
  handlerMs: number;
  /** Row 8: a @Batch({ size }) worker (nestjs-flume only). */
  batchSize?: number;
  /** Row 12: the pipeline's `groupConcurrency` (nestjs-flume only). */
  groupConcurrency?: number;
  /** nestjs-flume's pipeline option `prefetch` (rows 2 and 10 run once with it). */
  prefetch?: number;
  /** Report when each job started (epoch ms), in the final report: the latency rows. */
  recordStarts: boolean;
  /** Write a V8 CPU profile of the process, from before the consumer starts to the stop. */
  profileFile?: string;
  /**
   * Load everything, say 'loaded', and start the consumer only on 'go': the processes of
   * row 11 start together, whatever each took to load.
   */
  waitForGo: boolean;
}

/** A process' memory at one moment. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  /** Peak RSS of the process so far (getrusage ru_maxrss), bytes. */
  maxRss: number;
  /**
   * RSS and heap right after a full GC (the worker process runs with --expose-gc):
   * what the process retains, free of where the collector happened to be when sampled.
   */
  rssAfterGc: number;
  heapAfterGc: number;
}

/** What a worker process did, sent once it stopped. */
export interface WorkerReport {
  /** Handler calls (duplicates included), distinct jobs, and calls beyond a job's first. */
  calls: number;
  distinct: number;
  duplicates: number;
  /** When the first and the last job started (epoch ms, comparable across processes). */
  firstAt: number;
  lastAt: number;
  /** CPU time of the process (user + system, µs) at the first job's start and at the stop. */
  cpuAtFirstUs: number;
  cpuAtStopUs: number;
  /** Jobs seen, one byte per job index: the parent merges the processes of a row. */
  seen: Uint8Array;
  /** Start time (epoch ms) of each job index, when the spec asked for them (NaN: not run here). */
  starts?: Float64Array;
}

export type WorkerMessage =
  | { type: 'loaded' }
  | ({ type: 'ready' } & MemorySample)
  | ({ type: 'milestone'; count: number; at: number; cpuUs: number } & MemorySample)
  | ({ type: 'stopped'; report: WorkerReport } & MemorySample)
  | { type: 'error'; message: string };

export type ParentMessage = { type: 'go' } | { type: 'stop' };

/** CPU time this process used so far (user + system), µs. */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

export function memorySample(withGc: boolean): MemorySample {
  const { rss, heapUsed } = process.memoryUsage();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const gc = withGc ? (globalThis as { gc?: () => void }).gc : undefined;
  gc?.();
  const after = gc ? process.memoryUsage() : { rss: NaN, heapUsed: NaN };
  return { rss, heapUsed, maxRss, rssAfterGc: after.rss, heapAfterGc: after.heapUsed };
}
