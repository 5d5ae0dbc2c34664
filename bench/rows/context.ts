import type { Redis } from 'ioredis';
import type { BenchConfig } from '../config.js';
import type { BenchLib, BenchSession } from '../libs/index.js';
import type { RegionProfiler } from '../profile/cpu.js';
import type { BenchRedis } from '../redis-server.js';

/** What a row gets to run one library once. */
export interface RowContext {
  config: BenchConfig;
  redis: BenchRedis;
  lib: BenchLib;
  round: number;
  profiler: RegionProfiler;
  /** Records one figure of this round. */
  record(metric: string, value: number): void;
  /** Records a detail kept in the results file only (breakdowns, raw samples). */
  detail(key: string, value: unknown): void;
  /** A namespace (flume) / prefix (BullMQ) used by nothing else in this run. */
  namespace(row: string): string;
  /** Where a worker process writes its CPU profile (BENCH_PROFILE), or undefined. */
  profileFile(label: string): string | undefined;
}

/** Resolves once the session has nothing left in Redis; throws with the counts after `timeoutMs`. */
export async function untilSettled(
  session: BenchSession,
  admin: Redis,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let polls = 0;
  for (;;) {
    const left = await session.leftovers(admin);
    polls++;
    if (Object.values(left).every((count) => count === 0)) return polls;
    if (Date.now() > deadline) {
      throw new Error(`jobs left in Redis after ${timeoutMs} ms: ${JSON.stringify(left)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** performance.now() of this process as ms since the epoch, comparable across processes. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
