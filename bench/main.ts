// `npm run bench`: nestjs-flume against BullMQ, row by row, on a redis-server of the
// bench's own. Settings: see config.ts. Exits non-zero when a row failed (a job lost,
// run twice, or left in Redis).
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { killWorkerProcesses } from './child/spawn.js';
import { loadConfig, type BenchConfig, type LibName } from './config.js';
import { loadLib, type BenchLib } from './libs/index.js';
import { waitBounds } from './probe.js';
import { RegionProfiler } from './profile/cpu.js';
import { BenchRedis } from './redis-server.js';
import { environment } from './report/environment.js';
import { Results } from './report/results.js';
import { renderTable, tableLines, targetSummary } from './report/table.js';
import { batchDrain } from './rows/batch.js';
import { bulkAndDrain, drainWithPrefetch } from './rows/bulk-drain.js';
import { groupRows } from './rows/groups.js';
import type { RowContext } from './rows/context.js';
import { inflightEnqueue } from './rows/inflight.js';
import { idleLatency } from './rows/latency.js';
import { workerMemory } from './rows/memory.js';
import { scaling } from './rows/scaling.js';
import { sequentialEnqueue } from './rows/sequential.js';
import { slowHandler } from './rows/slow-handler.js';
import { steadyRate } from './rows/steady.js';

type Row = (ctx: RowContext) => Promise<void>;

/** Rows run every round, in this order; each runs for every library, alternating who goes first. */
const ROUND_ROWS: { rows: number[]; name: string; run: Row }[] = [
  { rows: [1, 2, 6], name: 'rows 1+2+6 bulk enqueue, drain, commands', run: bulkAndDrain },
  { rows: [3], name: 'row 3 enqueue, 100 in flight', run: inflightEnqueue },
  { rows: [4], name: 'row 4 sequential enqueue', run: sequentialEnqueue },
  { rows: [5], name: 'row 5 idle latency', run: idleLatency },
  { rows: [9], name: 'row 9 steady 2,000 jobs/s', run: steadyRate },
  { rows: [10], name: 'row 10 1 ms handler', run: slowHandler },
  { rows: [11], name: 'row 11 worker processes', run: scaling },
];

const NO_PROFILER = new RegionProfiler(undefined);

const log = (message: string) => process.stderr.write(`${message}\n`);

class Bench {
  readonly results = new Results();
  private readonly profiler: RegionProfiler;
  private serial = 0;

  constructor(
    private readonly config: BenchConfig,
    private readonly redis: BenchRedis,
    private readonly libs: BenchLib[],
  ) {
    this.profiler = new RegionProfiler(config.profileDir);
  }

  private context(lib: BenchLib, round: number, results: Results): RowContext {
    return {
      config: this.config,
      redis: this.redis,
      lib,
      round,
      // Round 0 is the warm-up: not profiled.
      profiler: round === 0 ? NO_PROFILER : this.profiler,
      record: (metric, value) => results.add(lib.name, metric, value),
      detail: (key, value) => results.detail(lib.name, key, value),
      namespace: (row) => `bench-${lib.name}-${row}-${round}-${this.serial++}`,
      profileFile: (label) =>
        this.config.profileDir && round > 0
          ? join(this.config.profileDir, `${label.replace(/[^a-z0-9-]+/gi, '-')}.cpuprofile`)
          : undefined,
    };
  }

