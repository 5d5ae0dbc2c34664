import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Output kept per server, for the message when it does not start. */
const KEEP_OUTPUT = 4_000;

export interface SpawnOptions {
  /** Executable. Default redis-server. */
  bin?: string;
  /** A line of output that says the server is up. Default: Redis's "Ready to accept connections". */
  ready?: RegExp;
  timeoutMs?: number;
}

interface Running {
  child: ChildProcess;
  watchdog: ChildProcess;
  output: string;
}

/**
 * Servers a spec starts for itself (redis-server, sentinels), in a temp dir of their
 * own. They never outlive the test process: `stopAll()` in afterAll, a kill on
 * process exit, and a watchdog shell per server that kills it once the test process
 * is gone (even after a SIGKILL, which runs no exit handler).
 */
export class ServerGroup {
  readonly dir: string;
  private readonly running = new Map<ChildProcess, Running>();
  private readonly onExit = () => this.killAllNow();

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `flume-${prefix}-`));
    process.once('exit', this.onExit);
  }

  /** Starts `bin args` and resolves once it prints the `ready` line. */
  async spawn(args: string[], options: SpawnOptions = {}): Promise<ChildProcess> {
    const {
      bin = 'redis-server',
      ready = /Ready to accept connections/,
      timeoutMs = 10_000,
    } = options;
    const child = spawn(bin, args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const watchdog = spawn(
      'sh',
      [
        '-c',
        `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 0.5; done; kill -9 ${child.pid} 2>/dev/null`,
      ],
      { stdio: 'ignore', detached: true },
    );
    watchdog.unref();
    const entry: Running = { child, watchdog, output: '' };
    this.running.set(child, entry);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail('did not start in time'), timeoutMs);
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`${bin} ${args.join(' ')} ${why}. Output:\n${entry.output}`));
      };
      const onData = (chunk: Buffer) => {
        // Drained for the whole life of the server: a full pipe would block its logging.
        entry.output = (entry.output + chunk.toString()).slice(-KEEP_OUTPUT);
        if (ready.test(entry.output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => fail(`exited with ${code}`));
      child.once('error', (err) => fail(`failed: ${err.message}`));
    });
    return child;
  }

  /** Kills one server (SIGKILL: an outage, not a clean shutdown) and waits for its exit. */
  async kill(child: ChildProcess): Promise<void> {
    const entry = this.running.get(child);
    this.running.delete(child);
    entry?.watchdog.kill('SIGKILL');
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Runs a command to completion (redis-cli, openssl) in the group's dir; resolves to stdout. */
  run(bin: string, args: string[], timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(bin, args, { cwd: this.dir, timeout: timeoutMs }, (err, stdout, stderr) => {
        if (err)
          reject(new Error(`${bin} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      });
    });
  }

  /** Kills every server and removes the temp dir. Idempotent. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((child) => this.kill(child)));
    process.off('exit', this.onExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private killAllNow(): void {
    for (const { child, watchdog } of this.running.values()) {
      child.kill('SIGKILL');
      watchdog.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
