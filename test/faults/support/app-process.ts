import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { FixtureConfig } from '../fixtures/fixture-config.js';
import type { ChildMessage, FixtureEvent, ParentMessage } from '../fixtures/fixture-messages.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

type LogEvent = Extract<FixtureEvent, { kind: 'log' }>;

/** Path of the compiled fixture entry point, or the build error as a thrown Error. */
export function fixtureMain(): string {
  // To run the scenarios against another build (e.g. a patched copy): FAULTS_FIXTURE_MAIN.
  if (process.env.FAULTS_FIXTURE_MAIN) return process.env.FAULTS_FIXTURE_MAIN;
  const build = inject('faultsBuild');
  if (!build.ok) throw new Error(build.error);
  return build.main;
}

/**
 * A fixture app in a child process, seen from the test: the events it reported
 * (jobs started and finished, enqueues, engine log lines), and its exit. Waits
 * resolve on those events; they reject at their deadline, or at once if the
 * process dies without being told to.
 */
export class AppProcess {
  readonly started = new Map<string, number>();
  readonly finished = new Map<string, number>();
  readonly enqueued: string[] = [];
  readonly rejected: { id: string; error: string; at: number }[] = [];
  readonly logs: LogEvent[] = [];
  /** Time of every 'started' event, in arrival order. */
  readonly startTimes: number[] = [];
  startedCount = 0;
  finishedCount = 0;
  lastFinishAt?: number;
  /** Time of the first event of each kind after `mark()`. */
  firstStartAfterMark?: number;
  readyAt?: number;
  closingAt?: number;
  closed?: { at: number; closeMs: number };
  produced?: { enqueued: number; rejected: number };
  exit?: Exit;
  readonly exited: Promise<Exit>;

  private readonly child: ChildProcess;
  private markAt = Infinity;
  private expectExit = false;
  private crash?: string;
  private output = '';
  private waiters: (() => void)[] = [];

  constructor(
    readonly label: string,
    readonly config: FixtureConfig,
  ) {
    this.child = fork(fixtureMain(), [], {
      env: { ...process.env, FAULT_FIXTURE: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-8_000));
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    // For debugging a scenario: FAULTS_LOG_DIR=/tmp/x keeps each child's whole output.
    const logDir = process.env.FAULTS_LOG_DIR;
    if (logDir) {
      const file = createWriteStream(join(logDir, `${label}-${this.child.pid}.log`));
      this.child.stdout!.pipe(file);
      this.child.stderr!.pipe(file);
    }
    this.child.on('message', (message: ChildMessage) => this.onMessage(message));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        if (!this.expectExit) this.crash ??= `exited unexpectedly (code ${code}, signal ${signal})`;
        this.notify();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves once the app has booted and its pipelines started. */
  ready(timeoutMs = 20_000): Promise<void> {
    return this.until(() => this.readyAt !== undefined, 'the app to boot', timeoutMs);
  }

  /** Sends a signal; the exit it causes is expected, not a crash. */
  kill(signal: 'SIGTERM' | 'SIGKILL'): number {
    this.expectExit = true;
    this.child.kill(signal);
    return Date.now();
  }

  /** The process is expected to die on its own (a job that kills it): not a crash of the test. */
  allowExit(): void {
    this.expectExit = true;
  }

  send(message: ParentMessage): void {
    this.child.send(message);
  }

  /** From now on, record the time of the next 'started' event. */
  mark(): void {
    this.markAt = Date.now();
    this.firstStartAfterMark = undefined;
  }

  /** Engine log lines at `level` whose text matches `pattern`. */
  logsMatching(pattern: RegExp, level?: LogEvent['level']): LogEvent[] {
    return this.logs.filter((l) => (!level || l.level === level) && pattern.test(l.message));
  }

  /** Resolves once `test()` holds; rejects after `timeoutMs`, or when the process dies unasked. */
  until(test: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    return untilAll([this], test, what, timeoutMs);
  }

  /** Calls `check` after every message and at exit; returns the unsubscribe function. */
  watch(check: () => void): () => void {
    this.waiters.push(check);
    return () => (this.waiters = this.waiters.filter((w) => w !== check));
  }

  /** Why waiting on this process is pointless: it crashed or exited; undefined while it runs. */
  failure(): string | undefined {
    if (this.crash) return `${this.describe()} ${this.crash}\n--- output ---\n${this.outputTail}`;
    if (this.exit)
      return `${this.describe()} exited (code ${this.exit.code}, signal ${this.exit.signal})`;
    return undefined;
  }

  /** Last lines the process wrote to stdout and stderr, and its last engine log lines. */
  get outputTail(): string {
    const logs = this.logs.slice(-15).map((l) => `[${l.level}] ${l.message}`);
    return `${this.output}${logs.join('\n')}`;
  }

  /** Kills the process if it still runs (cleanup). */
  async dispose(): Promise<void> {
    if (!this.exit) this.kill('SIGKILL');
    await this.exited;
  }

  /** Fails with the reason if the process crashed (died without being told to). */
  assertNoCrash(): void {
    if (this.crash) throw new Error(`${this.describe()} ${this.crash}\n${this.output}`);
  }

  describe(): string {
    return `${this.label} (pid ${this.child.pid}; ${this.startedCount} started, ${this.finishedCount} finished)`;
  }

  private onMessage(message: ChildMessage): void {
    switch (message.type) {
      case 'ready':
        this.readyAt = message.at;
        break;
      case 'events':
        for (const event of message.events) this.onEvent(event);
        break;
      case 'closing':
        this.closingAt = message.at;
        break;
      case 'closed':
        this.closed = { at: message.at, closeMs: message.closeMs };
        break;
      case 'produced':
        this.produced = { enqueued: message.enqueued, rejected: message.rejected };
        break;
      case 'crash':
        this.crash = `crashed: ${message.message}`;
        break;
    }
    this.notify();
  }

  private onEvent(event: FixtureEvent): void {
    switch (event.kind) {
      case 'started':
        this.startedCount++;
        this.startTimes.push(event.at);
        this.started.set(event.id, (this.started.get(event.id) ?? 0) + 1);
        if (event.at >= this.markAt) this.firstStartAfterMark ??= event.at;
        break;
      case 'finished':
        this.finishedCount++;
        this.lastFinishAt = event.at;
        this.finished.set(event.id, (this.finished.get(event.id) ?? 0) + 1);
        break;
      case 'enqueued':
        this.enqueued.push(event.id);
        break;
      case 'rejected':
        this.rejected.push({ id: event.id, error: event.error, at: event.at });
        break;
      case 'log':
        this.logs.push(event);
        break;
    }
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}

/**
 * Resolves once `test()` holds, checked after each message of any of `processes`;
 * rejects after `timeoutMs` or as soon as one of them crashes or exits.
 */
export function untilAll(
  processes: readonly AppProcess[],
  test: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let unsubscribe: (() => void)[] = [];
    const finish = (err?: Error) => {
      clearTimeout(timer);
      for (const off of unsubscribe) off();
      unsubscribe = [];
      if (err) reject(err);
      else resolve();
    };
    const check = () => {
      if (test()) return finish();
      const failed = processes.map((p) => p.failure()).find((f) => f !== undefined);
      if (failed) finish(new Error(`While waiting for ${what}: ${failed}`));
    };
    const timer = setTimeout(() => {
      const state = processes.map((p) => p.describe()).join('; ');
      const tails = processes.map((p) => `--- ${p.label} ---\n${p.outputTail}`).join('\n');
      finish(new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${state})\n${tails}`));
    }, timeoutMs);
    unsubscribe = processes.map((p) => p.watch(check));
    check();
  });
}
