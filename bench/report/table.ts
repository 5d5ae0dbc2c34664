import type { BenchConfig, LibName } from '../config.js';
import type { Results } from './results.js';

type Better = 'higher' | 'lower';

interface RowSpec {
  row: string;
  label: (config: BenchConfig) => string;
  metric: string;
  /** BullMQ's figure to compare with when it differs from `metric` (row 8). */
  bullmqMetric?: string;
  better: Better;
  /** A growth in %: a ratio of two would mean nothing (and flips sign). */
  noRatio?: boolean;
  /** A figure worked out from other medians of the same library (row 11's speed-up). */
  derive?: (median: (metric: string) => number) => number;
  format: (value: number) => string;
  /** `ratio` targets compare with BullMQ in the same run; the others are absolute. */
  target?: {
    text: string;
    ratio?: boolean;
    met: (flume: number, bullmq: number, ratio: number) => boolean;
  };
}

const count = (n: number) => n.toLocaleString('en-US');
const perSecond = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '-');
const fixed = (digits: number) => (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

export const ROWS: RowSpec[] = [
  {
    row: '1',
    label: (c) => `bulk enqueue ${count(c.n)}, chunks of ${count(c.bulkChunk)} (jobs/s)`,
    metric: 'bulk_enqueue_jobs_per_s',
    better: 'higher',
    format: perSecond,
    target: { text: '>= 5x', ratio: true, met: (_f, _b, r) => r >= 5 },
  },
  {
    row: '1',
    label: () => 'client CPU per job, bulk enqueue (µs)',
    metric: 'bulk_enqueue_cpu_us_per_job',
    better: 'lower',
    format: fixed(1),
  },
  {
    row: '2',
    label: (c) => `drain ${count(c.n)}, concurrency ${c.concurrency}, 1 worker process (jobs/s)`,
    metric: 'drain_jobs_per_s',
    better: 'higher',
    format: perSecond,
    target: { text: '>= 5x', ratio: true, met: (_f, _b, r) => r >= 5 },
  },
  {
    row: '2',
    label: (c) => `the same with prefetch ${c.concurrency} (BullMQ as above)`,
    metric: 'drain_prefetch_jobs_per_s',
    bullmqMetric: 'drain_jobs_per_s',
    better: 'higher',
    format: perSecond,
  },
  {
    row: '2',
    label: () => 'worker process CPU per job, drain (µs)',
    metric: 'drain_cpu_us_per_job',
    better: 'lower',
    format: fixed(1),
  },
  {
    row: '2',
    label: () => 'redis-server CPU per job, drain (µs)',
    metric: 'drain_redis_cpu_us_per_job',
    better: 'lower',
    format: fixed(1),
  },
  {
    row: '3',
    label: (c) => `single enqueue, ${c.inflight} in flight, ${count(c.inflightN)} jobs (jobs/s)`,
    metric: 'inflight_enqueue_jobs_per_s',
    better: 'higher',
    format: perSecond,
    target: { text: '>= 2x', ratio: true, met: (_f, _b, r) => r >= 2 },
  },
  {
    row: '3',
    label: () => 'client CPU per job, single enqueue in flight (µs)',
    metric: 'inflight_enqueue_cpu_us_per_job',
    better: 'lower',
    format: fixed(1),
  },
  {
    row: '3',
    label: () => 'Redis commands per job, single enqueue in flight',
    metric: 'inflight_enqueue_commands_per_job',
    better: 'lower',
    format: fixed(2),
  },
  {
    row: '4',
    label: (c) => `sequential enqueue ${count(c.seqN)} (jobs/s)`,
    metric: 'sequential_enqueue_jobs_per_s',
    better: 'higher',
    format: perSecond,
    target: { text: '>= 1.5x', ratio: true, met: (_f, _b, r) => r >= 1.5 },
  },
  {
    row: '5',
    label: (c) => `idle latency p50, ${count(c.latencyN)} jobs (ms)`,
    metric: 'idle_latency_p50_ms',
    better: 'lower',
    format: fixed(2),
    target: { text: '< 2 ms', met: (f) => f < 2 },
  },
  {
    row: '5',
    label: () => 'idle latency p99 (ms)',
    metric: 'idle_latency_p99_ms',
    better: 'lower',
    format: fixed(2),
    target: { text: '< 10 ms', met: (f) => f < 10 },
  },
  {
    row: '5',
    label: () => 'idle latency max (ms)',
    metric: 'idle_latency_max_ms',
    better: 'lower',
    format: fixed(2),
  },
  {
    row: '6',
    label: () => 'Redis commands per job, rows 1+2',
    metric: 'redis_commands_per_job',
    better: 'lower',
    format: fixed(2),
    target: { text: '<= 2', met: (f) => f <= 2 },
  },
  {
    row: '6',
    label: () => 'redis-server CPU per job, rows 1+2 (µs)',
    metric: 'redis_cpu_us_per_job',
    better: 'lower',
    format: fixed(1),
  },
  {
    row: '6',
    label: () => 'Redis memory per waiting job (bytes)',
    metric: 'redis_bytes_per_waiting_job',
    better: 'lower',
    format: fixed(0),
  },
  {
    row: '7',
    label: () => 'worker peak RSS (MB)',
    metric: 'worker_peak_rss_mb',
    better: 'lower',
    format: fixed(1),
  },
  {
    row: '7',
    label: (c) => `worker RSS after ${count(c.rssBatch)} jobs, after GC (MB)`,
    metric: 'worker_rss_first_batch_mb',
    better: 'lower',
    format: fixed(1),
  },
  {
    row: '7',
    label: (c) => `worker RSS after ${count(c.rssBatch * c.rssBatches)} jobs, after GC (MB)`,
    metric: 'worker_rss_last_batch_mb',
    better: 'lower',
    format: fixed(1),
  },
  {
    row: '7',
    label: () => 'RSS growth, last vs first batch (%)',
    metric: 'worker_rss_growth_pct',
    better: 'lower',
    noRatio: true,
    format: fixed(1),
    target: { text: '<= 20%', met: (f) => f <= 20 },
  },
  {
    row: '7',
    label: () => 'heap growth after GC, last vs first batch (%)',
    metric: 'worker_heap_growth_pct',
    better: 'lower',
    noRatio: true,
    format: fixed(1),
  },
  {
    row: '8',
    label: (c) => `batch (size 100) drain ${count(c.n)} (jobs/s; BullMQ: row 2)`,
    metric: 'batch_drain_jobs_per_s',
    bullmqMetric: 'drain_jobs_per_s',
    better: 'higher',
    format: perSecond,
  },
  {
    row: '9',
    label: (c) => `Redis commands per job, steady ${count(c.steadyRate)} jobs/s`,
    metric: 'steady_commands_per_job',
    better: 'lower',
    format: fixed(2),
    target: { text: '<= 2.5', met: (f) => f <= 2.5 },
  },
  {
    row: '9',
    label: () => 'redis-server CPU per job, steady (µs)',
    metric: 'steady_redis_cpu_us_per_job',
    better: 'lower',
    format: fixed(1),
    target: { text: '<= 25 µs', met: (f) => f <= 25 },
  },
  {
    row: '9',
    label: () => 'of which the producer alone, at the same rate (µs)',
    metric: 'steady_producer_redis_cpu_us_per_job',
    better: 'lower',
    format: fixed(1),
  },
  {
    row: '9',
    label: () => 'latency enqueue -> handler start, steady, p50 (ms)',
    metric: 'steady_latency_p50_ms',
    better: 'lower',
    format: fixed(2),
  },
  {
    row: '9',
    label: () => 'latency enqueue -> handler start, steady, p99 (ms)',
    metric: 'steady_latency_p99_ms',
    better: 'lower',
    format: fixed(2),
  },
  {
    row: '9',
    label: () => 'worker process CPU per job, steady (µs)',
    metric: 'steady_worker_cpu_us_per_job',
    better: 'lower',
    format: fixed(1),
  },
  {
    row: '10',
    label: (c) =>
      `${c.slowMs} ms async handler, concurrency ${c.slowConcurrency}, ${count(c.slowN)} jobs (jobs/s)`,
    metric: 'slow_handler_jobs_per_s',
    better: 'higher',
    format: perSecond,
  },
  {
    row: '10',
    label: (c) => `the same, % of the ${count((c.slowConcurrency * 1000) / c.slowMs)} jobs/s bound`,
    metric: 'slow_handler_pct_of_bound',
    better: 'higher',
    noRatio: true,
    format: fixed(1),
    target: { text: '>= 80%', met: (f) => f >= 80 },
  },
  {
    row: '10',
    label: (c) => `the same with prefetch ${c.slowConcurrency}, % of the bound (nestjs-flume only)`,
    metric: 'slow_handler_prefetch_pct_of_bound',
    better: 'higher',
    noRatio: true,
    format: fixed(1),
    target: { text: '>= 80%', met: (f) => f >= 80 },
  },
  {
    row: '10',
    label: (c) =>
      `the same handler in ${c.slowConcurrency} loops, no queue (jobs/s; what Node's timers allow)`,
    metric: 'slow_handler_no_queue_jobs_per_s',
    better: 'higher',
    noRatio: true,
    format: perSecond,
  },
  {
    row: '11',
    label: (c) => `drain ${count(c.n)}, ${c.processes} worker processes (jobs/s)`,
    metric: 'scale_drain_jobs_per_s',
    better: 'higher',
    format: perSecond,
  },
  {
    row: '11',
    label: (c) => `speed-up, ${c.processes} worker processes vs 1 (row 2)`,
    metric: 'scale_speedup',
    derive: (median) => median('scale_drain_jobs_per_s') / median('drain_jobs_per_s'),
    better: 'higher',
    noRatio: true,
    format: (v) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-'),
  },
  {
    row: '11',
    label: (c) => `redis-server CPU per job, ${c.processes} worker processes (µs)`,
    metric: 'scale_redis_cpu_us_per_job',
    better: 'lower',
    format: fixed(1),
  },
  {
    row: '11',
    label: (c) => `redis-server busy, ${c.processes} worker processes (% of a core)`,
    metric: 'scale_redis_busy_pct',
    better: 'lower',
    noRatio: true,
    format: fixed(0),
  },
  {
    row: '12',
    label: (c) =>
      `groups: last of 100 small groups (10 jobs) started, behind ${count(c.groupsBig)} jobs of one group, concurrency ${c.groupsConcurrency} (ms)`,
    metric: 'groups_fair_last_small_start_ms',
    better: 'lower',
    noRatio: true,
    format: fixed(0),
  },
  {
    row: '12',
    label: () => 'the same jobs without groups (ms)',
    metric: 'groups_fair_ungrouped_last_small_start_ms',
    better: 'lower',
    noRatio: true,
    format: fixed(0),
  },
  {
    row: '12',
    label: () => 'small groups all started sooner with groups than without, by',
    metric: 'groups_fair_speedup',
    derive: (median) =>
      median('groups_fair_ungrouped_last_small_start_ms') /
      median('groups_fair_last_small_start_ms'),
    better: 'higher',
    noRatio: true,
    format: (v) => (Number.isFinite(v) ? `${v.toFixed(0)}x` : '-'),
  },
  {
    row: '12',
    label: () => "big group's jobs started before the last small one, with groups",
    metric: 'groups_fair_big_started_before',
    better: 'lower',
    noRatio: true,
    format: perSecond,
  },
  {
    row: '12',
    label: () => 'the same without groups',
    metric: 'groups_fair_ungrouped_big_started_before',
    better: 'lower',
    noRatio: true,
    format: perSecond,
  },
  {
    row: '12',
    label: (c) => `drain ${count(c.n)}, concurrency ${c.concurrency}, no groups (jobs/s)`,
    metric: 'groups_drain_ungrouped_jobs_per_s',
    better: 'higher',
    noRatio: true,
    format: perSecond,
  },
  {
    row: '12',
    label: () => 'the same jobs dealt to 100 groups (jobs/s)',
    metric: 'groups_drain_grouped_jobs_per_s',
    better: 'higher',
    noRatio: true,
    format: perSecond,
  },
  {
    row: '12',
    label: () => 'the same, 100 groups with groupConcurrency 2 (jobs/s)',
    metric: 'groups_drain_capped_jobs_per_s',
    better: 'higher',
    noRatio: true,
    format: perSecond,
  },
  {
    row: '12',
    label: () => 'redis-server CPU per job, drain, no groups (µs)',
    metric: 'groups_drain_ungrouped_redis_cpu_us_per_job',
    better: 'lower',
    noRatio: true,
    format: fixed(1),
  },
  {
    row: '12',
    label: () => 'redis-server CPU per job, drain, 100 groups (µs)',
    metric: 'groups_drain_grouped_redis_cpu_us_per_job',
    better: 'lower',
    noRatio: true,
    format: fixed(1),
  },
  {
    row: '12',
    label: () => 'redis-server CPU per job, drain, 100 groups, groupConcurrency 2 (µs)',
    metric: 'groups_drain_capped_redis_cpu_us_per_job',
    better: 'lower',
    noRatio: true,
    format: fixed(1),
  },
  {
    row: '12',
    label: () => 'worker process CPU per job, drain, no groups (µs)',
    metric: 'groups_drain_ungrouped_cpu_us_per_job',
    better: 'lower',
    noRatio: true,
    format: fixed(1),
  },
  {
    row: '12',
    label: () => 'worker process CPU per job, drain, 100 groups (µs)',
    metric: 'groups_drain_grouped_cpu_us_per_job',
    better: 'lower',
    noRatio: true,
    format: fixed(1),
  },
  {
    row: '12',
    label: () => 'worker process CPU per job, drain, 100 groups, groupConcurrency 2 (µs)',
    metric: 'groups_drain_capped_cpu_us_per_job',
    better: 'lower',
    noRatio: true,
    format: fixed(1),
  },
  {
    row: '12',
    label: () => 'drain, 100 groups vs no groups',
    metric: 'groups_drain_grouped_vs_ungrouped',
    derive: (median) =>
      median('groups_drain_grouped_jobs_per_s') / median('groups_drain_ungrouped_jobs_per_s'),
    better: 'higher',
    noRatio: true,
    format: (v) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-'),
  },
  {
    row: '12',
    label: () => 'drain, 100 groups with groupConcurrency 2 vs no groups',
    metric: 'groups_drain_capped_vs_ungrouped',
    derive: (median) =>
      median('groups_drain_capped_jobs_per_s') / median('groups_drain_ungrouped_jobs_per_s'),
    better: 'higher',
    noRatio: true,
    format: (v) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-'),
  },
];

export interface TableLine {
  row: string;
  metric: string;
  label: string;
  flume: number;
  bullmq: number;
  /** How many times better nestjs-flume is (> 1: better), whatever the direction of the unit. */
  ratio: number;
  target?: string;
  met?: boolean;
}

export function tableLines(results: Results, config: BenchConfig): TableLine[] {
  const lines: TableLine[] = [];
  for (const spec of ROWS) {
    const value = (lib: LibName, metric: string) =>
      spec.derive ? spec.derive((m) => results.median(lib, m)) : results.median(lib, metric);
    const flume = value('flume', spec.metric);
    const bullmq = value('bullmq', spec.bullmqMetric ?? spec.metric);
    if (!Number.isFinite(flume) && !Number.isFinite(bullmq)) continue;
    const ratio = spec.noRatio ? NaN : spec.better === 'higher' ? flume / bullmq : bullmq / flume;
    const known = spec.target?.ratio ? Number.isFinite(ratio) : Number.isFinite(flume);
    const ok = spec.target && known ? spec.target.met(flume, bullmq, ratio) : undefined;
    lines.push({
      row: spec.row,
      metric: spec.metric,
      label: spec.label(config),
      flume,
      bullmq,
      ratio,
      target: spec.target?.text,
      met: ok,
    });
  }
  return lines;
}

/** The table as Markdown, ready to paste into a README. */
export function renderTable(lines: TableLine[]): string {
  const formatOf = new Map(ROWS.map((spec) => [spec.metric, spec.format]));
  const header = ['Row', 'Measure', 'nestjs-flume', 'BullMQ', 'flume vs BullMQ', 'Target', 'Met'];
  const body = lines.map((line) => {
    const format = formatOf.get(line.metric)!;
    return [
      line.row,
      line.label,
      format(line.flume),
      format(line.bullmq),
      Number.isFinite(line.ratio) ? `${line.ratio.toFixed(2)}x` : '-',
      line.target ?? '',
      line.met === undefined ? '' : line.met ? 'yes' : 'NO',
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  const render = (cells: string[]) =>
    `| ${cells.map((cell, c) => (c >= 2 && c <= 4 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (c >= 2 && c <= 4 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [render(header), rule, ...body.map(render)].join('\n');
}

/** One line per target: the figure or ratio it is judged on, and met / NOT MET. */
export function targetSummary(lines: TableLine[]): string[] {
  const formatOf = new Map(ROWS.map((spec) => [spec.metric, spec.format]));
  const ratioTargets = new Set(ROWS.filter((s) => s.target?.ratio).map((s) => s.metric));
  return lines
    .filter((line) => line.target !== undefined)
    .map((line) => {
      const judged = ratioTargets.has(line.metric)
        ? `${Number.isFinite(line.ratio) ? line.ratio.toFixed(2) : '-'}x BullMQ`
        : formatOf.get(line.metric)!(line.flume);
      const verdict = line.met === undefined ? 'not measured' : line.met ? 'met' : 'NOT MET';
      return `Target row ${line.row}, ${line.label}: ${line.target}; ${judged}: ${verdict}`;
    });
}
