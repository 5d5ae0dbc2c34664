import { appendFileSync } from 'node:fs';
import type { FaultKind } from './schedule.js';
import type { Scope } from './topology.js';

/** A fault as it happened: from when to when, and what it reached. */
export interface FaultRecord {
  n: number;
  kind: FaultKind;
  at: number;
  end?: number;
  /** Redis faults: the queues it reached; process faults: none. */
  scope?: Scope;
  /** Process faults: the process signalled. */
  label?: string;
  pid?: number;
  detail?: string;
  /** Why it did not happen (e.g. no replica ready for a failover). */
  skipped?: string;
}

/** An app process of the run, from spawn to exit. */
export interface ProcessRecord {
  label: string;
  role: 'worker' | 'producer';
  pid: number;
  spawnAt: number;
  readyAt?: number;
  /** Signals the run sent it, in order. */
  signals: { signal: 'SIGTERM' | 'SIGKILL'; at: number; why: string }[];
  closingAt?: number;
  closedAt?: number;
  /** SIGTERM to app.close() resolved, ms. */
  closeMs?: number;
  /** app.close() resolved to the process's exit, ms. */
  exitAfterCloseMs?: number;
  exit?: { code: number | null; signal: string | null; at: number };
}

/** A pause or resume the operator made. */
export interface PauseRecord {
  n: number;
  scope: 'local' | 'global';
  pipeline: string;
  label: string;
  at: number;
  end?: number;
  resumedBy?: string;
  error?: string;
}

/** Something broke that the run checks while it goes (a hung process, a crash). */
export interface LiveViolation {
  kind: string;
  at: number;
  message: string;
  label?: string;
  pid?: number;
}

/**
 * What the run did and saw, in time order: faults, processes, pauses, phases. Every
 * entry also goes to `timeline.jsonl` in the log folder as it happens, and, for the
 * summary of a failure, is kept here.
 */
export class History {
  readonly faults: FaultRecord[] = [];
  readonly processes: ProcessRecord[] = [];
  readonly pauses: PauseRecord[] = [];
  readonly violations: LiveViolation[] = [];
  readonly phases: { name: string; at: number }[] = [];
  /** What the run saw that breaks no invariant but is worth a figure (see note()). */
  readonly notes: { kind: string; at: number; message: string }[] = [];

  /** `file`: where the timeline goes as it happens (none: kept in memory only). */
  constructor(
    private readonly file: string | undefined,
    private readonly print: (line: string) => void = () => undefined,
  ) {}

  phase(name: string): void {
    const at = Date.now();
    this.phases.push({ name, at });
    this.write({ type: 'phase', name, at });
    this.print(`[chaos] ${name}`);
  }

  faultStarted(fault: FaultRecord): void {
    this.faults.push(fault);
    this.write({ type: 'fault', ...fault });
  }

  faultEnded(fault: FaultRecord, detail?: string, skipped?: string): void {
    fault.end = Date.now();
    if (detail) fault.detail = detail;
    if (skipped) fault.skipped = skipped;
    this.write({ type: 'fault-end', ...fault });
    const took = ((fault.end - fault.at) / 1000).toFixed(1);
    const what = skipped ? `skipped: ${skipped}` : (fault.detail ?? '');
    this.print(`[chaos] fault #${fault.n} ${fault.kind} ${fault.label ?? ''} ${what} (${took}s)`);
  }

  processSpawned(record: ProcessRecord): void {
    this.processes.push(record);
    this.write({ type: 'process-spawn', label: record.label, pid: record.pid, at: record.spawnAt });
  }

  processEvent(record: ProcessRecord, what: string, extra: Record<string, unknown> = {}): void {
    this.write({
      type: `process-${what}`,
      label: record.label,
      pid: record.pid,
      at: Date.now(),
      ...extra,
    });
  }

  pause(record: PauseRecord): void {
    this.pauses.push(record);
    this.write({ type: 'pause', ...record });
  }

  pauseEnded(record: PauseRecord): void {
    record.end = Date.now();
    this.write({ type: 'pause-end', ...record });
  }

  note(kind: string, message: string): void {
    const at = Date.now();
    this.notes.push({ kind, at, message });
    this.write({ type: 'note', kind, at, message });
    this.print(`[chaos] note: ${message}`);
  }

  violation(violation: LiveViolation): void {
    this.violations.push(violation);
    this.write({ type: 'violation', ...violation });
    this.print(`[chaos] VIOLATION ${violation.kind}: ${violation.message}`);
  }

  private write(entry: Record<string, unknown>): void {
    if (this.file) appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }
}