  private async attempt(name: string, lib: BenchLib, round: number, run: Row): Promise<void> {
    const started = Date.now();
    try {
      await run(this.context(lib, round, this.results));
      log(`  ${lib.name.padEnd(6)} ${name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      const message = (err as Error).message;
      this.results.failures.push({ lib: lib.name, row: name, round, message });
      log(`  ${lib.name.padEnd(6)} ${name}: FAILED: ${message}`);
    }
  }

  async run(): Promise<void> {
    const { config, libs } = this;
    const wanted = (rows: number[]) => rows.some((row) => config.rows.has(row));

    if (!config.smoke && wanted([1, 2, 6])) {
      log('warm-up (not recorded)');
      const discard = new Results();
      for (const lib of libs) {
        await bulkAndDrain(this.context(lib, 0, discard), Math.min(config.n, 20_000));
      }
    }
    for (let round = 1; round <= config.rounds; round++) {
      log(`round ${round} of ${config.rounds}`);
      const order = round % 2 === 1 ? libs : [...libs].reverse();
      for (const { rows, name, run } of ROUND_ROWS) {
        if (!wanted(rows)) continue;
        for (const lib of order) await this.attempt(name, lib, round, run);
      }
      const flume = libs.find((lib) => lib.name === 'flume');
      if (config.rows.has(2) && flume) {
        await this.attempt('row 2 drain with prefetch', flume, round, drainWithPrefetch);
      }
      if (config.rows.has(8) && flume) {
        if (flume.batchSupport === true) {
          await this.attempt('row 8 batch drain', flume, round, batchDrain);
        } else if (round === 1) {
          this.results.skipped.push({ row: '8', reason: flume.batchSupport });
        }
      }
      // Job groups: nestjs-flume only (BullMQ sells groups in its Pro version).
      if (config.rows.has(12) && flume) {
        await this.attempt('row 12 job groups', flume, round, groupRows);
      } else if (config.rows.has(12) && round === 1) {
        this.results.skipped.push({ row: '12', reason: 'nestjs-flume is not in BENCH_LIBS' });
      }
    }
    if (config.rows.has(7)) {
      log('row 7 (once, not per round)');
      for (const lib of libs) await this.attempt('row 7 worker memory', lib, 1, workerMemory);
    }
  }

  close(): void {
    this.profiler.close();
  }
}

function commandBreakdown(results: Results, lib: LibName): string {
  const rounds = results.details[lib].redis_commands_per_job_rows_1_2 as
    Record<string, number>[] | undefined;
  const last = rounds?.[rounds.length - 1];
  if (!last) return `${lib}: -`;
  const top = Object.entries(last)
    .slice(0, 12)
    .map(([name, perJob]) => `${name} ${perJob}`)
    .join(', ');
  return `${lib}: ${top}`;
}

async function main(): Promise<number> {
  const config = loadConfig();
  if (config.smoke) waitBounds.baseMs = 5_000;
  const started = Date.now();
  const env = environment();
  const redis = await BenchRedis.start();
  const emergency = () => {
    killWorkerProcesses();
    redis.killNow();
  };
  process.once('SIGINT', () => {
    emergency();
    process.exit(130);
  });
  process.once('SIGTERM', () => {
    emergency();
    process.exit(143);
  });
  process.once('uncaughtException', (err) => {
    log(`uncaught: ${err.stack}`);
    emergency();
    process.exit(1);
  });

  const redisVersion = await redis.version();
  log(
    `nestjs-flume vs BullMQ ${env.bullmq}: ${config.smoke ? 'SMOKE' : 'full'} run, ${config.rounds} round(s), ` +
      `redis-server ${redisVersion} on port ${redis.port}, ${env.cores} cores, commit ${env.commit}${env.libDirty ? ' (lib/ modified)' : ''}`,
  );
  const libs = await Promise.all(config.libs.map((name) => loadLib(name)));
  const bench = new Bench(config, redis, libs);
  try {
    await bench.run();
  } finally {
    bench.close();
    await redis.stop();
  }

  const { results } = bench;
  const lines = tableLines(results, config);
  const table = renderTable(lines);
  console.log(table);
  console.log('\nRedis commands per job (rows 1+2, last round; commands inside scripts included):');
  for (const lib of config.libs) console.log(`  ${commandBreakdown(results, lib)}`);
  for (const { row, reason } of results.skipped) console.log(`Row ${row} skipped: ${reason}`);
  for (const f of results.failures)
    console.log(`FAILED ${f.lib} ${f.row} (round ${f.round}): ${f.message}`);
  console.log(
    `No job lost or run twice in any row: ${results.failures.length === 0 ? 'met' : 'NOT MET (see FAILED above)'}`,
  );
  for (const line of targetSummary(lines)) console.log(line);
  const durationS = Math.round((Date.now() - started) / 1000);
  console.log(
    `\n${env.cores} cores (${env.cpuModel}), Node ${env.node}, Redis ${redisVersion}, BullMQ ${env.bullmq}; ` +
      `${config.smoke ? 'smoke' : 'full'} run in ${durationS} s; load average ${env.loadAverageAtStart.join(' ')} at start, ` +
      `${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} at end.`,
  );

  mkdirSync(dirname(config.out), { recursive: true });
  const file = {
    generatedAt: new Date().toISOString(),
    durationS,
    command: `${config.smoke ? 'BENCH_SMOKE=1 ' : ''}npm run bench`,
    environment: {
      ...env,
      redis: redisVersion,
      loadAverageAtEnd: loadavg().map((l) => +l.toFixed(2)),
    },
    config: { ...config, rows: [...config.rows] },
    table: lines,
    tableText: table,
    medians: { flume: results.medians('flume'), bullmq: results.medians('bullmq') },
    rounds: results.values,
    details: results.details,
    skipped: results.skipped,
    failures: results.failures,
  };
  writeFileSync(config.out, `${JSON.stringify(file, null, 2)}\n`);
  console.log(`Results written to ${config.out}`);
  return results.failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    log(err.stack ?? err.message);
    killWorkerProcesses();
    process.exit(1);
  },
);
