import type { CallRecord, JobMode, LogRecord, QueueRole } from '../fixtures/config.js';
import type { FaultRecord, History, ProcessRecord } from './history.js';
import type { DeadJob, FinalState } from './state.js';

/** One run of a handler, its start and end records joined. */
export interface Run {
  run: string;
  q: QueueRole;
  id: string;
  jid: string;
  pid: number;
  label: string;
  start: number;
  retry: number;
  end?: number;
  ok?: boolean;
  aborted?: boolean;
  lastTick?: number | null;
  readAt?: number;
}

/** A broken invariant, with what the failure summary shows around it. */
export interface Violation {
  invariant: string;
  at: number;
  message: string;
  /** The job concerned, if any: its id or job id. */
  job?: string;
  /** Processes concerned. */
  pids?: number[];
}

/** A job that ran more often than its attempts call for, and why that was allowed. */
export interface Duplicate {
  job: string;
  q: QueueRole;
  run: Run;
  previous: Run;
  /** What explains it (a kill, a SIGTERM, a Redis fault...): empty means a violation. */
  because: string[];
}

export interface CheckConfig {
  rateLimit: { count: number; scaleMs: number };
  periodicEveryMs: number;
  /**
   * On a Cluster, ioredis re-sends a command whose connection closed even after it
   * rejected it (its commandTimeout passed): an enqueue that rejected may be stored
   * later, and has been seen stored twice. Allowed there, counted apart.
   */
  mode: 'single' | 'cluster';
}

export interface CheckResult {
  violations: Violation[];
  duplicates: Duplicate[];
  figures: Record<string, number | string>;
  runs: Run[];
}

/** After a Redis fault ends, how long its effects may still show (reconnections, acks retried). */
const LINGER_MS = 3_000;
const TICK_LOG = /^Periodic job "[^"]+" enqueued for its tick of (\S+?)(?: \(|\.$)/;

