import { Redis, type RedisOptions } from 'ioredis';
import { FlumeConnectionError } from './errors/index.js';
import type { FlumeLogger } from './logger.js';
import type { FlumeConnectionOptions } from './options.js';

/** Reconnect quickly at first, then every 2 s at most: workers resume soon after an outage. */
const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** attempt, 2_000);

/** After a failover the old master answers READONLY: reconnect and send the command again. */
const reconnectOnError = (err: Error): 2 | false =>
  err.message.startsWith('READONLY') ? 2 : false;

/** Where a connection goes, for messages: host and port only, never credentials. */
export function describeTarget(options: RedisOptions): string {
  return options.path ?? `${options.host ?? '127.0.0.1'}:${options.port ?? 6379}`;
}

/**
 * Creates and watches the engine's Redis connections. The command connection fails
 * fast while Redis is away (no offline queue), so nothing waits forever; each
 * pipeline has a blocking connection of its own to wait for new jobs on.
 */
export class RedisConnections {
  /** Enqueues, scripts and queries. */
  readonly command: Redis;
  private readonly blocking = new Set<Redis>();
  private closing?: Promise<void>;

  constructor(
    private readonly source: FlumeConnectionOptions | Redis,
    private readonly name: string,
    commandTimeout: number,
    private readonly logger: FlumeLogger,
  ) {
    this.command = this.create({
      enableOfflineQueue: false,
      commandTimeout,
      connectionName: `${name}:command`,
    });
  }

  /** Where Redis is, for messages. */
  get target(): string {
    return describeTarget(this.command.options);
  }

  /** A new connection for blocking commands; closed with the others. */
  createBlocking(label: string): Redis {
    const redis = this.create({
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      connectionName: `${this.name}:${label}`,
    });
    this.blocking.add(redis);
    return redis;
  }

  /** Resolves when `redis` is ready; rejects with FlumeConnectionError after `timeoutMs`. */
  async ready(redis: Redis = this.command, timeoutMs = redis.options.commandTimeout ?? 5_000) {
    if (redis.status === 'ready') return;
    if (redis.status === 'wait') redis.connect().catch(() => undefined);
    if (redis.status === 'end') {
      throw new FlumeConnectionError(
        'The Redis connection is closed: the Flume module has shut down.',
      );
    }
    let timer: NodeJS.Timeout | undefined;
    let onReady: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        onReady = resolve;
        redis.once('ready', onReady);
        timer = setTimeout(
          () =>
            reject(
              new FlumeConnectionError(
                `Redis at ${describeTarget(redis.options)} did not become ready within ${timeoutMs} ms ` +
                  `(status: ${redis.status}). Is redis-server running, and is the connection option right?`,
              ),
            ),
          timeoutMs,
        );
      });
    } finally {
      clearTimeout(timer);
      if (onReady) redis.off('ready', onReady);
    }
  }

  /** Closes every connection; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    for (const redis of this.blocking) redis.disconnect();
    try {
      if (this.command.status === 'ready') await this.command.quit();
    } catch {
      // Already gone: nothing left to flush.
    } finally {
      this.command.disconnect();
    }
  }

  private create(extra: RedisOptions): Redis {
    const base: RedisOptions = { lazyConnect: true, retryStrategy, reconnectOnError, ...extra };
    const source = this.source;
    let redis: Redis;
    if (source instanceof Redis) {
      redis = source.duplicate(base);
    } else if (source.url !== undefined) {
      const { url, tls, ...rest } = source;
      redis = new Redis(url, { ...rest, ...tlsOption(tls), ...base });
    } else {
      const { tls, ...rest } = source;
      redis = new Redis({ ...rest, ...tlsOption(tls), ...base });
    }
    this.watch(redis, extra.connectionName ?? this.name);
    redis.connect().catch(() => undefined);
    return redis;
  }

  /** Logs when a connection goes down and when it is back: once each, not per retry. */
  private watch(redis: Redis, label: string): void {
    let down = false;
    let since = 0;
    redis.on('error', (err: Error) => {
      if (down) return;
      down = true;
      since = Date.now();
      this.logger.error(
        `Redis connection "${label}" to ${describeTarget(redis.options)} failed: ${err.message}. ` +
          'Retrying in the background; jobs wait in Redis meanwhile.',
      );
    });
    redis.on('ready', () => {
      if (!down) return;
      down = false;
      this.logger.log(
        `Redis connection "${label}" to ${describeTarget(redis.options)} is back after ${Date.now() - since} ms.`,
      );
    });
  }
}

function tlsOption(tls: FlumeConnectionOptions['tls']): Pick<RedisOptions, 'tls'> {
  if (tls === undefined) return {};
  return { tls: tls === true ? {} : tls };
}
