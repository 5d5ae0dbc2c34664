import { fork, type ChildProcess } from 'node:child_process';
import type { ParentMessage, WorkerMessage, WorkerProcessSpec } from './protocol.js';

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
    // Own execArgv so that a profiled bench (--cpu-prof) does not profile its children
    // too; --expose-gc for the after-GC memory samples of row 7.
    const child = fork(new URL('./worker-process.js', import.meta.url), [JSON.stringify(spec)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
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
