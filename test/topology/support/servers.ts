import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from '../../support/redis-server.js';
import { ServerGroup } from '../../support/server-processes.js';

/** Arguments every test redis-server gets: local only, nothing written to disk. */
export const EPHEMERAL = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];

/** A redis-server of a topology spec, with a plain admin connection. */
export interface StartedRedis {
  port: number;
  admin: Redis;
}

/**
 * The servers of one spec (redis-server, sentinels) and the connections the spec
 * opens to check on them; `stop()` in afterAll ends them all.
 */
export class Topology {
  readonly group: ServerGroup;
  private readonly clients = new Set<Redis>();

  constructor(name: string) {
    this.group = new ServerGroup(name);
  }

  get dir(): string {
    return this.group.dir;
  }

  /** Starts a redis-server on a free port with `args`; resolves once it accepts connections. */
  async redis(args: string[] = [], admin: RedisOptions = {}): Promise<StartedRedis> {
    const port = await freePort();
    await this.group.spawn(['--port', String(port), ...EPHEMERAL, ...args]);
    return { port, admin: this.connect({ port, ...admin }) };
  }

  /** A connection for the test itself; closed by stop(). */
  connect(options: RedisOptions): Redis {
    const redis = new Redis({ host: '127.0.0.1', ...options });
    redis.on('error', () => undefined);
    this.clients.add(redis);
    return redis;
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    await this.group.stopAll();
  }
}

/** Polls `read` until `accept` holds; rejects after `timeoutMs` naming `what`. */
export async function until<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await read();
      if (accept(last)) return last;
    } catch {
      // Not there yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
