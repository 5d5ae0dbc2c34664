import { fork, type ChildProcess } from 'node:child_process';
import type { ParentMessage, WorkerMessage, WorkerProcessSpec, WorkerReport } from './protocol.js';

const running = new Set<ChildProcess>();

/** Kills every worker process still running: for the bench's exit handlers. */
export function killWorkerProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * A worker process (child/worker-process.js, compiled beside this file) and its
 * messages, read in order with `next`.
 */
export class WorkerProcess {
  private readonly inbox: WorkerMessage[] = [];
  private waiter?: () => void;
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: WorkerMessage) => {
      this.inbox.push(message);
      this.waiter?.();
    });
    child.on('exit', () => {
      this.exited = true;
      running.delete(child);
      this.waiter?.();
    });
  }

  static start(spec: WorkerProcessSpec): WorkerProcess {
    // Node's default flags, as a user's worker runs (no GC or heap tuning for either
    // library); --expose-gc only lets row 7 sample memory after a full GC. The own
    // execArgv also keeps a profiled bench (--cpu-prof) from profiling its children.
    // 'advanced' serialization carries the typed arrays of the final report.
    const child = fork(new URL('./worker-process.js', import.meta.url), [JSON.stringify(spec)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    running.add(child);
    return new WorkerProcess(child);
  }

  /** The next message of type `type`; earlier messages of other types are dropped. */
  async next<T extends WorkerMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<WorkerMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.inbox.shift();
      if (message?.type === 'error') throw new Error(`worker process failed: ${message.message}`);
      if (message?.type === type) return message as Extract<WorkerMessage, { type: T }>;
      if (message) continue;
      if (this.exited) throw new Error(`worker process exited before sending "${type}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${type}" from the worker process within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Tells a process started with `waitForGo` to start its consumer. */
  go(): void {
    this.child.send({ type: 'go' } satisfies ParentMessage);
  }

  /** Asks the process to close its consumer; resolves to its final report. */
  async stop(timeoutMs = 30_000): Promise<Extract<WorkerMessage, { type: 'stopped' }>> {
    try {
      this.child.send({ type: 'stop' } satisfies ParentMessage);
      return await this.next('stopped', timeoutMs);
    } finally {
      this.kill();
    }
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/** What the worker processes of one row did together. */
export interface MergedReport {
  /** Jobs no process ran, and handler calls beyond a job's first (across processes too). */
  lost: number;
  duplicates: number;
  firstAt: number;
  lastAt: number;
  /** CPU time of all the processes from their first job to their stop (µs). */
  cpuUs: number;
  /** Start time of each job (epoch ms), when recorded. */
  starts?: Float64Array;
  /**
   * Jobs per second while every process ran jobs (from the last process' first job to
   * the first process' last job), when starts were recorded: the rate of the processes
   * together, whatever their start-up took.
   */
  overlapRate: number;
  reports: WorkerReport[];
}

/** Merges the reports of the processes of one row over `expected` jobs. */
export function mergeReports(reports: WorkerReport[], expected: number): MergedReport {
  const runs = new Uint16Array(expected);
  let calls = 0;
  for (const report of reports) {
    calls += report.calls;
    report.seen.forEach((seen, index) => {
      if (seen) runs[index]++;
    });
  }
  let distinct = 0;
  for (const count of runs) if (count > 0) distinct++;
  let starts: Float64Array | undefined;
  for (const report of reports) {
    if (!report.starts) continue;
    starts ??= new Float64Array(expected).fill(NaN);
    report.starts.forEach((at, index) => {
      if (!Number.isNaN(at) && Number.isNaN(starts![index])) starts![index] = at;
    });
  }
  const from = Math.max(...reports.map((r) => r.firstAt));
  const to = Math.min(...reports.map((r) => r.lastAt));
  let inOverlap = 0;
  if (starts) for (const at of starts) if (at >= from && at <= to) inOverlap++;
  return {
    overlapRate: starts && to > from ? ((inOverlap - 1) * 1000) / (to - from) : NaN,
    lost: expected - distinct,
    duplicates: calls - distinct,
    firstAt: Math.min(...reports.map((r) => r.firstAt)),
    lastAt: Math.max(...reports.map((r) => r.lastAt)),
    cpuUs: reports.reduce((sum, r) => sum + (r.cpuAtStopUs - r.cpuAtFirstUs), 0),
    starts,
    reports,
  };
}
