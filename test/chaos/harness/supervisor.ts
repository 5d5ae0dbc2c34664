import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosAppConfig } from '../fixtures/config.js';
import { ChildApp, type ChildExit } from './child.js';
import type { History, ProcessRecord } from './history.js';

export interface SupervisorOptions {
  /** Compiled entry point of the app processes (fixtures/main.js). */
  main: string;
  logDir: string;
  history: History;
  config: (label: string, role: 'worker' | 'producer') => ChaosAppConfig;
  shutdownTimeout: number;
  /** A process that does not boot within this is a violation. */
  bootTimeoutMs: number;
  /** Pause between a process's exit and its replacement's start. */
  restartDelayMs: number;
}

interface Slot {
  app: ChildApp;
  record: ProcessRecord;
  /** The signal the run sent, if any: any other exit is a crash. */
  expected?: 'SIGTERM' | 'SIGKILL';
}

/** Beyond `shutdownTimeout`, how long a closing app may take (faults in progress included). */
const CLOSE_GRACE_MS = 20_000;
/** After app.close() resolved, how long the process may take to exit by itself. */
const EXIT_AFTER_CLOSE_MS = 5_000;

/**
 * Runs the app processes of the chaos run, one per label (worker-1.., producer-1..):
 * starts them, signals them for the nemesis and checks how they end (a SIGTERM must
 * close the app within `shutdownTimeout` plus a grace, and the process must then exit
 * by itself with code 0), and starts a replacement for each one that ended, whether the
 * run killed it or it crashed (which is a violation).
 */
export class Supervisor {
  private readonly slots = new Map<string, Slot>();
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {}

  /** The process running under `label` now, if one is. */
  app(label: string): ChildApp | undefined {
    const slot = this.slots.get(label);
    return slot?.app.running && slot.expected === undefined ? slot.app : undefined;
  }

  labels(role: 'worker' | 'producer'): string[] {
    return [...this.slots.values()].filter((s) => s.record.role === role).map((s) => s.app.label);
  }

  /** Every process the run started, in order. */
  get records(): ProcessRecord[] {
    return this.options.history.processes;
  }

  /** Starts the process of `label`; resolves once it booted. */
  async start(label: string, role: 'worker' | 'producer'): Promise<ChildApp> {
    const { options } = this;
    const app = new ChildApp(label, options.config(label, role), options.main, options.logDir);
    const record: ProcessRecord = {
      label,
      role,
      pid: app.pid,
      spawnAt: app.startedAt,
      signals: [],
    };
    const slot: Slot = { app, record };
    this.slots.set(label, slot);
    options.history.processSpawned(record);
    void app.exited.then((exit) => this.onExit(slot, exit));
    try {
      await app.ready(options.bootTimeoutMs);
      record.readyAt = app.readyAt;
      options.history.processEvent(record, 'ready');
    } catch (err) {
      this.options.history.violation({
        kind: 'boot',
        at: Date.now(),
        label,
        pid: app.pid,
        message: `${(err as Error).message}\n${tail(app.logFile)}`,
      });
      app.kill('SIGKILL');
      throw err;
    }
    return app;
  }

  /**
   * Sends `signal` to the process of `label`, checks how it ends, then starts a new one
   * after the restart delay. Resolves once the new one is up, with what happened.
   */
  async cycle(label: string, signal: 'SIGTERM' | 'SIGKILL', why: string): Promise<string> {
    const slot = this.slots.get(label);
    if (!slot || !slot.app.running) throw new Error(`${label} is not running`);
    const detail = await this.end(slot, signal, why);
    await sleep(this.options.restartDelayMs);
    const next = await this.start(label, slot.record.role);
    return `${detail}; replaced by pid ${next.pid}`;
  }

