import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A free TCP port on loopback, as the kernel hands it out. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server of the bench's own, on a free port, with persistence off: its
 * command statistics and memory are the bench's alone, and the shared Redis at 6379
 * is never touched (no FLUSHALL or CONFIG there).
 */
export class BenchRedis {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
    /** Connection for the bench's own inspection and set-up. */
    readonly admin: Redis,
  ) {}

  static async start(): Promise<BenchRedis> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'flume-bench-redis-'));
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`redis-server exited early (code ${code})`))),
    );
    // Refused until the server listens: ioredis reconnects every 50 ms and holds the PING.
    const admin = new Redis({
      host: '127.0.0.1',
      port,
      retryStrategy: () => 50,
      maxRetriesPerRequest: null,
    });
    admin.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('redis-server did not answer within 10 s')),
        10_000,
      );
    });
    try {
      await Promise.race([admin.ping(), exited, timeout]);
    } catch (err) {
      admin.disconnect();
      child.kill('SIGKILL');
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return new BenchRedis(port, child, dir, admin);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async version(): Promise<string> {
    const info = String(await this.admin.info('server'));
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  }

  /** Empties this server: it is the bench's own, so nothing else lives here. */
  async flush(): Promise<void> {
    await this.admin.flushall();
  }

  /** Stops the server (SIGTERM, then SIGKILL after 3 s) and removes its directory. */
  async stop(): Promise<void> {
    this.admin.disconnect();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** For exit handlers: synchronous, best effort. */
  killNow(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
