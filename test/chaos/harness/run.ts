import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type Cluster } from 'ioredis';
import { pausedPipelinesKey, queueKeys } from '../../../lib/engine/keys.js';
import { ledgerKeys, PIPELINES, QUEUES, type ChaosAppConfig } from '../fixtures/config.js';
import { Random } from '../fixtures/random.js';
import { check, type CheckResult, type Duplicate, type Violation } from './checker.js';
import { History } from './history.js';
import { Nemesis, Operator } from './nemesis.js';
import { failureSummary, faultCounts, figuresLine } from './report.js';
import { describeFault, plan } from './schedule.js';
import { readFinalState } from './state.js';
import { Supervisor } from './supervisor.js';
import { ClusterTopology, SingleTopology, type ChaosTopology } from './topology.js';

export interface ChaosOptions {
  seed: number;
  durationMs: number;
  mode: 'single' | 'cluster';
  /** Compiled entry point of the app processes (test/chaos/fixtures/main.js). */
  main: string;
  workers?: number;
  producers?: number;
  /** Multiplies the quiet time between faults (below 1: more faults). */
  pace?: number;
  /** Where the logs go; default a new folder in the system's temp dir. */
  logDir?: string;
  /** Keep the logs when the run passes too (a failed run always keeps them). */
  keepLogs?: boolean;
  print?: (line: string) => void;
}

export interface ChaosResult {
  ok: boolean;
  seed: number;
  mode: 'single' | 'cluster';
  violations: Violation[];
  duplicates: Duplicate[];
  figures: Record<string, number | string>;
  faults: Record<string, string>;
  /** Figures, faults, duplicates and, when it failed, what happened around the first violation. */
  summary: string;
  /** Kept when the run failed or keepLogs is set; deleted otherwise. */
  logDir: string;
}

/** The engine's options in every app of the run: short leases and timeouts, so that much happens. */
const FLUME = {
  visibilityTimeout: 5_000,
  shutdownTimeout: 2_500,
  commandTimeout: 2_000,
  schedulerPollInterval: 500,
  maxRecoveries: 3,
};
const RATE_LIMIT = { count: 8, scaleMs: 1_000 };
const PERIODIC_EVERY_MS = 2_000;
/** Once the faults are over, how long everything may take to run and settle. */
const DRAIN_WITHIN_MS = 180_000;