  /** SIGTERM to every process, all at once; resolves once each has ended (or was killed). */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.slots.values()]
        .filter((slot) => slot.app.running)
        .map((slot) => this.end(slot, 'SIGTERM', 'the run is over')),
    );
  }

  /** Kills whatever still runs (cleanup after a failure). */
  async killAll(): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots.values()) {
      slot.expected ??= 'SIGKILL';
      slot.app.kill('SIGKILL');
    }
    await Promise.all([...this.slots.values()].map((slot) => slot.app.exited));
  }

  /** Signals one process and waits for its end; a hung close is a violation (then SIGKILL). */
  private async end(slot: Slot, signal: 'SIGTERM' | 'SIGKILL', why: string): Promise<string> {
    const { app, record } = slot;
    const { history, shutdownTimeout } = this.options;
    slot.expected = signal;
    const at = Date.now();
    record.signals.push({ signal, at, why });
    history.processEvent(record, 'signal', { signal, why });
    app.kill(signal);
    if (signal === 'SIGKILL') {
      await app.exited;
      return `pid ${app.pid} killed`;
    }
    try {
      await app.untilClosed(shutdownTimeout + CLOSE_GRACE_MS);
    } catch (err) {
      if (app.running) {
        history.violation({
          kind: 'hung',
          at: Date.now(),
          label: app.label,
          pid: app.pid,
          message: `${app.describe()} did not close within ${shutdownTimeout + CLOSE_GRACE_MS} ms of SIGTERM (${(err as Error).message}); killed.\n${tail(app.logFile)}`,
        });
        slot.expected = 'SIGKILL';
        app.kill('SIGKILL');
      }
      await app.exited;
      return `pid ${app.pid} hung on SIGTERM`;
    }
    record.closingAt = app.closingAt;
    record.closedAt = app.closed!.at;
    const exited = await Promise.race([
      app.exited,
      sleep(EXIT_AFTER_CLOSE_MS).then(() => undefined),
    ]);
    if (!exited) {
      history.violation({
        kind: 'no-exit',
        at: Date.now(),
        label: app.label,
        pid: app.pid,
        message: `${app.describe()} closed its app but did not exit by itself within ${EXIT_AFTER_CLOSE_MS} ms; killed.\n${tail(app.logFile)}`,
      });
      slot.expected = 'SIGKILL';
      app.kill('SIGKILL');
      await app.exited;
      return `pid ${app.pid} did not exit after close`;
    }
    record.closeMs = app.closed!.closeMs;
    record.exitAfterCloseMs = exited.at - app.closed!.at;
    return `pid ${app.pid} closed in ${record.closeMs} ms, exited ${record.exitAfterCloseMs} ms later`;
  }

  private onExit(slot: Slot, exit: ChildExit): void {
    const { app, record } = slot;
    const { history } = this.options;
    record.exit = { code: exit.code, signal: exit.signal, at: exit.at };
    history.processEvent(record, 'exit', { code: exit.code, signal: exit.signal });
    const clean =
      (slot.expected === 'SIGKILL' && exit.signal === 'SIGKILL') ||
      (slot.expected === 'SIGTERM' && exit.code === 0);
    if (clean) return;
    history.violation({
      kind: slot.expected ? 'bad-exit' : 'crash',
      at: exit.at,
      label: app.label,
      pid: app.pid,
      message: `${app.describe()} exited with code ${exit.code}, signal ${exit.signal}${
        slot.expected ? ` after ${slot.expected}` : ' unasked'
      }${app.crash ? `: ${app.crash}` : ''}\n${tail(app.logFile)}`,
    });
    // A crash (not a signal of the run): start a replacement, as a supervisor would.
    if (!slot.expected && !this.stopping && this.slots.get(app.label) === slot) {
      slot.expected = 'SIGKILL';
      void sleep(this.options.restartDelayMs)
        .then(() => this.start(app.label, record.role))
        .catch(() => undefined);
    }
  }
}

/** The last lines of a process's log, for a violation's message. */
export function tail(file: string, lines = 30): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return `--- last lines of ${file} ---\n${text.slice(-lines).join('\n')}`;
  } catch {
    return '';
  }
}
