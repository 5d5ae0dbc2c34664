import type { LibName } from '../config.js';

/** What the parent tells a worker process at start (as its one argument, JSON). */
export interface WorkerProcessSpec {
  lib: LibName;
  port: number;
  namespace: string;
  concurrency: number;
  /** Jobs the process expects (job indexes 0 .. expected - 1). */
  expected: number;
  /** Distinct job counts at which the process reports. */
  milestones: number[];
  /** Take the after-GC memory samples (row 7). Off where a GC would disturb a timing (row 3). */
  gcSamples: boolean;
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

export type WorkerMessage =
  | ({ type: 'ready' } & MemorySample)
  | ({ type: 'milestone'; count: number; at: number } & MemorySample)
  | ({ type: 'stopped'; calls: number; distinct: number; duplicates: number } & MemorySample)
  | { type: 'error'; message: string };

export type ParentMessage = { type: 'stop' };

export function memorySample(withGc: boolean): MemorySample {
  const { rss, heapUsed } = process.memoryUsage();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const gc = withGc ? (globalThis as { gc?: () => void }).gc : undefined;
  gc?.();
  const after = gc ? process.memoryUsage() : { rss: NaN, heapUsed: NaN };
  return { rss, heapUsed, maxRss, rssAfterGc: after.rss, heapAfterGc: after.heapUsed };
}
