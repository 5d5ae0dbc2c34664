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
}

/** A process' memory at one moment. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  /** Peak RSS of the process so far (getrusage ru_maxrss), bytes. */
  maxRss: number;
}

export type WorkerMessage =
  | ({ type: 'ready' } & MemorySample)
  | ({ type: 'milestone'; count: number; at: number } & MemorySample)
  | ({ type: 'stopped'; calls: number; distinct: number; duplicates: number } & MemorySample)
  | { type: 'error'; message: string };

export type ParentMessage = { type: 'stop' };

export function memorySample(): MemorySample {
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed, maxRss: process.resourceUsage().maxRSS * 1024 };
}