/** Joins each handler's start and end records into runs. */
export function joinRuns(state: FinalState): Run[] {
  const byToken = new Map<string, Run>();
  for (const record of state.runs) {
    if (record.t === 's') {
      byToken.set(record.run, {
        run: record.run,
        q: record.q,
        id: record.id,
        jid: record.jid,
        pid: record.pid,
        label: record.label,
        start: record.at,
        retry: record.retry,
        lastTick: record.lastTick,
        readAt: record.readAt,
      });
    } else {
      const run = byToken.get(record.run);
      if (run && run.end === undefined) {
        run.end = record.at;
        run.ok = record.ok;
        run.aborted = record.aborted;
      }
    }
  }
  return [...byToken.values()].sort((a, b) => a.start - b.start);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** What a job was asked to do, from the call that enqueued it. */
interface Expected {
  id: string;
  q: QueueRole;
  mode: JobMode;
  call: CallRecord;
  jid?: string;
}

/**
 * Checks a finished run against the invariants of the chaos run (see test/chaos/README.md)
 * and counts what it did. Pure: the state read from the ledger and Redis, and the
 * history of faults and processes, in; violations, duplicates and figures out.
 */
export function check(state: FinalState, history: History, config: CheckConfig): CheckResult {
  const violations: Violation[] = [...liveViolations(history)];
  const runs = joinRuns(state);
  const runsById = groupBy(runs, (r) => (r.q === 'periodic' ? undefined : r.id));
  const runsByJid = groupBy(runs, (r) => r.jid);
  const deadById = groupBy(state.dead, (d) => d.id);
  const deadByJid = groupBy(state.dead, (d) => d.jid);
  const resolved = state.calls.filter((c) => c.ok);
  const rejected = state.calls.filter((c) => !c.ok);

  // Every job whose enqueue resolved ran to success or is in the dead set with a reason.
  const expected: Expected[] = [];
  for (const call of resolved) {
    if (call.q === 'unique') continue;
    call.ids.forEach((id, i) =>
      expected.push({ id, q: call.q, mode: call.modes?.[i] ?? 'ok', call, jid: call.jids?.[i] }),
    );
  }
  const outcomes = { succeeded: 0, dead: 0, deadLostWorker: 0 };
  for (const job of expected) {
    const jobRuns = runsById.get(job.id) ?? [];
    const succeeded = jobRuns.some((r) => r.ok === true);
    const dead = deadById.get(job.id)?.[0];
    const wrongJid = jobRuns.find((r) => job.jid !== undefined && r.jid !== job.jid);
    if (wrongJid) {
      violations.push({
        invariant: 'one job per enqueue',
        at: wrongJid.start,
        job: job.id,
        message: `job ${job.id} was enqueued once as ${job.jid} but also ran as ${wrongJid.jid} (pid ${wrongJid.pid})`,
        pids: [wrongJid.pid],
      });
    }
    const verdict = judge(job.mode, succeeded, dead);
    if (verdict === 'ok') {
      if (succeeded) outcomes.succeeded++;
      else {
        outcomes.dead++;
        if (/worker stopped while running it/.test(dead?.reason ?? '')) outcomes.deadLostWorker++;
      }
      continue;
    }
    violations.push({
      invariant: 'every resolved enqueue ran to success or is dead with a reason',
      at: jobRuns[jobRuns.length - 1]?.start ?? job.call.end,
      job: job.id,
      message: `job ${job.id} (${job.q}, ${job.mode}, call ${job.call.producer}#${job.call.n} resolved at ${iso(job.call.end)}) ${verdict}; runs: ${describeRuns(jobRuns)}; dead: ${dead ? `"${dead.reason}"` : 'no'}`,
      pids: jobRuns.map((r) => r.pid),
    });
  }

  // Unique jobs: the job the call resolved to ran, or is dead.
  const unique = uniqueJobs(resolved, runsByJid, deadByJid, runsById);
  for (const job of unique.jobs) {
    const jobRuns = runsByJid.get(job.jid) ?? [];
    if (jobRuns.some((r) => r.ok) || deadByJid.has(job.jid)) continue;
    violations.push({
      invariant: 'every resolved enqueue ran to success or is dead with a reason',
      at: job.call.end,
      job: job.jid,
      message: `unique job ${job.jid} (key ${job.call.key}, call ${job.call.producer}#${job.call.n} resolved at ${iso(job.call.end)}) never succeeded; runs: ${describeRuns(jobRuns)}`,
    });
  }
  violations.push(...uniqueOverlaps(unique.added));
  const locks = checkLocksLeft(state, runsByJid, deadByJid, history);
  violations.push(...locks.violations);

  // Every dead job has a reason.
  for (const dead of state.dead) {
    if (!dead.reason) {
      violations.push({
        invariant: 'dead jobs have a reason',
        at: dead.at,
        job: dead.id ?? dead.jid,
        message: `dead job ${dead.jid} (${dead.q}) has no error_message`,
      });
    }
  }

  // Runs of jobs nobody enqueued; runs of rejected enqueues (allowed: the reply was lost).
  const knownIds = new Set(state.calls.flatMap((c) => c.ids));
  const rejectedIds = new Set(rejected.flatMap((c) => c.ids));
  for (const run of runs) {
    if (run.q === 'periodic' || knownIds.has(run.id)) continue;
    violations.push({
      invariant: 'only enqueued jobs run',
      at: run.start,
      job: run.id,
      message: `job ${run.id} (${run.q}) ran (pid ${run.pid}) but no producer enqueued it`,
      pids: [run.pid],
    });
  }
  const storedDespiteRejection = [...rejectedIds].filter((id) => runsById.has(id)).length;

  // Duplicates: each explained, or a violation.
  const duplicates = findDuplicates(
    runsByJid,
    history,
    state.logs,
    (run) => config.mode === 'cluster' && rejectedIds.has(run.id),
  );
  for (const dup of duplicates.filter((d) => d.because.length === 0)) {
    violations.push({
      invariant: 'duplicates only where a kill or a lost acknowledgement allows them',
      at: dup.run.start,
      job: dup.job,
      message: `job ${dup.job} (${dup.q}) ran again at ${iso(dup.run.start)} (pid ${dup.run.pid}) after a run at ${iso(dup.previous.start)} (pid ${dup.previous.pid}, ${describeEnd(dup.previous)}), with no kill, SIGTERM, Redis fault or late lease renewal to explain it`,
      pids: [dup.previous.pid, dup.run.pid],
    });
  }

  // Nothing left leased, nothing left to run.
  for (const [q, left] of Object.entries(state.left)) {
    if (left.processing + left.leases > 0) {
      violations.push({
        invariant: 'nothing left leased',
        at: Date.now(),
        message: `queue ${q}: ${left.processing} lease(s) in the processing set, ${left.leases} in the leases hash after the drain`,
      });
    }
    if (left.waiting + left.scheduled + left.retry > 0) {
      violations.push({
        invariant: 'everything drained',
        at: Date.now(),
        message: `queue ${q}: ${left.waiting} waiting, ${left.scheduled} scheduled, ${left.retry} in retry after the drain`,
      });
    }
  }

  // Scheduled jobs never early.
  let earliestMs = Infinity;
  for (const call of state.calls) {
    if (call.notBefore === undefined) continue;
    for (const id of call.ids) {
      for (const run of runsById.get(id) ?? []) {
        earliestMs = Math.min(earliestMs, run.start - call.notBefore);
        if (run.start >= call.notBefore) continue;
        violations.push({
          invariant: 'scheduled jobs never early',
          at: run.start,
          job: id,
          message: `job ${id} was due at ${iso(call.notBefore)} and started at ${iso(run.start)}, ${call.notBefore - run.start} ms early (pid ${run.pid})`,
          pids: [run.pid],
        });
      }
    }
  }

  const periodic = checkPeriodic(runs, state.logs, config.periodicEveryMs);
  violations.push(...periodic.violations);
  const limit = checkRateLimit(runs, config.rateLimit, latencyWindows(history.faults));
  violations.push(...limit.violations);

  // What the apps saw break: a job started on a pipeline they had paused.
  for (const found of state.checks) {
    violations.push({
      invariant: 'a paused pipeline takes no new jobs',
      at: found.at,
      job: found.id,
      message: `${found.label} (pid ${found.pid}) started job ${found.id} on pipeline "${found.pipeline}" ${found.at - found.pausedAt} ms after its pause resolved`,
      pids: [found.pid],
    });
  }

  violations.sort((a, b) => a.at - b.at);
  const because = new Map<string, number>();
  for (const dup of duplicates) {
    const key = dup.because[0] ?? 'unexplained';
    because.set(key, (because.get(key) ?? 0) + 1);
  }
  const figures: Record<string, number | string> = {
    calls: state.calls.length,
    callsResolved: resolved.length,
    callsRejected: rejected.length,
    jobsEnqueued: expected.length + unique.jobs.length,
    jobsSucceeded: outcomes.succeeded,
    jobsDead: outcomes.dead,
    jobsDeadLostWorker: outcomes.deadLostWorker,
    uniqueAdded: unique.added.length,
    uniqueDeduplicated: unique.jobs.length - unique.added.length,
    storedDespiteRejection,
    runs: runs.length,
    duplicates: duplicates.length,
    duplicatesBecause: [...because].map(([k, n]) => `${k}: ${n}`).join(', ') || 'none',
    scheduledEarliestStartVsDueMs: Number.isFinite(earliestMs) ? earliestMs : 'n/a',
    periodicRuns: periodic.runs,
    periodicTicksLogged: periodic.ticks,
    periodicUnverified: periodic.unverified,
    rateLimitBusiestWindow: `${limit.busiest}/${config.rateLimit.count} per ${config.rateLimit.scaleMs} ms`,
    rateLimitExcusedUnderLatency: limit.excused,
    limitedRuns: limit.starts,
    deadTotal: state.dead.length,
    uniqueLocksLeft: `${state.uniqueLocks.length}${locks.because.length ? ` (${locks.because.join(', ')})` : ''}`,
    recoveryCountsLeft: Object.values(state.left).reduce((sum, l) => sum + l.recoveries, 0),
  };
  return { violations, duplicates, figures, runs };
}

/**
 * 'ok', or what is wrong with a job's outcome given what it was asked to do. A dead job's
 * reason is its last error (the handler's message), or the recoverer's when its worker
 * kept stopping mid-job, which any job may meet.
 */
function judge(mode: JobMode, succeeded: boolean, dead: DeadJob | undefined): string {
  const reason = dead?.reason ?? '';
  if (!succeeded && /worker stopped while running it/.test(reason)) return 'ok';
  switch (mode) {
    case 'ok':
    case 'fail-once':
      if (succeeded) return 'ok';
      return dead
        ? `is dead ("${reason}") but should have succeeded`
        : 'never succeeded and is not dead';
    case 'fail-always':
      if (succeeded) return 'succeeded although it always fails';
      if (/fails \(fail-always/.test(reason)) return 'ok';
      return dead ? `is dead for another reason ("${reason}")` : 'is not in the dead set';
    case 'unrecoverable':
      if (succeeded) return 'succeeded although it cannot';
      if (/cannot succeed/.test(reason)) return 'ok';
      return dead ? `is dead for another reason ("${reason}")` : 'is not in the dead set';
  }
}

interface UniqueJob {
  jid: string;
  call: CallRecord;
  /** The first end of a successful run: its lock is released after that. */
  firstSuccessEnd: number;
}

/** Unique calls that resolved, and among them those whose own job was added. */
function uniqueJobs(
  resolved: CallRecord[],
  runsByJid: Map<string, Run[]>,
  deadByJid: Map<string, DeadJob[]>,
  runsById: Map<string, Run[]>,
): { jobs: UniqueJob[]; added: UniqueJob[] } {
  const jobs: UniqueJob[] = [];
  const added: UniqueJob[] = [];
  for (const call of resolved.filter((c) => c.q === 'unique')) {
    const jid = call.jids![0];
    const runs = runsByJid.get(jid) ?? [];
    const ends = runs.filter((r) => r.ok && r.end !== undefined).map((r) => r.end!);
    const job = { jid, call, firstSuccessEnd: ends.length > 0 ? Math.min(...ends) : Infinity };
    jobs.push(job);
    // Added by this call: the job it resolved to is this call's own (its id ran, or died, as it).
    const own =
      (runsById.get(call.ids[0]) ?? []).some((r) => r.jid === jid) ||
      (deadByJid.get(jid) ?? []).some((d) => d.id === call.ids[0]);
    if (own) added.push(job);
  }
  return { jobs, added };
}

/**
 * Two unique jobs of one key were live at once when neither was released before the
 * other's lock was taken: A's lock is released after A's first successful run ended,
 * and B's was taken before B's enqueue resolved.
 */
function uniqueOverlaps(added: UniqueJob[]): Violation[] {
  const violations: Violation[] = [];
  for (const [key, jobs] of groupBy(added, (j) => j.call.key)) {
    jobs.sort((a, b) => a.call.end - b.call.end);
    for (let j = 1; j < jobs.length; j++) {
      const b = jobs[j];
      for (let i = 0; i < j; i++) {
        const a = jobs[i];
        const aFirst = a.firstSuccessEnd < b.call.end;
        const bFirst = b.firstSuccessEnd < a.call.end;
        if (aFirst || bFirst) continue;
        violations.push({
          invariant: 'a unique key never has two live jobs',
          at: b.call.end,
          job: b.jid,
          message: `key ${key}: job ${a.jid} (enqueued ${iso(a.call.at)}..${iso(a.call.end)}, first success ${fmt(a.firstSuccessEnd)}) and job ${b.jid} (enqueued ${iso(b.call.at)}..${iso(b.call.end)}, first success ${fmt(b.firstSuccessEnd)}) were both live`,
        });
      }
    }
  }
  return violations;
}

/**
 * A unique lock still held once every job is done must belong to a job whose release
 * could not reach Redis (a Redis fault or a kill right after it succeeded: the release
 * is not retried, the lock then expires with its ttl) or that the recoverer buried
 * (which frees no lock: README, Unique jobs). Any other is a lock leaked by a bug: it
 * would block its key for the whole ttl (24 h by default).
 */
function checkLocksLeft(
  state: FinalState,
  runsByJid: Map<string, Run[]>,
  deadByJid: Map<string, DeadJob[]>,
  history: History,
): { violations: Violation[]; because: string[] } {
  const violations: Violation[] = [];
  const because = new Map<string, number>();
  const processes = new Map(history.processes.map((p) => [p.pid, p]));
  for (const lock of state.uniqueLocks) {
    const runs = runsByJid.get(lock.jid) ?? [];
    const dead = deadByJid.get(lock.jid)?.[0];
    const successes = runs.filter((r) => r.ok && r.end !== undefined);
    let why: string | undefined;
    if (dead && /worker stopped while running it/.test(dead.reason ?? '')) {
      why = 'buried by the recoverer';
    } else if (successes.length > 0) {
      // Every success sent a release: each one must have been lost.
      const reasons = successes.map((run) => {
        const end = run.end!;
        const signals = processes.get(run.pid)?.signals ?? [];
        if (
          signals.some((s) => s.signal === 'SIGKILL' && s.at >= end - 50 && s.at <= end + 1_000)
        ) {
          return 'kill -9';
        }
        const fault = history.faults.find(
          (f) =>
            f.scope !== undefined &&
            !f.skipped &&
            (f.scope === 'all' || f.scope.includes('unique')) &&
            f.at <= end + 1_000 &&
            (f.end ?? Infinity) + LINGER_MS >= end,
        );
        return fault ? fault.kind : undefined;
      });
      if (reasons.every((r) => r !== undefined)) why = `release lost (${reasons[0]})`;
    }
    if (why) {
      because.set(why, (because.get(why) ?? 0) + 1);
      continue;
    }
    violations.push({
      invariant: 'a unique lock is released when its job is done',
      at: successes[successes.length - 1]?.end ?? Date.now(),
      job: lock.jid,
      message: `the lock of key ${lock.key} is still held by job ${lock.jid} after the run (${
        dead ? `dead: "${dead.reason}"` : `runs: ${describeRuns(runs)}`
      }), with no fault or kill to explain a lost release`,
      pids: runs.map((r) => r.pid),
    });
  }
  return { violations, because: [...because].map(([k, n]) => `${k}: ${n}`) };
}

/** Runs that a job's attempts do not call for: each with what explains it. */
function findDuplicates(
  runsByJid: Map<string, Run[]>,
  history: History,
  logs: LogRecord[],
  /** Jobs of an enqueue that was rejected on a Cluster (see CheckConfig.mode). */
  resentEnqueue: (run: Run) => boolean,
): Duplicate[] {
  const duplicates: Duplicate[] = [];
  const processes = new Map(history.processes.map((p) => [p.pid, p]));
  const lateRenewals = logs.filter(
    (l) => l.level === 'warn' && /^Renewing the leases .* came \d+ ms late/.test(l.message),
  );
  for (const [jid, jobRuns] of runsByJid) {
    for (let i = 1; i < jobRuns.length; i++) {
      const run = jobRuns[i];
      const previous = jobRuns[i - 1];
      // A retry: the attempt before failed (not handed back) and was over before this one.
      const retry =
        previous.end !== undefined &&
        previous.ok === false &&
        !previous.aborted &&
        previous.end <= run.start;
      if (retry) continue;
      duplicates.push({
        job: run.q === 'periodic' ? jid : run.id,
        q: run.q,
        run,
        previous,
        because: [
          ...explain(previous, run, processes.get(previous.pid), history.faults, lateRenewals),
          // Two runs of one job id with no kill or fault between: the payload was stored
          // twice, which only the Cluster client does, re-sending a command it had rejected.
          ...(previous.jid === run.jid && resentEnqueue(run)
            ? ['enqueue rejected, then stored twice by the Cluster client']
            : []),
        ],
      });
    }
  }
  return duplicates;
}

/** What, between two runs of a job, allowed the second: a kill, a SIGTERM, a Redis fault. */
function explain(
  previous: Run,
  run: Run,
  process: ProcessRecord | undefined,
  faults: FaultRecord[],
  lateRenewals: LogRecord[],
): string[] {
  const from = previous.start;
  const to = run.start;
  const because: string[] = [];
  for (const signal of process?.signals ?? []) {
    if (signal.at >= from - 50 && signal.at <= to) {
      because.push(signal.signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM (handed back at shutdown)');
    }
  }
  if (process?.exit && process.exit.at >= from && process.exit.at <= to && because.length === 0) {
    because.push('process exit');
  }
  for (const fault of faults) {
    if (fault.scope === undefined || fault.skipped) continue;
    if (fault.scope !== 'all' && !fault.scope.includes(run.q)) continue;
    const end = (fault.end ?? Infinity) + LINGER_MS;
    if (fault.at <= to && end >= from) because.push(`${fault.kind} (lost ack or lease)`);
  }
  if (lateRenewals.some((l) => l.pid === previous.pid && l.at >= from && l.at <= to + LINGER_MS)) {
    because.push('lease renewal late (event loop starved)');
  }
  // The likeliest cause first: the figures count each duplicate under it.
  return [...new Set(because)].sort((a, b) => rank(a) - rank(b));
}

/** Causes of a duplicate, likeliest first: a kill loses work for sure, a delay rarely. */
const CAUSES = [
  'kill -9',
  'SIGTERM',
  'process exit',
  'restart-redis',
  'failover',
  'move-slot',
  'proxy-half-open',
  'proxy-drop',
  'proxy-cut',
  'client-pause',
  'lease renewal late',
  'proxy-delay',
];

function rank(cause: string): number {
  const i = CAUSES.findIndex((c) => cause.startsWith(c));
  return i < 0 ? CAUSES.length : i;
}

function checkPeriodic(
  runs: Run[],
  logs: LogRecord[],
  everyMs: number,
): { violations: Violation[]; runs: number; ticks: number; unverified: number } {
  const violations: Violation[] = [];
  const periodic = runs.filter((r) => r.q === 'periodic');
  let unverified = 0;
  for (const run of periodic) {
    if (typeof run.lastTick !== 'number' || run.readAt === undefined) {
      unverified++;
      continue;
    }
    if (run.lastTick > run.readAt) {
      violations.push({
        invariant: 'periodic jobs never early',
        at: run.start,
        job: run.jid,
        message: `at ${iso(run.readAt)} the last tick claimed was ${iso(run.lastTick)}, ${run.lastTick - run.readAt} ms in the future (run of ${run.jid}, pid ${run.pid})`,
        pids: [run.pid],
      });
    }
  }
  // Each tick enqueued once across every instance, never before its time.
  const ticks = new Map<number, LogRecord[]>();
  for (const log of logs) {
    const match = log.level === 'debug' ? TICK_LOG.exec(log.message) : null;
    if (!match) continue;
    const tick = Date.parse(match[1]);
    ticks.set(tick, [...(ticks.get(tick) ?? []), log]);
    if (log.at < tick) {
      violations.push({
        invariant: 'periodic jobs never early',
        at: log.at,
        message: `${log.label} (pid ${log.pid}) enqueued the tick of ${iso(tick)} at ${iso(log.at)}`,
        pids: [log.pid],
      });
    }
  }
  for (const [tick, claims] of ticks) {
    if (claims.length < 2) continue;
    violations.push({
      invariant: 'periodic jobs once per tick',
      at: tick,
      message: `the tick of ${iso(tick)} was enqueued ${claims.length} times: ${claims.map((c) => `${c.label} (pid ${c.pid})`).join(', ')}`,
      pids: claims.map((c) => c.pid),
    });
  }
  // No more jobs than ticks (one per tick at most).
  const jids = new Set(periodic.map((r) => r.jid));
  if (periodic.length > 0) {
    const first = Math.floor(periodic[0].start / everyMs) * everyMs - everyMs;
    const last = periodic[periodic.length - 1].start;
    const possible = Math.floor((last - first) / everyMs) + 1;
    if (jids.size > possible) {
      violations.push({
        invariant: 'periodic jobs once per tick',
        at: last,
        message: `${jids.size} periodic jobs ran between ${iso(first)} and ${iso(last)}, which has ${possible} ticks`,
      });
    }
  }
  return { violations, runs: jids.size, ticks: ticks.size, unverified };
}

/** When the network added latency (proxy-delay faults): [from, to] in ms. */
function latencyWindows(faults: readonly FaultRecord[]): [number, number][] {
  return faults
    .filter((f) => f.kind === 'proxy-delay' && !f.skipped)
    .map((f) => [f.at, f.end ?? f.at]);
}

/**
 * Starts of the rate-limited pipeline in any window of `scaleMs`. A permit is stamped by
 * Redis when it is granted and its jobs start once the reply arrives: while the network
 * adds latency beyond the limiter's start margin (25 ms at most), the starts of one
 * window can spread into the next, so a window over the limit that overlaps injected
 * latency (or the scale after it) is counted apart, as excused, not as a violation.
 * Takes, which the limit counts, never exceed it.
 */
export function checkRateLimit(
  runs: Run[],
  limit: { count: number; scaleMs: number },
  latency: readonly [number, number][],
): { violations: Violation[]; busiest: number; starts: number; excused: number } {
  const starts = runs.filter((r) => r.q === 'limited');
  const violations: Violation[] = [];
  let busiest = 0;
  let excused = 0;
  let reported = -Infinity;
  const underLatency = (from: number, to: number) =>
    latency.some(([a, b]) => from <= b + limit.scaleMs && to >= a);
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i].start - starts[j].start >= limit.scaleMs) j++;
    const count = i - j + 1;
    busiest = Math.max(busiest, count);
    // One violation per burst: the first window over the limit, then after it has passed.
    if (count > limit.count && starts[j].start >= reported + limit.scaleMs) {
      reported = starts[j].start;
      if (underLatency(starts[j].start, starts[i].start)) {
        excused++;
        continue;
      }
      const window = starts.slice(j, i + 1);
      violations.push({
        invariant: 'a rate limit is never exceeded in any window',
        at: starts[i].start,
        message: `${count} jobs of the rate-limited pipeline started within ${starts[i].start - starts[j].start} ms (limit ${limit.count} per ${limit.scaleMs} ms): ${window.map((r) => `${r.id}@${iso(r.start).slice(11)}/pid ${r.pid}`).join(', ')}`,
        pids: [...new Set(window.map((r) => r.pid))],
      });
    }
  }
  return { violations, busiest, starts: starts.length, excused };
}

/** The invariant each kind of violation seen during the run breaks. */
const LIVE_INVARIANTS: Record<string, string> = {
  hung: 'no process hangs: each closes and exits by itself',
  'no-exit': 'no process hangs: each closes and exits by itself',
  ping: 'every process answers',
  crash: 'no process crashes',
  'bad-exit': 'no process crashes',
  boot: 'every process boots',
  drain: 'everything drained',
};

function liveViolations(history: History): Violation[] {
  return history.violations.map((v) => ({
    invariant: LIVE_INVARIANTS[v.kind] ?? v.kind,
    at: v.at,
    message: v.message,
    pids: v.pid === undefined ? undefined : [v.pid],
  }));
}

export function describeRuns(runs: Run[]): string {
  if (runs.length === 0) return 'none';
  return runs
    .map((r) => `${r.label}/pid ${r.pid} ${iso(r.start).slice(11)}..${describeEnd(r)}`)
    .join('; ');
}

function describeEnd(run: Run): string {
  if (run.end === undefined) return 'no end';
  return `${iso(run.end).slice(11)} ${run.aborted ? 'handed back' : run.ok ? 'ok' : 'failed'}`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function fmt(ms: number): string {
  return Number.isFinite(ms) ? iso(ms) : 'never';
}