/**
 * A chaos run: app processes (workers and producers) on a Redis of the run's own, a
 * nemesis that breaks things on a schedule drawn from the seed, an operator that pauses
 * and resumes pipelines, a supervisor that restarts what was killed; then, faults
 * over, everything drained and closed, the checks of test/chaos/README.md.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { seed, mode, durationMs } = options;
  const workers = options.workers ?? 3;
  const producers = options.producers ?? 2;
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), `flume-chaos-${seed}-`));
  mkdirSync(logDir, { recursive: true });
  const history = new History(join(logDir, 'timeline.jsonl'), print);
  const schedule = plan({ seed, mode, durationMs, workers, pace: options.pace ?? 1 });
  writeFileSync(join(logDir, 'plan.json'), `${JSON.stringify(schedule, null, 2)}\n`);
  writeFileSync(join(logDir, 'plan.txt'), `${schedule.faults.map(describeFault).join('\n')}\n`);
  print(
    `[chaos] seed ${seed}, ${mode} mode, ${(durationMs / 60_000).toFixed(1)} min, ${workers} workers, ${producers} producers; ` +
      `${schedule.faults.length} faults and ${schedule.pauses.length} pauses planned (plan.txt); logs in ${logDir}`,
  );

  const topology: ChaosTopology =
    mode === 'single' ? await SingleTopology.start() : await ClusterTopology.start();
  writeFileSync(
    join(logDir, 'topology.json'),
    `${JSON.stringify({ ledger: topology.ledgerUrl, connection: topology.connection() }, null, 2)}\n`,
  );
  const namespace = `chaos-${seed}`;
  const ledgerPrefix = `ledger:${namespace}`;
  const ledger = new Redis(topology.ledgerUrl);
  ledger.on('error', () => undefined);
  const root = new Random(seed);
  const config = (label: string, role: 'worker' | 'producer'): ChaosAppConfig => ({
    role,
    label,
    namespace,
    connection: topology.connection(),
    ledger: { url: topology.ledgerUrl, prefix: ledgerPrefix },
    flume: FLUME,
    rateLimit: RATE_LIMIT,
    workload:
      role === 'producer'
        ? { seed: root.fork(label).seed, meanIntervalMs: 100, maxInFlight: 20, uniqueKeys: 6 }
        : undefined,
  });
  const supervisor = new Supervisor({
    main: options.main,
    logDir,
    history,
    config,
    shutdownTimeout: FLUME.shutdownTimeout,
    bootTimeoutMs: 60_000,
    restartDelayMs: 1_000,
  });
  const workerLabels = Array.from({ length: workers }, (_, i) => `worker-${i + 1}`);
  const producerLabels = Array.from({ length: producers }, (_, i) => `producer-${i + 1}`);
  let result: CheckResult | undefined;
  let state: Awaited<ReturnType<typeof readFinalState>> | undefined;
  const startedAt = Date.now();
  try {
    history.phase('starting the apps');
    await Promise.all(workerLabels.map((label) => supervisor.start(label, 'worker')));
    await Promise.all(producerLabels.map((label) => supervisor.start(label, 'producer')));

    history.phase(`faults for ${(durationMs / 1000).toFixed(0)} s`);
    const nemesis = new Nemesis(schedule.faults, topology, supervisor, history);
    const operator = new Operator(schedule.pauses, supervisor, history);
    const t0 = Date.now();
    nemesis.start(t0);
    operator.start(t0);
    await progress(t0, durationMs, history, ledger, ledgerPrefix, print);

    history.phase('faults over: healing Redis and the network');
    await Promise.all([nemesis.stop(), operator.stop()]);
    history.phase('resuming every pipeline, stopping the producers');
    await resumeEverything(supervisor, workerLabels);
    for (const label of producerLabels) {
      const totals = await supervisor.app(label)?.request({ type: 'stop-producing' }, 60_000);
      print(`[chaos] ${label}: ${JSON.stringify(totals)}`);
    }
    history.phase('draining');
    await retry(() =>
      anyWorker(supervisor, workerLabels).request({ type: 'pause-periodic' }, 10_000),
    );
    await drain(topology.reader(), namespace, history, async (names) => {
      for (const pipeline of names) {
        await retry(() =>
          anyWorker(supervisor, workerLabels).request(
            { type: 'resume', pipeline, temporary: false },
            10_000,
          ),
        );
      }
    });
    history.phase('pinging every process');
    for (const label of [...workerLabels, ...producerLabels]) {
      const app = supervisor.app(label);
      try {
        if (!app) throw new Error(`${label} is not running`);
        await app.request({ type: 'ping' }, 10_000);
      } catch (err) {
        history.violation({ kind: 'ping', at: Date.now(), label, message: (err as Error).message });
      }
    }
    history.phase('closing every process (SIGTERM)');
    await supervisor.stopAll();

    history.phase('checking');
    state = await readFinalState(
      ledger,
      ledgerPrefix,
      topology.reader(),
      namespace,
      await topology.keys(namespace),
    );
    result = check(state, history, {
      rateLimit: RATE_LIMIT,
      periodicEveryMs: PERIODIC_EVERY_MS,
      mode,
    });
  } catch (err) {
    history.violation({
      kind: 'run',
      at: Date.now(),
      message: `the run itself failed: ${(err as Error).stack ?? String(err)}`,
    });
  } finally {
    await supervisor.killAll().catch(() => undefined);
    ledger.disconnect();
    await topology.stop().catch(() => undefined);
  }

  const violations: Violation[] =
    result?.violations ??
    history.violations.map((v) => ({ invariant: v.kind, at: v.at, message: v.message }));
  const faults = faultCounts(history);
  const figures: Record<string, number | string> = {
    seed,
    mode,
    minutes: +(durationMs / 60_000).toFixed(2),
    wallMinutes: +((Date.now() - startedAt) / 60_000).toFixed(2),
    processesStarted: history.processes.length,
    closeMaxMs: Math.max(0, ...history.processes.map((p) => p.closeMs ?? 0)),
    exitAfterCloseMaxMs: Math.max(0, ...history.processes.map((p) => p.exitAfterCloseMs ?? 0)),
    ...(result?.figures ?? {}),
    pausesAppliedLate: history.notes.filter((n) => n.kind === 'pause-applied-late').length,
  };
  const lines = [
    `[chaos figures] ${figuresLine(figures)}`,
    `[chaos faults] ${figuresLine(faults)}`,
    `[chaos pauses] ${history.pauses.length} (${history.pauses.filter((p) => p.scope === 'global').length} for every instance, ${history.pauses.filter((p) => p.error).length} with an error)`,
  ];
  if (violations.length === 0) {
    lines.push(`[chaos] PASSED: every invariant held (seed ${seed}).`);
  } else {
    const byInvariant = new Map<string, number>();
    for (const v of violations)
      byInvariant.set(v.invariant, (byInvariant.get(v.invariant) ?? 0) + 1);
    lines.push(
      `[chaos] FAILED: ${violations.length} violation(s): ${[...byInvariant].map(([k, n]) => `${k} (${n})`).join('; ')}`,
      `[chaos] replay: npm run chaos -- --seed ${seed} --minutes ${+(durationMs / 60_000).toFixed(2)} --mode ${mode}`,
      '',
      result && state
        ? failureSummary(violations[0], result, state, history)
        : `First: ${violations[0].message}`,
      '',
      `Logs: ${logDir} (timeline.jsonl, plan.txt, one log per process, summary.txt)`,
    );
  }
  const summary = lines.join('\n');
  writeFileSync(join(logDir, 'summary.txt'), `${summary}\n`);
  if (result) {
    writeFileSync(
      join(logDir, 'duplicates.txt'),
      result.duplicates
        .map(
          (d) =>
            `${d.job} (${d.q}) pid ${d.previous.pid} -> ${d.run.pid}: ${d.because.join('; ') || 'UNEXPLAINED'}`,
        )
        .join('\n'),
    );
  }
  print(summary);
  const ok = violations.length === 0;
  if (ok && !options.keepLogs) rmSync(logDir, { recursive: true, force: true });
  return {
    ok,
    seed,
    mode,
    violations,
    duplicates: result?.duplicates ?? [],
    figures,
    faults,
    summary,
    logDir,
  };
}

/** Waits out the run's duration, printing where it is every so often. */
async function progress(
  t0: number,
  durationMs: number,
  history: History,
  ledger: Redis,
  prefix: string,
  print: (line: string) => void,
): Promise<void> {
  const every = durationMs > 120_000 ? 60_000 : 15_000;
  const keys = ledgerKeys(prefix);
  while (Date.now() - t0 < durationMs) {
    await sleep(Math.min(every, t0 + durationMs - Date.now()));
    const [calls, records] = await Promise.all([ledger.llen(keys.calls), ledger.llen(keys.runs)]);
    const s = Math.round((Date.now() - t0) / 1000);
    print(
      `[chaos] ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} ${history.faults.length} faults, ` +
        `${history.processes.length} processes started, ${calls} calls, ~${Math.round(records / 2)} runs, ` +
        `${history.violations.length} violation(s) so far`,
    );
  }
}

