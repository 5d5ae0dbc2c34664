/**
 * Bench settings, from the environment or `--key=value` arguments (arguments win):
 *
 *   BENCH_SMOKE=1 / --smoke   small N everywhere, one round: for CI, well under a minute
 *   BENCH_N                   jobs of rows 1, 2, 8 and 11 (default 100000)
 *   BENCH_ROUNDS              rounds; each figure is the median over them (default 3)
 *   BENCH_CONCURRENCY         worker concurrency / maxDemand (default 100)
 *   BENCH_BULK_CHUNK          jobs per bulk call in row 1 (default 1000)
 *   BENCH_INFLIGHT_N          jobs of row 3 (default 100000)
 *   BENCH_INFLIGHT            enqueue calls in flight in row 3 (default 100)
 *   BENCH_SEQ_N               jobs of row 4 (default 10000)
 *   BENCH_LATENCY_N           jobs of row 5 (default 1000)
 *   BENCH_RSS_BATCH           jobs per batch of row 7 (default 100000)
 *   BENCH_RSS_BATCHES         batches of row 7 (default 10: 1,000,000 jobs)
 *   BENCH_STEADY_RATE         row 9's producer rate, jobs/s (default 2000)
 *   BENCH_STEADY_JOBS         jobs of row 9 (default 20000: 10 s at 2,000 jobs/s)
 *   BENCH_SLOW_N              jobs of row 10 (default 50000)
 *   BENCH_SLOW_CONCURRENCY    worker concurrency of row 10 (default 50)
 *   BENCH_SLOW_MS             row 10's handler: an awaited timer of this many ms (default 1)
 *   BENCH_PROCESSES           worker processes of row 11 (default 2)
 *   BENCH_GROUPS_BIG          jobs of row 12's big group (default 100000)
 *   BENCH_GROUPS_CONCURRENCY  worker concurrency of row 12's fairness runs (default 50)
 *   BENCH_ROWS                rows to run, e.g. "1,2,6" (default all)
 *   BENCH_LIBS                "flume", "bullmq" or both (default "flume,bullmq")
 *   BENCH_PROFILE=dir         write a V8 CPU profile of each timed region to dir
 *   BENCH_OUT                 results file (default bench/results/latest.json; in smoke
 *                             mode bench/results/smoke.json.tmp, which git ignores, so
 *                             CI never overwrites the committed figures)
 */
export interface BenchConfig {
  smoke: boolean;
  n: number;
  rounds: number;
  concurrency: number;
  bulkChunk: number;
  inflightN: number;
  inflight: number;
  seqN: number;
  latencyN: number;
  rssBatch: number;
  rssBatches: number;
  steadyRate: number;
  steadyJobs: number;
  slowN: number;
  slowConcurrency: number;
  slowMs: number;
  processes: number;
  groupsBig: number;
  groupsConcurrency: number;
  rows: Set<number>;
  libs: LibName[];
  profileDir?: string;
  out: string;
}

export type LibName = 'flume' | 'bullmq';

export const ALL_ROWS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

const SMOKE: Partial<Record<keyof BenchConfig, number>> = {
  n: 2_000,
  rounds: 1,
  inflightN: 2_000,
  seqN: 300,
  latencyN: 100,
  rssBatch: 2_000,
  rssBatches: 3,
  steadyJobs: 1_000,
  slowN: 2_000,
  groupsBig: 2_000,
};

function settings(argv: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('BENCH_') && value !== undefined) found.set(key.slice(6), value);
  }
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match)
      throw new Error(`Unknown argument ${arg}: expected --key=value (see bench/config.ts)`);
    found.set(match[1].toUpperCase().replace(/-/g, '_'), match[2] ?? '1');
  }
  return found;
}

export function loadConfig(argv = process.argv.slice(2)): BenchConfig {
  const raw = settings(argv);
  const smoke = ['1', 'true', 'yes'].includes(raw.get('SMOKE') ?? '');
  const int = (key: string, field: keyof BenchConfig, fallback: number, min = 1): number => {
    const text = raw.get(key);
    const value =
      text === undefined ? (smoke ? (SMOKE[field] ?? fallback) : fallback) : Number(text);
    if (!Number.isSafeInteger(value) || value < min) {
      throw new Error(`BENCH_${key} must be an integer >= ${min}, got: ${text}`);
    }
    return value;
  };
  const libs = (raw.get('LIBS') ?? 'flume,bullmq').split(',').map((s) => s.trim());
  for (const lib of libs) {
    if (lib !== 'flume' && lib !== 'bullmq') throw new Error(`BENCH_LIBS: unknown library ${lib}`);
  }
  const rows = new Set(
    (raw.get('ROWS') ?? ALL_ROWS.join(',')).split(',').map((s) => Number(s.trim())),
  );
  return {
    smoke,
    n: int('N', 'n', 100_000),
    rounds: int('ROUNDS', 'rounds', 3),
    concurrency: int('CONCURRENCY', 'concurrency', 100),
    bulkChunk: int('BULK_CHUNK', 'bulkChunk', 1_000),
    inflightN: int('INFLIGHT_N', 'inflightN', 100_000),
    inflight: int('INFLIGHT', 'inflight', 100),
    seqN: int('SEQ_N', 'seqN', 10_000),
    latencyN: int('LATENCY_N', 'latencyN', 1_000),
    rssBatch: int('RSS_BATCH', 'rssBatch', 100_000),
    rssBatches: int('RSS_BATCHES', 'rssBatches', 10, 2),
    steadyRate: int('STEADY_RATE', 'steadyRate', 2_000),
    steadyJobs: int('STEADY_JOBS', 'steadyJobs', 20_000),
    slowN: int('SLOW_N', 'slowN', 50_000),
    slowConcurrency: int('SLOW_CONCURRENCY', 'slowConcurrency', 50),
    slowMs: int('SLOW_MS', 'slowMs', 1),
    processes: int('PROCESSES', 'processes', 2, 2),
    groupsBig: int('GROUPS_BIG', 'groupsBig', 100_000),
    groupsConcurrency: int('GROUPS_CONCURRENCY', 'groupsConcurrency', 50),
    rows,
    libs: libs as LibName[],
    profileDir: raw.get('PROFILE') || undefined,
    out: raw.get('OUT') ?? (smoke ? 'bench/results/smoke.json.tmp' : 'bench/results/latest.json'),
  };
}
