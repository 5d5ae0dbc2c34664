import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Resolves to a TCP port nobody listens on now. */
export function freePort(): Promise<number> {
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

export interface RedisServerOptions {
  /** Turn the append-only file on, in a temporary folder kept across restarts. */
  aof?: boolean;
  /** More `redis-server` arguments, e.g. ['--maxmemory-policy', 'allkeys-lru']. */
  args?: string[];
}

/**
 * A redis-server of the test's own, on a free port, for specs that stop, restart or
 * reconfigure Redis: the shared Redis on 6379 is never touched. Startup is awaited
 * on the server's own "Ready to accept connections" line, not by polling.
 */
export class RedisServer {
  private process?: ChildProcess;
  private exited?: Promise<void>;
  private readonly dir: string;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'flume-test-redis-'));
  }

  /** A server on a free port, not started yet: nothing listens there until `start()`. */
  static async create(options: RedisServerOptions = {}): Promise<RedisServer> {
    return new RedisServer(await freePort(), options);
  }

  /** A server on a free port, started. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = await RedisServer.create(options);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** Starts (again) on the same port and folder; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.process) throw new Error(`redis-server on ${this.port} is already running`);
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      this.dir,
    ];
    if (this.options.aof) args.push('--appendonly', 'yes');
    args.push(...(this.options.args ?? []));
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => {
      if (this.process === child) this.process = undefined;
    });
    this.output = '';
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-8_000));
    // Read its log for as long as it runs: a full pipe would block redis-server.
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        if (err) reject(err);
        else resolve();
      };
      const onData = () => {
        if (this.output.includes('Ready to accept connections')) done();
      };
      const onExit = (code: number | null) =>
        done(new Error(`redis-server on ${this.port} exited with ${code}:\n${this.output}`));
      const timer = setTimeout(
        () => done(new Error(`redis-server on ${this.port} did not start:\n${this.output}`)),
        10_000,
      );
      child.stdout!.on('data', onData);
      child.once('exit', onExit);
    });
  }

  /**
   * Stops Redis: SIGTERM shuts it down cleanly (the AOF is flushed and synced),
   * SIGKILL is a crash. Resolves once the process is gone.
   */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.process;
    if (!child) return;
    child.kill(signal);
    await this.exited;
  }

  /** Stops Redis if it runs and deletes its folder. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