/** Lifts every pause: stored ones (for every instance), then each process's own. */
async function resumeEverything(supervisor: Supervisor, workers: string[]): Promise<void> {
  for (const pipeline of Object.values(PIPELINES)) {
    await retry(() =>
      anyWorker(supervisor, workers).request(
        { type: 'resume', pipeline, temporary: false },
        10_000,
      ),
    );
  }
  for (const label of workers) {
    for (const pipeline of Object.values(PIPELINES)) {
      await supervisor.app(label)?.request({ type: 'resume', pipeline, temporary: true }, 10_000);
    }
  }
}

function anyWorker(supervisor: Supervisor, workers: string[]) {
  for (const label of workers) {
    const app = supervisor.app(label);
    if (app) return app;
  }
  throw new Error('no worker is running');
}

/** Tries `fn` until it resolves, for up to `withinMs` (Redis may still be coming back). */
async function retry<T>(fn: () => Promise<T>, withinMs = 60_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

/**
 * Waits until no queue holds a job (waiting, leased, scheduled or waiting for a retry),
 * three reads in a row; past the deadline the final checks say what is left.
 */
async function drain(
  reader: Redis | Cluster,
  namespace: string,
  history: History,
  resume: (pipelines: string[]) => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + DRAIN_WITHIN_MS;
  let quiet = 0;
  while (Date.now() < deadline) {
    let total = 0;
    try {
      // A pause for every instance that rejected with FlumeConnectionError may still
      // reach Redis later (the command was on its way; on a Cluster, ioredis sends it
      // again once the connection is back), after the resume of the end of the run.
      const late = await reader.hkeys(pausedPipelinesKey(namespace));
      if (late.length > 0) {
        history.note(
          'pause-applied-late',
          `pipeline(s) ${late.join(', ')} paused for every instance after every pipeline was resumed: a pause that had rejected was stored late; resuming again`,
        );
        await resume(late);
      }
      for (const queue of Object.values(QUEUES)) {
        const k = queueKeys(namespace, queue);
        total +=
          (await reader.llen(k.waiting)) +
          (await reader.zcard(k.processing)) +
          (await reader.hlen(k.leases)) +
          (await reader.zcard(k.scheduled)) +
          (await reader.zcard(k.retry));
      }
    } catch {
      total = -1;
    }
    quiet = total === 0 ? quiet + 1 : 0;
    if (quiet >= 3) return;
    await sleep(500);
  }
  history.violation({
    kind: 'drain',
    at: Date.now(),
    message: `the queues did not drain within ${DRAIN_WITHIN_MS} ms of the end of the faults`,
  });
}
