import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { ChaosAppConfig } from '../fixtures/config.js';
import type { ChildMessage, Command, ParentMessage } from '../fixtures/messages.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/**
 * One app process of the chaos run (a worker or a producer), seen from the run: its
 * lifecycle (ready, closing, closed, exit), its replies to commands, and its whole
 * output in a log file of its own (`<label>-<pid>.log` in the run's log folder).
 */
export class ChildApp {
  readonly pid: number;
  readonly startedAt = Date.now();
  readyAt?: number;
  closingAt?: number;
  closed?: { at: number; closeMs: number };
  exit?: ChildExit;
  crash?: string;
  readonly exited: Promise<ChildExit>;
  readonly logFile: string;

  private readonly child: ChildProcess;
  private readonly replies = new Map<
    number,
    { resolve: (data: Record<string, unknown> | undefined) => void; reject: (e: Error) => void }
  >();
  private nextReq = 0;
  /** Checks of pending waits; each returns true once its wait is over. */
  private readonly waiters = new Set<() => boolean>();

  constructor(
    readonly label: string,
    readonly config: ChaosAppConfig,
    main: string,
    logDir: string,
  ) {
    this.logFile = join(logDir, `${label}.log`);
    const fd = openSync(this.logFile, 'a');
    this.child = fork(main, [], {
      env: { ...process.env, CHAOS_APP: JSON.stringify(config) },
      stdio: ['ignore', fd, fd, 'ipc'],
      // Where a warning (a listener leak, a deprecation) comes from, in the process's log.
      execArgv: ['--trace-warnings'],
    });
    closeSync(fd);
    this.pid = this.child.pid!;
    appendFileSync(
      this.logFile,
      `--- ${label}: pid ${this.pid} started ${new Date().toISOString()}\n`,
    );
    this.child.on('message', (message: ChildMessage) => this.onMessage(message));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        for (const { reject } of this.replies.values()) {
          reject(new Error(`${this.describe()} exited (code ${code}, signal ${signal})`));
        }
        this.replies.clear();
        this.notify();
        resolve(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Resolves once the app booted; rejects if it exits first or after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    return this.until(() => this.readyAt !== undefined, 'boot', timeoutMs);
  }

  /** Resolves once the app reported app.close() done; rejects at exit or after `timeoutMs`. */
  untilClosed(timeoutMs: number): Promise<void> {
    return this.until(() => this.closed !== undefined, 'close', timeoutMs);
  }

  /** Sends `command`; resolves to its reply's data, rejects with its error or after `timeoutMs`. */
  request(command: Command, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    if (!this.running || !this.child.connected) {
      return Promise.reject(new Error(`${this.describe()} is not running`));
    }
    const req = ++this.nextReq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(req);
        reject(
          new Error(`${this.describe()} did not answer ${command.type} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.replies.set(req, {
        resolve: (data) => {
          clearTimeout(timer);
          resolve(data);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      const message: ParentMessage = { ...command, req };
      this.child.send(message, (err) => {
        if (err) this.replies.get(req)?.reject(err);
      });
    });
  }

  kill(signal: 'SIGTERM' | 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }

  describe(): string {
    return `${this.label} (pid ${this.pid})`;
  }

  private until(test: () => boolean, what: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (test()) {
          clearTimeout(timer);
          resolve();
          return true;
        }
        if (this.exit) {
          clearTimeout(timer);
          const why = this.crash
            ? `crashed: ${this.crash}`
            : `exited (${JSON.stringify(this.exit)})`;
          reject(new Error(`${this.describe()} ${why} before its ${what}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.describe()}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  private onMessage(message: ChildMessage): void {
    switch (message.type) {
      case 'ready':
        this.readyAt = message.at;
        break;
      case 'reply': {
        const waiter = this.replies.get(message.req);
        this.replies.delete(message.req);
        if (message.ok) waiter?.resolve(message.data);
        else waiter?.reject(new Error(message.error));
        break;
      }
      case 'closing':
        this.closingAt = message.at;
        break;
      case 'closed':
        this.closed = { at: message.at, closeMs: message.closeMs };
        break;
      case 'crash':
        this.crash = message.message;
        break;
    }
    this.notify();
  }

  private notify(): void {
    for (const check of [...this.waiters]) if (check()) this.waiters.delete(check);
  }
}
